"""Event store: durable, idempotent, validated writes; bulk imports; erasure."""
from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap
import threading

import pytest

from ranking.data import read_event_csv, read_sequences, sequences_to_events, sniff_format
from ranking.events import EVENT_TYPES, Event, EventStore, EventValidationError, parse_timestamp

ITEMS = {"p1", "p2", "p3"}


@pytest.fixture
def store(tmp_path):
    s = EventStore(tmp_path / "events.sqlite", known_items=ITEMS)
    yield s
    s.close()


def test_add_acknowledges_after_commit_and_reads_back(store):
    ack = store.add({"user_id": "u1", "item_id": "p1", "type": "click", "timestamp": 1_700_000_000})
    assert ack.seq == 1 and not ack.duplicate and ack.event_id
    [e] = store.user_events("u1")
    assert (e.user_id, e.item_id, e.type, e.timestamp) == ("u1", "p1", "click", 1_700_000_000.0)
    assert store.user_watermark("u1") == (1, 1)


def test_wal_and_full_sync_are_on(store):
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_repeated_event_id_is_stored_once(store):
    first = store.add({"event_id": "e-1", "user_id": "u1", "item_id": "p1", "type": "cart"})
    again = store.add({"event_id": "e-1", "user_id": "u1", "item_id": "p1", "type": "cart"})
    assert again.duplicate and again.seq == first.seq and again.event_id == "e-1"
    assert store.count() == 1


@pytest.mark.parametrize("payload, field, message", [
    ({"user_id": "u1", "item_id": "p1", "type": "clik"}, "type", "one of view, click, cart, purchase, rating, search"),
    ({"user_id": "u1", "item_id": "nope", "type": "view"}, "item_id", "Unknown item_id 'nope'"),
    ({"user_id": "u1", "item_id": "p1", "type": "view", "timestamp": "yesterday"}, "timestamp", "ISO-8601"),
    ({"user_id": "u1", "item_id": "p1", "type": "view", "timestamp": -5}, "timestamp", "between 1970 and 2100"),
    ({"user_id": "", "item_id": "p1", "type": "view"}, "user_id", "non-empty string"),
    ({"user_id": "u1", "type": "view"}, "item_id", "only 'search' events may omit it"),
    ({"user_id": "u1", "type": "search"}, "value", "query text"),
    ({"user_id": "u1", "item_id": "p1", "type": "rating", "value": 7}, "value", "rating from 0 to 5"),
    ({"user_id": "u1", "item_id": "p1", "type": "view", "colour": "red"}, None, "accepted: event_id, user_id"),
])
def test_rejections_name_field_value_and_accepted_values_and_write_nothing(store, payload, field, message):
    with pytest.raises(EventValidationError, match=message) as info:
        store.add(payload)
    assert info.value.field == field
    assert store.count() == 0


def test_timestamps_in_seconds_ms_and_iso():
    assert parse_timestamp(1_700_000_000) == 1_700_000_000.0
    assert parse_timestamp(1_700_000_000_123) == pytest.approx(1_700_000_000.123)
    assert parse_timestamp("2024-05-01T12:00:00Z") == 1_714_564_800.0
    assert parse_timestamp("1714564800") == 1_714_564_800.0


def test_search_and_rating_values(store):
    store.add({"user_id": "u1", "type": "search", "value": "red lipstick"})
    store.add({"user_id": "u1", "item_id": "p2", "type": "rating", "value": "4.5"})
    search, rating = store.user_events("u1")
    assert search.item_id is None and search.value == "red lipstick"
    assert rating.value == 4.5 and rating.weight == pytest.approx(0.9)


