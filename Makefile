# Two commands for a fresh machine:  `make run`  and  `make test`.
# The dependencies live in a cache keyed by everything that decides them (pyproject.toml's
# dependency lists, TORCH_SPEC, EXTRAS, Python version), so a fresh clone (CI) reuses an unchanged
# environment instead of reinstalling gigabytes. Each checkout gets its OWN thin `.venv` on top of
# that cache (a .pth adds the cached site-packages; this checkout is editable-installed into its
# own .venv only), so one clone's `make venv` never redirects another clone's `shopassist`.
PYTHON     ?= python3
# CPU build from the local wheel; GPU users: make run TORCH_SPEC="torch==2.13.0" EXTRAS=...,gpu
TORCH_SPEC ?= torch==2.13.0
EXTRAS     ?= llamacpp,llm-small,llm-default,servers,test
VENV_CACHE ?= $(HOME)/.cache/shopassist/venvs
HOST       ?= 127.0.0.1
PORT       ?= 7860
PYTEST_ARGS ?=

# Key = the dependency lists only (editing markers, scripts or metadata reuses the environment).
ENV_KEY := $(shell $(PYTHON) -c 'import tomllib,json;p=tomllib.load(open("pyproject.toml","rb"))["project"];print(json.dumps([p["dependencies"],p["optional-dependencies"]],sort_keys=True))' | (cat; echo "$(TORCH_SPEC) $(EXTRAS)"; $(PYTHON) -V) | sha256sum | cut -c1-16)
VENV_DIR := $(VENV_CACHE)/$(ENV_KEY)
VENV := .venv
BIN := $(VENV)/bin

export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test venv chromium clean-venv

$(VENV_DIR)/.complete:
	@echo ">> creating environment $(VENV_DIR) (first time only; later runs reuse it)"
	@mkdir -p $(VENV_CACHE)
	@# one builder at a time per cache (clones and CI may start at once); a waiter finds it complete
	flock $(VENV_CACHE)/.build.lock sh -ec 'test -f $@ && exit 0; \
	  rm -rf $(VENV_DIR); $(PYTHON) -m venv $(VENV_DIR); \
	  $(VENV_DIR)/bin/pip install -q --upgrade pip setuptools wheel; \
	  $(VENV_DIR)/bin/pip install -q "$(TORCH_SPEC)"; \
	  $(VENV_DIR)/bin/pip install -q ".[$(EXTRAS)]"; \
	  $(VENV_DIR)/bin/pip uninstall -q -y shopassist; \
	  touch $@'

# The thin per-checkout environment: its own interpreter prefix, the cached dependencies via a .pth,
# this checkout's code via its own editable install, and the cache's console scripts (chroma, ...)
# linked in. Rebuilt when the cache key changes (or when .venv is still an old-style symlink).
SITE := lib/python$(shell $(PYTHON) -c 'import sys;print(f"{sys.version_info[0]}.{sys.version_info[1]}")')/site-packages
$(VENV)/.env-$(ENV_KEY): $(VENV_DIR)/.complete
	@rm -rf $(VENV)
	@# an older Makefile editable-installed its checkout into the cache itself: take that out
	@$(VENV_DIR)/bin/pip uninstall -q -y shopassist >/dev/null 2>&1 || true
	@$(PYTHON) -m venv --without-pip $(VENV)
	@echo "import site; site.addsitedir('$(abspath $(VENV_DIR))/$(SITE)')" > $(VENV)/$(SITE)/_shopassist_deps.pth
	@$(VENV_DIR)/bin/pip --python $(VENV)/bin/python install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1
	@for f in $(VENV_DIR)/bin/*; do n=$$(basename $$f); [ -e $(BIN)/$$n ] || ln -s $$f $(BIN)/$$n; done
	@touch $@

venv: $(VENV)/.env-$(ENV_KEY)

# Debian's chromium for the browser test (no browser download by Playwright), and a CJK font so the
# Chinese example request and answers render as characters, not boxes, in tests and screenshots.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo ">> could not install chromium; browser tests will be skipped"
	@test -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || (apt-get install -y -qq fonts-wqy-microhei >/dev/null \
	  || (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null)) \
	  || echo ">> could not install fonts-wqy-microhei; Chinese text will render as boxes in screenshots"

run: venv
	$(BIN)/shopassist serve --host $(HOST) --port $(PORT)

test: venv chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)


clean-venv:
	rm -rf $(VENV_DIR) $(VENV)
