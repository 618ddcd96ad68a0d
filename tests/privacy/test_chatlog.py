"""ChatLog stores only redacted text; the raw PII never reaches the database files."""
from __future__ import annotations

import pytest

from assistant.privacy import ChatLog


def db_bytes(path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-journal"):
        p = path.parent / (path.name + suffix)
        if p.exists():
            data += p.read_bytes()
    return data


def test_only_redacted_text_is_stored(tmp_path):
    chat = ChatLog.for_home(tmp_path)
    chat.add("s1", "user", "I'm jane.roe@example.com, call +44 20 7946 0958; card 4111-1111-1111-1111. "
                           "Want a $1,299.99 laptop, size 10.5, model WH-1000XM4", user_id="u1")
    chat.add("s1", "assistant", "Here are three laptops.", user_id="u1")
    [msg, reply] = chat.history("s1")
    assert msg.text == ("I'm [email], call [phone]; card [card]. "
                        "Want a $1,299.99 laptop, size 10.5, model WH-1000XM4")
    assert (msg.role, reply.role, msg.user_id, msg.session_id) == ("user", "assistant", "u1", "s1")
    assert msg.ts <= reply.ts
    chat.close()
    raw = db_bytes(tmp_path / "chat.sqlite")
    for secret in (b"jane.roe", b"7946", b"4111"):
        assert secret not in raw


def test_validation_and_limits(tmp_path):
    chat = ChatLog(tmp_path / "c.sqlite", max_chars=100)
    with pytest.raises(ValueError, match="role"):
        chat.add("s", "robot", "hi")
    with pytest.raises(ValueError, match="session_id"):
        chat.add("", "user", "hi")
    with pytest.raises(ValueError, match="user_id"):
        chat.add("s", "user", "hi", user_id="")
    assert chat.count() == 0
    chat.add("s", "user", "x" * 1000 + "\ud800 surrogate")
    chat.add("s", "user", "nul\x00byte")
    texts = [m.text for m in chat.history("s")]
    assert len(texts[0]) == 100 and texts[1] == "nul\x00byte"
    assert [m.text for m in chat.history("s", limit=1)] == ["nul\x00byte"]


def test_forget_user_removes_their_sessions_only(tmp_path):
    chat = ChatLog.for_home(tmp_path)
    for i in range(3):
        chat.add("sa", "user", f"alice message {i}", user_id="alice-7f3a")
        chat.add("sa", "assistant", f"reply {i}")  # assistant turn without a user id, same session
        chat.add("sb", "user", f"bob message {i}", user_id="bob-19c2")
    chat.add("anon", "user", "anonymous")
    assert chat.forget_user("alice-7f3a") == 6
    assert chat.user_messages("alice-7f3a") == [] and chat.history("sa") == []
    assert len(chat.user_messages("bob-19c2")) == 3 and chat.count() == 4
    assert chat.forget_user("alice-7f3a") == 0
    chat.close()
    assert b"alice" not in db_bytes(tmp_path / "chat.sqlite")
