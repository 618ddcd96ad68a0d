"""End to end through the Engine: after `forget_user`, the shopper's id is in no table of any SQLite
database under the home and in no byte of any file there; PII typed in chat never reaches disk."""
from __future__ import annotations

import sqlite3

import pytest

ALICE, BOB = "alice-5d1e0b", "bob-8c44f2"


def sqlite_files(home):
    for path in sorted(home.rglob("*")):
        if path.is_file():
            with open(path, "rb") as fh:
                if fh.read(16) == b"SQLite format 3\x00":
                    yield path


def rows_mentioning(db, needle: str) -> list:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        hits = []
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            try:
                rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            except sqlite3.OperationalError:  # virtual tables of modules not loaded here (FTS)
                continue
            hits += [(table, r) for r in rows if any(needle in str(v) for v in r)]
        return hits
    finally:
        conn.close()


def files_containing(home, needle: str) -> list[str]:
    raw = needle.encode()
    return [str(p.relative_to(home)) for p in sorted(home.rglob("*")) if p.is_file() and raw in p.read_bytes()]


@pytest.fixture
def engine(tmp_path):
    from assistant.engine import Engine
    from assistant.settings import Settings

    colors = ["red", "pink", "nude", "black"]
    lines = ["id,title,brand,category,price"]
    lines += [f"L{i},{colors[i % 4]} matte lipstick {i},Acme,Lipstick,{5 + i}" for i in range(30)]
    lines += [f"S{i},gentle shampoo {i},Verde,Shampoo,{8 + i}" for i in range(20)]
    path = tmp_path / "shop.csv"
    path.write_text("\n".join(lines) + "\n")
    eng = Engine(Settings(home=tmp_path / "home", embedder="hashing", llm="none"))
    eng.import_catalog(path, "shop")
    return eng


def test_forget_leaves_nothing_anywhere(engine):
    home = engine.settings.home
    for user in (ALICE, BOB):
        for i, etype in enumerate(["view", "click", "cart", "purchase"]):
            engine.record_event(user, f"L{i}", etype, catalog="shop")
        engine.record_event(user, None, "search", value="red lipstick", catalog="shop")
        engine.chat(f"red lipstick under $20, I'm {user}, mail me at {user}@example.com or call +44 20 7946 0958",
                    user_id=user, catalog="shop")
        engine.chat("the second one", user_id=user, catalog="shop")
        assert engine.recommend(user, k=3, catalog="shop")

    # PII typed into the chat was never stored, for anyone
    for needle in ("@example.com", "7946 0958"):
        assert files_containing(home, needle) == [], needle
    assert any(rows_mentioning(db, ALICE) for db in sqlite_files(home))

    assert engine.service("shop").profile(ALICE)["n_events"] == 5
    counts = engine.forget_user(ALICE)
    assert counts["events"] == 5 and counts["chat_messages"] >= 4

    for db in sqlite_files(home):
        assert rows_mentioning(db, ALICE) == [], f"{db.relative_to(home)} still has rows about the user"
    assert files_containing(home, ALICE) == [], "the user id survives in these files"
    assert any(rows_mentioning(db, BOB) for db in sqlite_files(home))  # the other shopper is untouched
    profile = engine.service("shop").profile(ALICE)  # the live profile starts empty again
    assert profile["n_events"] == 0 and profile["recent"] == [] and profile["queries"] == []
