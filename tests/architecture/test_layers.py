"""The layering, checked two ways anyone can rerun (`pytest tests/architecture -q`):

1. Each module is imported alone in a fresh interpreter: it imports, it loads nothing from a layer
   above it (retrieval < ranking < assistant; the entry points cli / commands / app.py on top), and
   no heavy optional dependency (torch, transformers, chromadb, gradio, ...) is loaded by importing it.
2. The import graph read from the source, function-level imports included (plus the command modules
   that assistant/cli.py loads by name), has no cycle, and no import points upward. A function-level
   import of a project module is allowed only in the entry points, which defer the engine so that
   `shopassist --help` is instant: a lazy import defers a heavy dependency, it never hides a cycle.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("retrieval", "ranking", "assistant")
LAYER = {"retrieval": 0, "ranking": 1, "assistant": 2}
ENTRY_POINTS = ("app", "assistant.cli", "assistant.commands")   # may import anything, lazily too
HEAVY = ("torch", "transformers", "sentence_transformers", "chromadb", "gradio", "xllamacpp", "implicit",
         "bm25s", "bitsandbytes", "httpx")


def _modules() -> dict[str, Path]:
    out = {"app": REPO / "app.py"}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _layer(module: str) -> float:
    if module == "app" or module == "assistant.cli" or module.startswith("assistant.commands"):
        return 3
    return LAYER[module.split(".")[0]]


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """Project modules an import statement loads (`from retrieval import store` -> retrieval.store)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    base = node.module or ""
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
        for _ in range(node.level - 1):
            package = package.rsplit(".", 1)[0]
        base = f"{package}.{base}" if base else package
    found = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
    return found or ([base] if base in MODULES else [])


def _graph() -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    """module -> project modules it imports (anywhere in it); and the function-level ones."""
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    lazy = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(module, node):
                    if target != module:
                        edges[module].add(target)
                        if id(node) not in top:
                            lazy.append((module, node.lineno, target))
    from assistant.cli import COMMAND_MODULES   # loaded by name with importlib
    edges["assistant.cli"] |= {f"assistant.commands.{name}" for name in COMMAND_MODULES}
    return edges, lazy


def test_no_import_points_upward():
    edges, _ = _graph()
    upward = [f"{m} -> {t}" for m, targets in edges.items() for t in sorted(targets) if _layer(t) > _layer(m)]
    assert not upward, "imports from a layer above: " + ", ".join(upward)


def test_no_import_cycles_even_through_function_level_imports():
    edges, _ = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(cycles)


def test_lazy_project_imports_only_in_the_entry_points():
    _, lazy = _graph()
    hidden = [f"{m}:{line} imports {t} inside a function" for m, line, t in lazy
              if not (m == "app" or m == "assistant.cli" or m.startswith("assistant.commands"))]
    assert not hidden, "; ".join(hidden)


_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_alone_in_a_fresh_interpreter(module):
    proc = subprocess.run([sys.executable, "-c", _PROBE, module], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    above = [m for m in loaded if m in MODULES and _layer(m) > _layer(module)]
    assert not above, f"importing {module} loaded {above} from a layer above it"
    heavy = sorted({m.split(".")[0] for m in loaded} & set(HEAVY))
    assert not heavy, f"importing {module} loaded {heavy}: import them inside the function that needs them"
