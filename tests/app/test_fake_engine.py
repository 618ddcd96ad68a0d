"""tests/app/fake_engine.py stands in for the real Engine in the handler and UI tests: it must keep
the signatures of every Engine method the app calls, or those tests pass against an API that no
longer exists (issue 11). The list of methods is read from the app's own code, so a new call is
checked without editing this test."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from fake_engine import FakeEngine

from assistant.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
APP_FILES = ("assistant/handlers.py", "assistant/ui.py", "assistant/commands/serve.py", "app.py")


def called_engine_methods() -> list[str]:
    names = set()
    for rel in APP_FILES:
        names.update(re.findall(r"\bengine\.([a-z]\w*)\(", (ROOT / rel).read_text(encoding="utf-8")))
    return sorted(names)


def shape(fn) -> list[tuple]:
    """Parameter names, kinds and defaults (annotations aside: the fake has none)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_the_app_calls_the_engine_methods_we_expect():
    assert {"chat", "chat_stream", "recommend", "search", "record_event", "lab", "catalogs",
            "demo_users", "import_catalog"} <= set(called_engine_methods())


@pytest.mark.parametrize("name", called_engine_methods())
def test_fake_engine_matches_the_engine_signature(name):
    assert callable(getattr(Engine, name, None)), f"the app calls engine.{name}(), which Engine lacks"
    assert callable(getattr(FakeEngine, name, None)), f"FakeEngine lacks {name}()"
    assert shape(getattr(FakeEngine, name)) == shape(getattr(Engine, name)), name
