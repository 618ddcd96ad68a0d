"""The event store and chat log on a real PostgreSQL server: the SQLite store's guarantees
(ack after commit, idempotent event_id, forget erases, schema version) plus the server's own
(clear error naming the URL, recovery after a restart without reopening the store)."""
from __future__ import annotations

import socket
import time

import pytest

pytestmark = pytest.mark.server


def _events(n: int, user: str = "u1", prefix: str = "e"):
    return [{"event_id": f"{prefix}{i}", "user_id": user, "item_id": f"i{i % 5}", "type": "view",
             "timestamp": 1_700_000_000 + i} for i in range(n)]


def test_add_is_idempotent_and_acked_with_seq(pg_url):
    from ranking.pg_events import PgEventStore

    store = PgEventStore(pg_url)
    a = store.add(_events(1)[0])
    again = store.add(_events(1)[0])
    assert (a.duplicate, again.duplicate, again.seq) == (False, True, a.seq)
    assert store.count() == 1 and store.user_watermark("u1") == (1, a.seq)
    # another store object (another worker) sees the committed event at once
    other = PgEventStore(pg_url)
    assert [e.event_id for e in other.user_events("u1")] == ["e0"]


def test_add_many_counts_duplicates_once(pg_url):
    from ranking.pg_events import PgEventStore

    store = PgEventStore(pg_url)
    first = store.add_many(_events(30), chunk_size=7)
    second = store.add_many(_events(40), chunk_size=11)   # 30 known + 10 new
    dup_inside = store.add_many([*_events(1, prefix="x"), *_events(1, prefix="x")])
    assert (first.inserted, first.duplicates) == (30, 0)
    assert (second.inserted, second.duplicates) == (10, 30)
    assert (dup_inside.inserted, dup_inside.duplicates) == (1, 1)
    assert store.count() == 41
    rows = list(store.iter_rows())
    assert len(rows) == 41 and rows[0][0] == "u1"
    assert [e.event_id for e in store.user_events("u1")][:3] == ["e0", "x0", "e1"]   # by time, then arrival


def test_validation_is_the_same_as_sqlite(pg_url):
    from ranking.events import EventValidationError
    from ranking.pg_events import PgEventStore

    store = PgEventStore(pg_url, known_items={"i0"})
    with pytest.raises(EventValidationError, match="Unknown item_id 'nope'"):
        store.add({"user_id": "u", "item_id": "nope", "type": "view"})
    with pytest.raises(EventValidationError, match="event #2: Expected type"):
        store.add_many([{"user_id": "u", "item_id": "i0", "type": "view"}, {"user_id": "u", "item_id": "i0", "type": "x"}])
    assert store.count() == 0


def test_forget_erases_events_and_chat(pg_url):
    from assistant.privacy import PgChatLog, forget_user
    from ranking.pg_events import PgEventStore

    store = PgEventStore(pg_url)
    store.add_many(_events(5, "gone") + _events(3, "kept", prefix="k"))
    chat = PgChatLog(pg_url)
    chat.add_many([("s1", "user", "mail me at a@b.example", "gone"), ("s1", "assistant", "ok", None)])
    chat.add("s2", "user", "hello", "kept")
    assert chat.history("s1")[0].text == "mail me at [email]"   # only redacted text reaches the server
    counts = forget_user("gone", database_url=pg_url)
    assert counts == {"events": 5, "chat_messages": 2, "services": 0}
    assert store.user_events("gone") == [] and store.count() == 3
    assert chat.history("s1") == [] and [m.text for m in chat.history("s2")] == ["hello"]


def test_schema_version_recorded_and_newer_refused(pg_url):
    import psycopg

    from ranking.events import SCHEMA_VERSION
    from ranking.pg_events import PgEventStore

    store = PgEventStore(pg_url)
    assert store.db.schema_version("events") == SCHEMA_VERSION
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE shopassist_schema SET version=99 WHERE component='events'")
    store.db._migrated.clear()
    with pytest.raises(RuntimeError, match="schema version 99, newer than this program's 1"):
        store.db.migrate("events", __import__("ranking.pg_events", fromlist=["x"]).MIGRATIONS)


def test_unreachable_server_names_url_and_what_to_start():
    from ranking.pg_events import PgEventStore
    from ranking.servers import ServerUnavailable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://someone:secret@127.0.0.1:{port}/db"
    started = time.monotonic()
    with pytest.raises(ServerUnavailable) as err:
        PgEventStore(url)
    text = str(err.value)
    assert f"postgresql://someone:***@127.0.0.1:{port}/db" in text and "secret" not in text
    assert "SHOPASSIST_DATABASE_URL" in text and "start PostgreSQL" in text
    assert time.monotonic() - started < 15


def test_restart_gives_clear_error_then_recovers_without_reopening(private_pg):
    from ranking.pg_events import PgEventStore
    from ranking.servers import ServerUnavailable

    store = PgEventStore(private_pg.url)
    store.add(_events(1)[0])
    private_pg.stop()
    with pytest.raises(ServerUnavailable, match="Could not reach PostgreSQL at .*Nothing was stored"):
        store.add(_events(2)[1])
    private_pg.start()
    ack = store.add(_events(2)[1])          # the same store object: the pool replaced its connections
    assert not ack.duplicate and store.count() == 2


def test_retry_after_an_unseen_commit_counts_the_event_once(pg_url, monkeypatch):
    """The connection breaks after the INSERT committed but before the ack reached us: the retry
    finds the row, stores nothing twice, and the ack still says it was new (not a duplicate)."""
    import psycopg

    from ranking.pg_events import PgEventStore

    store = PgEventStore(pg_url)
    real = store.db.pool.connection
    broke = {"n": 0}

    class Breaking:
        def __init__(self, cm):
            self.cm = cm

        def __enter__(self):
            return self.cm.__enter__()

        def __exit__(self, *exc):
            out = self.cm.__exit__(*exc)      # commits
            if broke["n"] == 0 and exc[0] is None:
                broke["n"] += 1
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            return out

    monkeypatch.setattr(store.db.pool, "connection", lambda *a, **k: Breaking(real(*a, **k)))
    ack = store.add(_events(1)[0])
    monkeypatch.undo()
    assert broke["n"] == 1
    assert ack.duplicate is False and store.count() == 1
    assert store.add(_events(1)[0]).duplicate is True   # a real repeat is still a duplicate


def test_bulk_import_keeps_arrival_order_for_equal_timestamps(pg_url):
    from ranking.pg_events import PgEventStore

    store = PgEventStore(pg_url)
    same_time = [{"event_id": eid, "user_id": "u", "item_id": "i", "type": "view", "timestamp": 1_700_000_000}
                 for eid in ("z", "a", "m")]
    store.add_many(same_time)
    assert [e.event_id for e in store.user_events("u")] == ["z", "a", "m"]
