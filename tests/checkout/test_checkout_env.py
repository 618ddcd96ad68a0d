"""Each checkout runs its own code: two clones that share the cached dependencies must not import
each other's packages (issue 11: a second clone's `make venv` redirected the first clone's
`shopassist`, which broke once that clone was deleted)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _cache_of_this_checkout() -> tuple[str, str]:
    """(VENV_CACHE, key) of the dependency cache this checkout's .venv uses, read from its .pth."""
    venv = REPO / ".venv"
    markers = glob.glob(str(venv / ".env-*"))
    pth = glob.glob(str(venv / "lib" / "python*" / "site-packages" / "_shopassist_deps.pth"))
    if venv.is_symlink() or not markers or not pth:
        pytest.skip("this checkout's .venv was not made by `make venv` (thin per-checkout venv)")
    line = Path(pth[0]).read_text()
    site = line.split("addsitedir('", 1)[1].split("'", 1)[0]   # <cache>/<key>/lib/pythonX.Y/site-packages
    key_dir = Path(site).parents[2]
    if not (key_dir / ".complete").exists():
        pytest.skip(f"dependency cache {key_dir} is incomplete")
    return str(key_dir.parent), key_dir.name


def _run(cmd, cwd, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, **kw)


def _where_is_assistant(clone: Path) -> str:
    out = _run([str(clone / ".venv/bin/python"), "-c", "import assistant; print(assistant.__file__)"], cwd="/")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_two_clones_each_run_their_own_code(tmp_path):
    cache, key = _cache_of_this_checkout()
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git and make")
    clones = []
    for name in ("a", "b"):
        dest = tmp_path / name
        out = _run(["git", "clone", "-q", str(REPO), str(dest)], cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        # the clone must get the same dependency key as this checkout (same pyproject at HEAD)
        out = _run(["make", "-s", "venv", f"VENV_CACHE={cache}", f"PYTHON={sys.base_prefix}/bin/python3"], cwd=dest)
        assert out.returncode == 0, out.stdout + out.stderr
        clones.append(dest)
    a, b = clones
    # A's interpreter and A's CLI import A's code, even though B ran `make venv` after A
    assert _where_is_assistant(a).startswith(str(a) + os.sep)
    assert _where_is_assistant(b).startswith(str(b) + os.sep)
    shutil.rmtree(b)
    assert _where_is_assistant(a).startswith(str(a) + os.sep)
    cli = _run([str(a / ".venv/bin/shopassist"), "--help"], cwd="/")
    assert cli.returncode == 0 and "usage: shopassist" in cli.stdout, cli.stderr
    # the script itself must use A's interpreter (a shared one would resolve to the cache)
    assert Path(cli.args[0]).read_text().splitlines()[0] == f"#!{a}/.venv/bin/python"
    # and no second copy of the dependencies was built for the clones
    assert (a / ".venv" / f".env-{key}").exists()
