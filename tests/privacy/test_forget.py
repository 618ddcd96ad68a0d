"""Forgetting a shopper: nothing of theirs remains in any table of the event and chat databases,
nor in the bytes of the files, nor in the live profile; other shoppers are untouched."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from assistant.privacy import ChatLog, forget_user

ALICE, BOB = "alice-7f3a9c", "bob-19c2e4"


def all_cells(db) -> list[tuple[str, tuple]]:
    """(table, row) for every row of every table (sqlite_master included)."""
    conn = sqlite3.connect(str(db))
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = [("sqlite_master", r) for r in conn.execute("SELECT * FROM sqlite_master")]
        for table in tables:
            out += [(table, r) for r in conn.execute(f'SELECT * FROM "{table}"')]
        return out
    finally:
        conn.close()


def mentions(db, needle: str) -> list[tuple[str, tuple]]:
    return [(t, r) for t, r in all_cells(db) if any(needle in str(v) for v in r)]


def file_bytes(db) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-journal"):
        p = db.parent / (db.name + suffix)
        if p.exists():
            data += p.read_bytes()
    return data


def tiny_catalog(n=8):
    from retrieval.catalog import Product
    from retrieval.catalog import Catalog

    products = [Product(id=f"p{i}", title=f"Product {i}", brand="Acme", category="Lipstick",
                        price=10.0 + i) for i in range(n)]
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(n, 16)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return Catalog("tiny", 1, products, emb, {"collection": "none", "embedder": "hashing"})


@pytest.fixture
def stores(tmp_path):
    from ranking.events import EventStore

    home = tmp_path / "home"
    events = EventStore(home / "events.sqlite")
    chat = ChatLog.for_home(home)
    for user in (ALICE, BOB):
        for i, etype in enumerate(["view", "click", "cart", "purchase"]):
            events.add({"user_id": user, "item_id": f"p{i}", "type": etype, "event_id": f"{user}-{i}"})
        events.add({"user_id": user, "type": "search", "value": f"lipstick for {user}"})
        chat.add(f"session-{user}", "user", f"hello, I am {user}", user_id=user)
        chat.add(f"session-{user}", "assistant", f"Welcome back {user}", user_id=user)
    yield home, events, chat
    events.close()
    chat.close()


def test_nothing_of_a_forgotten_user_remains(stores):
    home, events, chat = stores
    assert mentions(home / "events.sqlite", ALICE) and mentions(home / "chat.sqlite", ALICE)
    counts = forget_user(ALICE, events=events, chat=chat)
    assert counts == {"events": 5, "chat_messages": 2, "services": 0}
    events.close()
    chat.close()
    for db in (home / "events.sqlite", home / "chat.sqlite"):
        assert mentions(db, ALICE) == []
        assert ALICE.encode() not in file_bytes(db), f"{db.name} still holds the id in freed pages / WAL"
        assert mentions(db, BOB)
    assert forget_user(ALICE, home=home) == {"events": 0, "chat_messages": 0, "services": 0}


def test_forget_by_home_opens_the_stores(stores):
    home, events, chat = stores
    events.close()
    chat.close()
    assert forget_user(BOB, home=home) == {"events": 5, "chat_messages": 2, "services": 0}
    assert mentions(home / "events.sqlite", BOB) == [] and mentions(home / "chat.sqlite", BOB) == []
    assert forget_user("nobody", home=home / "empty") == {"events": 0, "chat_messages": 0, "services": 0}
    with pytest.raises(ValueError, match="user_id"):
        forget_user("", home=home)


def test_live_profile_is_dropped(tmp_path):
    from ranking.events import EventStore
    from ranking.service import RecommendationService

    events = EventStore(tmp_path / "events.sqlite")
    service = RecommendationService(tiny_catalog(), events, tmp_path / "models")
    for i in range(3):
        service.record({"user_id": ALICE, "item_id": f"p{i}", "type": "purchase"})
    service.record({"user_id": BOB, "item_id": "p5", "type": "click"})
    assert service.profiles.get(ALICE) is not None
    counts = forget_user(ALICE, services=[service])
    assert counts["events"] == 3 and counts["services"] == 1
    assert events.user_events(ALICE) == [] and len(events.user_events(BOB)) == 1
    assert service.profiles.get(ALICE) is None
    recs = service.recommend(ALICE, k=3)  # now an unknown shopper: popularity, no error
    assert len(recs) == 3
    events.close()
    assert mentions(tmp_path / "events.sqlite", ALICE) == []