def test_acknowledged_events_survive_a_crash(tmp_path):
    """A child process writes, prints the ack, then dies without closing anything."""
    db = tmp_path / "events.sqlite"
    code = textwrap.dedent(f"""
        import os
        from ranking.events import EventStore
        s = EventStore({str(db)!r})
        for i in range(5):
            ack = s.add({{"event_id": f"e{{i}}", "user_id": "u", "item_id": "p1", "type": "view"}})
            print(ack.seq, flush=True)
        os._exit(9)  # no close, no checkpoint
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 9 and out.stdout.split() == ["1", "2", "3", "4", "5"]
    with EventStore(db) as reopened:
        assert reopened.count() == 5
        assert [e.event_id for e in reopened.user_events("u")] == [f"e{i}" for i in range(5)]


def test_concurrent_writers_lose_nothing_and_dedupe(store):
    errors = []

    def work(t):
        try:
            for i in range(40):
                store.add({"event_id": f"{t}-{i}", "user_id": f"u{t}", "item_id": "p1", "type": "view"})
                store.add({"event_id": f"shared-{i}", "user_id": "shared", "item_id": "p2", "type": "view"})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert store.count() == 4 * 40 + 40


def test_add_many_is_all_or_nothing_unless_skipping(store):
    good = [{"user_id": "u", "item_id": "p1", "type": "view", "event_id": f"g{i}"} for i in range(3)]
    bad = {"user_id": "u", "item_id": "zzz", "type": "view", "event_id": "b"}
    with pytest.raises(EventValidationError, match="event #3: Unknown item_id 'zzz'"):
        store.add_many(good[:2] + [bad] + good[2:])
    assert store.count() == 0
    result = store.add_many(good[:2] + [bad] + good[2:], skip_invalid=True)
    assert (result.inserted, result.rejected, result.duplicates) == (3, 1, 0)
    assert "zzz" in result.errors[0]
    again = store.add_many(good)
    assert (again.inserted, again.duplicates) == (0, 3)


def test_forget_user_erases_only_that_user(store, tmp_path):
    for u in ("alice", "bob"):
        for i in range(3):
            store.add({"user_id": u, "item_id": "p1", "type": "view"})
    assert store.forget_user("alice") == 3
    assert store.user_events("alice") == [] and len(store.user_events("bob")) == 3
    assert store.user_watermark("alice") == (0, 0)
    store.close()
    assert b"alice" not in (tmp_path / "events.sqlite").read_bytes()


def test_sequence_file_import_is_idempotent(tmp_path, store):
    path = tmp_path / "seq.txt.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("u1 p1 p2 p3\n\nu2 p3 p1\n")
    assert sniff_format(path) == "sequences"
    seqs = read_sequences(path)
    assert seqs == [("u1", ["p1", "p2", "p3"]), ("u2", ["p3", "p1"])]
    r1 = store.add_many(sequences_to_events(seqs, source="seq"))
    r2 = store.add_many(sequences_to_events(seqs, source="seq"))
    assert (r1.inserted, r2.inserted, r2.duplicates) == (5, 0, 5)
    ev = store.user_events("u1")
    assert [e.item_id for e in ev] == ["p1", "p2", "p3"] and ev[0].timestamp < ev[1].timestamp < ev[2].timestamp
    assert all(e.type == "purchase" for e in ev)


def test_sequence_file_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("u1 p1\nlonely\n")
    with pytest.raises(ValueError, match="line 2"):
        read_sequences(path)


def test_csv_log_import_with_ms_timestamps(tmp_path, store):
    path = tmp_path / "log.csv"
    path.write_text("user_id,parent_asin,rating,timestamp,history\n"
                    "A,p1,5.0,1547589356557,\nA,p2,3.0,1593352422858,p1\nB,p3,4.0,1600000000000,\n")
    assert sniff_format(path) == "csv"
    rows = list(read_event_csv(path))
    assert rows[0]["type"] == "rating" and rows[0]["value"] == "5.0"
    result = store.add_many(rows)
    assert result.inserted == 3
    a = store.user_events("A")
    assert [e.item_id for e in a] == ["p1", "p2"] and a[0].timestamp == pytest.approx(1547589356.557)
    assert store.add_many(read_event_csv(path)).duplicates == 3


def test_csv_without_user_column_is_explained(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("who,asin\nx,p1\n")
    with pytest.raises(ValueError, match="no user column; expected one of user_id"):
        list(read_event_csv(path))


def test_real_all_beauty_log_replays_in_time_order(tmp_path):
    """The shared Amazon All_Beauty 2023 log (real ms timestamps), when present."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "shared/data/amazon-all-beauty-2023/All_Beauty.train.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    with EventStore(tmp_path / "e.sqlite") as s:
        result = s.add_many(read_event_csv(path))
        assert result.inserted > 1000 and result.rejected == 0
        for user, _n in s.top_users(5):
            ts = [e.timestamp for e in s.user_events(user)]
            assert ts == sorted(ts) and 1.2e9 < ts[0] < 2e9


def test_event_types_are_the_documented_ones():
    assert EVENT_TYPES == ("view", "click", "cart", "purchase", "rating", "search")
    with pytest.raises(EventValidationError, match="type"):
        Event.parse(user_id="u", item_id="p", type="like")


def test_sqlite_schema_version_recorded_and_newer_refused(tmp_path):
    import sqlite3

    from ranking.events import SQLITE_SCHEMA_VERSION, EventStore

    EventStore(tmp_path / "e.sqlite").close()
    with sqlite3.connect(tmp_path / "e.sqlite") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SQLITE_SCHEMA_VERSION == 2
        conn.execute("PRAGMA user_version=7")
    with pytest.raises(RuntimeError, match="schema version 7, newer than this program's 2"):
        EventStore(tmp_path / "e.sqlite")


def _views(n, bad_at=None):
    for i in range(n):
        yield {"user_id": f"u{i % 7}", "item_id": "zzz" if i == bad_at else "p1", "type": "view",
               "event_id": f"e{i}", "timestamp": 1_700_000_000 + i}


def test_add_many_commits_chunk_by_chunk_while_reading_when_skipping(store):
    seen = []

    def events():
        for i, e in enumerate(_views(10)):
            if i in (0, 4, 9):
                seen.append(store.count())   # what is committed while the input is still being read
            yield e

    result = store.add_many(events(), skip_invalid=True, chunk_size=4)
    assert seen == [0, 4, 8] and result.inserted == 10 and store.count() == 10


def test_add_many_over_many_chunks_writes_nothing_until_all_are_valid(store):
    seen = []

    def events(bad_at):
        for i, e in enumerate(_views(10, bad_at)):
            seen.append(store.count())
            yield e

    with pytest.raises(EventValidationError, match="event #10: Unknown item_id 'zzz'"):
        store.add_many(events(9), chunk_size=3)
    assert store.count() == 0 and set(seen) == {0}
    seen.clear()
    result = store.add_many(events(None), chunk_size=3)
    assert (result.inserted, store.count(), set(seen)) == (10, 10, {0})
    again = store.add_many(list(_views(10)) + list(_views(3)), chunk_size=4)   # repeats across chunks
    assert (again.inserted, again.duplicates) == (0, 13)


def test_add_many_holds_one_chunk_in_memory_not_the_whole_input(store):
    import tracemalloc

    n, chunk = 60_000, 2_000
    tracemalloc.start()
    try:
        result = store.add_many(_views(n), chunk_size=chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.inserted == n == store.count()
    # the whole input as Events / rows would be ~30 MB; one chunk of rows is well under 2 MB
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_bulk_rows_are_the_rows_add_writes(store):
    events = [{"user_id": " u ", "item_id": "p2", "type": "rating", "value": "4", "timestamp": "2024-05-01T12:00:00Z",
               "event_id": "r1"},
              {"user_id": "u", "type": "search", "value": "red shoes", "timestamp": 1_700_000_000_000, "event_id": "s1"},
              Event(event_id="x1", user_id="u", item_id="p3", type="cart", timestamp=5.0)]
    from ranking.events import _row
    assert [store.valid_row(e) for e in events] == [_row(store.validate(e)) for e in events]
    with pytest.raises(EventValidationError, match="Unknown item_id 'nope'"):
        store.valid_row({"user_id": "u", "item_id": "nope", "type": "view"})
    assert len(store.valid_row({"user_id": "u", "item_id": "p1", "type": "view"})[0]) == 32   # a uuid4 id


def test_sequence_import_rejects_an_unknown_type_before_writing(store):
    seqs = [("u1", ["p1", "p2"])]
    with pytest.raises(EventValidationError, match="Expected type to be one of"):
        store.add_many(sequences_to_events(seqs, type="bogus"))
    with pytest.raises(EventValidationError, match="non-empty strings"):
        store.add_many(sequences_to_events([("u1", ["p1", ""])]))
    assert store.count() == 0


def test_add_many_raises_the_page_cache_for_the_import_only(store):
    from ranking.events import IMPORT_CACHE_KIB

    conn = store._conn()
    default = conn.execute("PRAGMA cache_size").fetchone()[0]
    during = []

    def events():
        during.append(conn.execute("PRAGMA cache_size").fetchone()[0])
        yield from _views(3)

    store.add_many(events())
    assert during == [-IMPORT_CACHE_KIB] and conn.execute("PRAGMA cache_size").fetchone()[0] == default
    with pytest.raises(EventValidationError):
        store.add_many(_views(3, bad_at=1))
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == default


def _indexes(path) -> set[str]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='events'")}


def test_load_into_an_empty_store_builds_the_indexes_after_and_keeps_the_first_of_repeated_ids(store):
    seen = []

    def events():
        for i, e in enumerate(_views(10)):
            if i in (0, 5):
                seen.append(_indexes(store.path))
            yield dict(e, event_id="e3") if i == 7 else e     # e3 repeated within the load

    result = store.add_many(events(), chunk_size=4, skip_invalid=True)
    # indexes present before the first row, absent while loading, rebuilt at the end
    assert seen == [{"events_by_id", "events_by_user"}, set()]
    assert _indexes(store.path) == {"events_by_id", "events_by_user"}
    assert (result.inserted, result.duplicates, store.count()) == (9, 1, 9)
    [e3] = [e for e in store.user_events("u3") if e.event_id == "e3"]
    assert e3.timestamp == 1_700_000_003            # the first e3 won, as INSERT OR IGNORE keeps it
    assert store.add({"event_id": "e3", "user_id": "u3", "item_id": "p1", "type": "view"}).duplicate
    by_seq = store._conn().execute("SELECT event_id FROM events ORDER BY seq").fetchall()
    assert [r[0] for r in by_seq] == [f"e{i}" for i in range(10) if i != 7]   # arrival order kept


def test_live_add_during_an_index_free_load_still_refuses_a_stored_id(store):
    acks = []

    def events():
        yield from _views(6)
        acks.append(store.add({"event_id": "e1", "user_id": "u9", "item_id": "p2", "type": "view"}))
        acks.append(store.add({"event_id": "live", "user_id": "u9", "item_id": "p2", "type": "view"}))
        yield from ({**e, "event_id": f"x{i}"} for i, e in enumerate(_views(3)))

    result = store.add_many(events(), chunk_size=3, skip_invalid=True)
    assert [a.duplicate for a in acks] == [True, False]
    assert result.inserted == 9 and store.count() == 10
    assert [e.item_id for e in store.user_events("u9")] == ["p2"]


def test_load_into_a_non_empty_store_keeps_its_indexes(store):
    store.add({"event_id": "first", "user_id": "u1", "item_id": "p1", "type": "view"})
    seen = []

    def events():
        for i, e in enumerate(_views(6)):
            if i == 4:
                seen.append(_indexes(store.path))
            yield e

    assert store.add_many(events(), chunk_size=2, skip_invalid=True).inserted == 6
    assert seen == [{"events_by_id", "events_by_user"}]


def test_an_interrupted_index_free_load_is_repaired_at_the_next_open(tmp_path):
    import sqlite3

    path = tmp_path / "e.sqlite"
    EventStore(path).close()
    with sqlite3.connect(path) as conn:      # what a crash between two chunks of such a load leaves
        conn.execute("DROP INDEX events_by_id")
        conn.execute("DROP INDEX events_by_user")
        conn.executemany("INSERT INTO events(event_id,user_id,item_id,type,ts) VALUES (?,?,?,?,?)",
                         [("a", "u1", "p1", "view", 1.0), ("b", "u1", "p2", "view", 2.0), ("a", "u2", "p3", "view", 3.0)])
    with EventStore(path) as s:
        assert _indexes(path) == {"events_by_id", "events_by_user"}
        assert [(r[0], r[1]) for r in s.iter_rows()] == [("u1", "p1"), ("u1", "p2")]


def test_a_version_1_store_is_migrated_with_its_rows_and_sequence(tmp_path):
    import sqlite3

    path = tmp_path / "v1.sqlite"
    with sqlite3.connect(path) as conn:      # the version-1 layout: event_id UNIQUE on the column
        conn.executescript("""
            CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL, item_id TEXT, type TEXT NOT NULL, ts REAL NOT NULL, value_num REAL, value_txt TEXT);
            CREATE INDEX events_by_user ON events(user_id, ts, seq);
            CREATE TABLE markers (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO events(event_id,user_id,item_id,type,ts) VALUES ('a','u1','p1','view',1), ('b','u1','p2','cart',2),
                ('c','u2','p1','purchase',3);
            DELETE FROM events WHERE event_id='c';
            INSERT INTO markers VALUES ('demo', 'yes');
            PRAGMA user_version=1;
        """)
    with EventStore(path) as s:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
            table_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name='events'").fetchone()[0]
        assert "UNIQUE" not in table_sql and _indexes(path) == {"events_by_id", "events_by_user"}
        assert [(e.event_id, e.type) for e in s.user_events("u1")] == [("a", "view"), ("b", "cart")]
        assert s.marker("demo") == "yes"
        assert s.add({"event_id": "a", "user_id": "u1", "item_id": "p1", "type": "view"}).duplicate
        assert s.add({"event_id": "d", "user_id": "u3", "item_id": "p1", "type": "view"}).seq == 4   # after the deleted 3
