"""`shopassist chat` against a stand-in Engine (the real one is tested with the app)."""
from __future__ import annotations

import io
import sys
import types
from dataclasses import dataclass, field

from assistant.cli import main


@dataclass
class _Result:
    reply: str
    products: list = field(default_factory=list)


class _FakeEngine:
    calls: list = []

    def __init__(self, settings):
        self.settings = settings

    def prepare(self, progress=print):
        progress("ready")

    def chat(self, message, user_id=None, session_id=None, catalog=None):
        _FakeEngine.calls.append((message, user_id, session_id))
        return _Result("Here are 1 matches for lipstick:",
                       [{"id": "L1", "title": "Red Lipstick", "price": 9.5, "currency": "USD",
                         "why": "matches 'lipstick'"}])


def test_chat_loop(tmp_home, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "assistant.engine", types.SimpleNamespace(Engine=_FakeEngine))
    monkeypatch.setattr(sys, "stdin", io.StringIO("red lipstick\n\n/reset\ncheaper\n/quit\nnever read\n"))
    _FakeEngine.calls = []
    assert main(["chat", "--user", "u1", "--session", "s1"]) == 0
    out = capsys.readouterr().out
    assert "1. Red Lipstick  $9.50" in out and "why: matches 'lipstick'" in out
    assert [c[0] for c in _FakeEngine.calls] == ["red lipstick", "cheaper"]
    assert _FakeEngine.calls[0][1:] == ("u1", "s1") and _FakeEngine.calls[1][2] != "s1"   # /reset: new session
