"""The event store on PostgreSQL (`SHOPASSIST_DATABASE_URL`), for several workers sharing one store.

Same contract as the SQLite `EventStore` (ranking/events.py), the same validation (EventStoreBase):
- An event is acknowledged after its transaction committed (PostgreSQL's default
  synchronous_commit=on: the commit record is flushed to the WAL on disk first).
- `event_id` is UNIQUE: `INSERT ... ON CONFLICT (event_id) DO NOTHING`. A lost connection is
  retried (PgDatabase.run); if the first try had committed before the connection broke, the retry
  finds its own row and reports it as new, so a retry never counts an event twice.
- `forget_user` deletes the rows and VACUUMs the table (the space of the dead rows is reused; see
  README "Privacy" for what PostgreSQL keeps in its WAL until the next checkpoint).
- The tables are created / migrated by the program (component "events", version SCHEMA_VERSION).
- Bulk imports go through COPY into a temporary table, then one INSERT ... ON CONFLICT per chunk.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator

from .events import _MAX_SEQ, SCHEMA_VERSION, Event, EventAck, EventStoreBase, ImportResult, _event, _row
from .servers import pg_database, safe_url

MIGRATIONS = [
    # 0 -> 1: the events table (seq is the arrival order; ts the shopper's time)
    """
    CREATE TABLE IF NOT EXISTS events (
        seq       BIGSERIAL PRIMARY KEY,
        event_id  TEXT NOT NULL UNIQUE,
        user_id   TEXT NOT NULL,
        item_id   TEXT,
        type      TEXT NOT NULL,
        ts        DOUBLE PRECISION NOT NULL,
        value_num DOUBLE PRECISION,
        value_txt TEXT
    );
    CREATE INDEX IF NOT EXISTS events_by_user ON events(user_id, ts, seq);
    """,
]
assert len(MIGRATIONS) == SCHEMA_VERSION

_INSERT = ("INSERT INTO events(event_id,user_id,item_id,type,ts,value_num,value_txt) "
           "VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (event_id) DO NOTHING RETURNING seq")


class PgEventStore(EventStoreBase):
    """Events in PostgreSQL; safe to share between threads (a connection pool) and processes."""

    def __init__(self, url: str, known_items: Collection[str] | Callable[[str], bool] | None = None):
        self.known_items = known_items
        self.db = pg_database(url)
        self.url = url
        self.location = safe_url(url)
        self.db.migrate("events", MIGRATIONS)

    # Writes --------------------------------------------------------------------------------
    def add(self, event: Event | dict) -> EventAck:
        event = self.validate(event)
        row = _row(event)
        attempts = {"n": 0}

        def write(conn) -> EventAck:
            attempts["n"] += 1
            got = conn.execute(_INSERT, row).fetchone()
            if got is not None:
                return EventAck(event_id=event.event_id, seq=int(got[0]), duplicate=False)
            seq = conn.execute("SELECT seq FROM events WHERE event_id=%s", (event.event_id,)).fetchone()[0]
            # A retry after a broken connection may find the row its own first try committed.
            retried_own = attempts["n"] > 1 and self._same(conn, seq, row)
            return EventAck(event_id=event.event_id, seq=int(seq), duplicate=not retried_own)

        return self.db.run(write)

    @staticmethod
    def _same(conn, seq: int, row: tuple) -> bool:
        have = conn.execute("SELECT event_id,user_id,item_id,type,ts,value_num,value_txt FROM events "
                            "WHERE seq=%s", (seq,)).fetchone()
        return have is not None and tuple(have) == tuple(row)

    def add_many(self, events: Iterable[Event | dict], *, skip_invalid: bool = False, chunk_size: int = 50_000,
                 progress: Callable[[str], None] | None = None) -> ImportResult:
        """Bulk insert (COPY + INSERT ... ON CONFLICT per chunk, each chunk one transaction)."""
        def write_chunk(rows: list[tuple]) -> int:
            def write(conn) -> int:
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS events_in (event_id TEXT, user_id TEXT, item_id TEXT, "
                             "type TEXT, ts DOUBLE PRECISION, value_num DOUBLE PRECISION, value_txt TEXT) "
                             "ON COMMIT DELETE ROWS")
                with conn.cursor().copy("COPY events_in FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
                # the first occurrence of an id inside the chunk wins; seq follows the input order
                cur = conn.execute(
                    "INSERT INTO events(event_id,user_id,item_id,type,ts,value_num,value_txt) "
                    "SELECT event_id,user_id,item_id,type,ts,value_num,value_txt FROM ("
                    " SELECT DISTINCT ON (event_id) *, ctid AS arrival FROM events_in ORDER BY event_id, ctid) d "
                    "ORDER BY arrival ON CONFLICT (event_id) DO NOTHING")
                return cur.rowcount

            # A retried chunk is harmless: rows its first try committed are conflicts now (the store
            # holds each event once; such rows are then reported as duplicates).
            return self.db.run(write)

        return self.import_chunks(events, skip_invalid, chunk_size, write_chunk, progress)

    def forget_user(self, user_id: str) -> int:
        n = self.db.run(lambda c: c.execute("DELETE FROM events WHERE user_id=%s", (user_id,)).rowcount)
        if n:
            self.db.vacuum("events")
        return int(n)

    # Reads ---------------------------------------------------------------------------------
    def user_events(self, user_id: str, since_seq: int = 0, until_seq: int | None = None) -> list[Event]:
        until = _MAX_SEQ if until_seq is None else until_seq
        rows = self.db.run(lambda c: c.execute(
            "SELECT event_id,user_id,item_id,type,ts,value_num,value_txt,seq FROM events "
            "WHERE user_id=%s AND seq>%s AND seq<=%s ORDER BY ts, seq", (user_id, since_seq, until)).fetchall())
        return [_event(r) for r in rows]

    def user_watermark(self, user_id: str) -> tuple[int, int]:
        n, top = self.db.run(lambda c: c.execute(
            "SELECT COUNT(*), COALESCE(MAX(seq),0) FROM events WHERE user_id=%s", (user_id,)).fetchone())
        return int(n), int(top)

    def iter_rows(self) -> Iterator[tuple]:
        """All events by user then time, streamed with a server-side cursor (no retry mid-stream)."""
        with self.db.pool.connection() as conn:
            with conn.cursor(name="shopassist_iter_rows") as cur:
                cur.itersize = 50_000
                cur.execute("SELECT user_id,item_id,type,ts,value_num,value_txt FROM events ORDER BY user_id, ts, seq")
                for row in cur:
                    yield tuple(row)

    def count(self) -> int:
        return int(self.db.run(lambda c: c.execute("SELECT COUNT(*) FROM events").fetchone()[0]))

    def n_users(self) -> int:
        return int(self.db.run(lambda c: c.execute("SELECT COUNT(DISTINCT user_id) FROM events").fetchone()[0]))

    def top_users(self, n: int = 20) -> list[tuple[str, int]]:
        rows = self.db.run(lambda c: c.execute(
            "SELECT user_id, COUNT(*) c FROM events GROUP BY user_id ORDER BY c DESC, user_id LIMIT %s",
            (n,)).fetchall())
        return [(u, int(c)) for u, c in rows]

    def close(self) -> None:
        """The pool is shared per URL within the process (servers.pg_database); nothing to close here."""
