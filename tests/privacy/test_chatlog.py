"""ChatLog stores only redacted text; the raw PII never reaches the database files."""
from __future__ import annotations

import pytest

from assistant.privacy import ChatLog
from tests.conftest import write_transactions


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


def test_add_many_stores_a_turn_in_one_transaction(tmp_path):
    chat = ChatLog(tmp_path / "c.sqlite", max_chars=100)
    pii = "I'm jane.roe@example.com, call +44 20 7946 0958, card 4111-1111-1111-1111 " + "x" * 40
    one_by_one = [chat.add("s0", "user", pii, user_id="u1"), chat.add("s0", "assistant", "Here are three.")]
    trace: list[str] = []
    chat._conn().set_trace_callback(trace.append)
    ids = chat.add_many([("s1", "user", pii, "u1", 100.0), ("s1", "assistant", "Here are three.", "u1")])
    chat._conn().set_trace_callback(None)
    assert write_transactions(trace) == 1 and sum(s.startswith("INSERT") for s in trace) == 2
    assert ids[0] > one_by_one[-1] and ids[1] == ids[0] + 1
    msg, reply = chat.history("s1")
    old_msg, old_reply = chat.history("s0")
    assert (msg.id, reply.id) == tuple(ids)
    assert (msg.text, reply.text) == (old_msg.text, old_reply.text)   # redacted and truncated like add
    assert msg.text.startswith("I'm [email], call [phone], card [card] x") and msg.text.endswith("x" * 14)
    assert (msg.role, msg.user_id, msg.ts) == ("user", "u1", 100.0)
    assert (reply.role, reply.user_id) == ("assistant", "u1") and reply.ts > 100.0
    chat.close()


def test_add_many_is_all_or_nothing(tmp_path):
    chat = ChatLog(tmp_path / "c.sqlite")
    assert chat.add_many([]) == []
    for bad in [("s", "robot", "hi"), ("", "assistant", "hi"), ("s", "assistant", None), ("s", "user", "hi", "")]:
        with pytest.raises(ValueError):
            chat.add_many([("s", "user", "hello"), bad])
    assert chat.count() == 0
    assert len(chat.add_many([("s", "user", "hello")])) == 1 and chat.count() == 1
    assert chat.forget_session("s") == 1
    chat.close()


def test_a_number_cut_by_the_length_limit_is_still_redacted(tmp_path):
    # the card number straddles max_chars: redaction must see the whole number before the cut
    chat = ChatLog(tmp_path / "c.sqlite", max_chars=30)
    chat.add("s", "user", "x" * 20 + " 4111 1111 1111 1111 thanks")
    [msg] = chat.history("s")
    assert len(msg.text) <= 30
    assert "4111" not in msg.text and "1111" not in msg.text, msg.text
    chat.close()
    assert b"4111" not in db_bytes(tmp_path / "c.sqlite")
