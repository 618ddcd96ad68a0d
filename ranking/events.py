"""Behaviour events: validation and a durable, idempotent store (SQLite embedded, PostgreSQL server).

One row per event. An event is acknowledged only after its transaction has committed with
`synchronous=FULL` in WAL mode, so an acknowledged event survives a crash or power cut. The
`event_id` is the idempotency key: sending the same id again changes nothing and the ack says
`duplicate=True`. A rejected event (unknown type, unknown item, malformed timestamp ...) raises
`EventValidationError` naming the field, the value and what is accepted; nothing is written.

Thread safety: one SQLite connection per thread (sqlite3 connections must not be shared), and
writes from several threads or processes are serialised by SQLite itself (busy timeout 10 s).

`ranking.stores.open_event_store(path, database_url=...)` picks the backend: with a `postgresql://` URL the
same store lives in PostgreSQL (ranking/pg_events.py, shared by several workers) with the same
guarantees; `EventStoreBase` holds what both share (validation, the catalog check).
"""
from __future__ import annotations

import itertools
import math
import pickle
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel
from .sqlite import DurableSQLite

EVENT_TYPES = ("view", "click", "cart", "purchase", "rating", "search")
# Types that mean the shopper owns the item (a rating is a review of something bought).
OWNED_TYPES = ("purchase", "rating")
# Implicit-feedback confidence of one event of each type, relative to a purchase (a rating uses
# its value, see event_weight). Sequence files (no types) count every event as 1 = a purchase.
TYPE_WEIGHTS = {"view": 0.3, "click": 0.5, "cart": 0.8, "purchase": 1.0, "rating": 1.0, "search": 0.0}

# Timestamps outside this window are rejected as malformed (seconds since the epoch).
_MIN_TS = 0.0  # 1970-01-01
_MAX_TS = 4_102_444_800.0  # 2100-01-01


class EventValidationError(ValueError):
    """An event was rejected. The message names the field, the value and what is accepted."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class Event(BaseModel):
    """One behaviour event. Build it with `Event.parse(...)` to get clear validation errors."""

    model_config = {"frozen": True}

    event_id: str | None = None  # idempotency key; generated (uuid4) when None
    user_id: str
    item_id: str | None = None  # None only for "search"
    type: str
    timestamp: float  # unix seconds (UTC)
    value: str | float | None = None  # rating (float) or query text ("search")

    @classmethod
    def parse(
        cls,
        *,
        user_id=None,
        type=None,
        item_id=None,
        timestamp=None,
        value=None,
        event_id=None,
    ) -> "Event":
        """Validate raw fields (strings from a CLI, JSON, CSV) into an Event.

        timestamp: unix seconds (int/float or numeric string), unix milliseconds (numbers above
        1e11 are read as ms), an ISO-8601 string, a datetime, or None for now.
        """
        eid, user, item, etype, ts, val = parse_fields(user_id=user_id, type=type, item_id=item_id,
                                                       timestamp=timestamp, value=value, event_id=event_id)
        return cls(event_id=eid, user_id=user, item_id=item, type=etype, timestamp=ts, value=val)

    @property
    def weight(self) -> float:
        """Implicit-feedback confidence of this event (ratings: value/5 of a purchase)."""
        return event_weight(self.type, self.value)


def parse_fields(*, user_id=None, type=None, item_id=None, timestamp=None, value=None, event_id=None) -> tuple:
    """The validated fields (event_id or None, user_id, item_id, type, timestamp, value) of one event:
    every check of `Event.parse`, without building the model (bulk imports call it once a row)."""
    user = _clean_str(user_id, "user_id")
    if not user:
        raise EventValidationError(f"Expected user_id to be a non-empty string, got {user_id!r}", "user_id")
    etype = _clean_str(type, "type")
    if etype not in EVENT_TYPES:
        raise EventValidationError(
            f"Expected type to be one of {', '.join(EVENT_TYPES)}, got {type!r}", "type"
        )
    item = _clean_str(item_id, "item_id") or None
    if item is None and etype != "search":
        raise EventValidationError(
            f"Expected item_id for a {etype!r} event (only 'search' events may omit it), got {item_id!r}",
            "item_id",
        )
    ts = parse_timestamp(timestamp)
    val = _parse_value(etype, value)
    eid = _clean_str(event_id, "event_id") or None
    if event_id is not None and not eid:
        raise EventValidationError(f"Expected event_id to be a non-empty string or absent, got {event_id!r}", "event_id")
    return eid, user, item, etype, ts, val


def event_weight(etype: str, value=None) -> float:
    if etype == "rating" and isinstance(value, (int, float)):
        # 5 stars = as strong as a purchase; 1 star still says the shopper owned the item.
        return TYPE_WEIGHTS["purchase"] * max(0.2, min(float(value), 5.0) / 5.0)
    return TYPE_WEIGHTS.get(etype, 0.0)


def _clean_str(value, field: str) -> str:
    """A stripped string from str / int input; anything else (or text SQLite cannot store) is rejected."""
    if value is None:
        return ""
    if value.__class__ is str:   # the common case first (bulk imports call this four times a row)
        text = value.strip()
    elif isinstance(value, bool) or not isinstance(value, (str, int)):
        raise EventValidationError(f"Expected {field} to be a string, got {type(value).__name__} {value!r:.60}", field)
    else:
        text = str(value).strip()
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise EventValidationError(f"Expected {field} to be valid UTF-8 text, got {value!r:.60}", field) from None
    if len(text) > 1000:
        raise EventValidationError(f"Expected {field} of at most 1000 characters, got {len(text)}", field)
    return text


def parse_timestamp(value) -> float:
    """Unix seconds from seconds, milliseconds (> 1e11), ISO-8601, datetime or None (now)."""
    accepted = "unix seconds, unix milliseconds, or ISO-8601 like 2024-05-01T12:00:00Z"
    if value is None or value == "":
        return time.time()
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        ts = dt.timestamp()
    elif isinstance(value, bool):
        raise EventValidationError(f"Expected timestamp as {accepted}, got {value!r}", "timestamp")
    elif isinstance(value, (int, float)):
        try:
            ts = float(value)
        except OverflowError:
            raise EventValidationError(f"Expected timestamp as {accepted}, got an out-of-range number", "timestamp") from None
    elif isinstance(value, str):
        text = value.strip()
        try:
            ts = float(text)
        except (ValueError, OverflowError):
            try:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise EventValidationError(f"Expected timestamp as {accepted}, got {value!r}", "timestamp") from None
            dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
            ts = dt.timestamp()
    else:
        raise EventValidationError(f"Expected timestamp as {accepted}, got {type(value).__name__}", "timestamp")
    if not math.isfinite(ts):
        raise EventValidationError(f"Expected timestamp as {accepted}, got {value!r}", "timestamp")
    if ts > 1e11:  # milliseconds (1e11 s is the year 5138)
        ts /= 1000.0
    if not (_MIN_TS <= ts <= _MAX_TS):
        raise EventValidationError(
            f"Expected timestamp between 1970 and 2100 ({accepted}), got {value!r}", "timestamp"
        )
    return ts


def _parse_value(etype: str, value):
    """A rating (0..5) for 'rating', the query text for 'search', else an optional number or text."""
    if value is None or value == "":
        if etype == "search":
            raise EventValidationError("Expected value (the query text) for a 'search' event, got nothing", "value")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise EventValidationError(f"Expected value to be a number or text, got {type(value).__name__}", "value")
    if etype == "rating":
        try:
            rating = float(value)
        except (TypeError, ValueError, OverflowError):
            raise EventValidationError(f"Expected value to be a rating from 0 to 5, got {value!r:.60}", "value") from None
        if not (0.0 <= rating <= 5.0):
            raise EventValidationError(f"Expected value to be a rating from 0 to 5, got {value!r:.60}", "value")
        return rating
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise EventValidationError("Expected value to be a finite number, got an out-of-range integer", "value") from None
        if not math.isfinite(number):
            raise EventValidationError(f"Expected value to be a finite number, got {value!r}", "value")
        return number
    text = _clean_str(value, "value")
    if etype == "search" and not text:
        raise EventValidationError("Expected value (the query text) for a 'search' event, got blank text", "value")
    return text


@dataclass(frozen=True)
class EventAck:
    """Returned only after the event is durably committed."""

    event_id: str
    seq: int  # position in the store (monotonic); the duplicate's original seq for repeats
    duplicate: bool = False


@dataclass
class ImportResult:
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)  # first few rejection messages

    def merge(self, other: "ImportResult") -> None:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.errors.extend(other.errors[: max(0, 20 - len(self.errors))])


_FIELDS = ("event_id", "user_id", "item_id", "type", "timestamp", "value")
# One live event: inserted unless its event_id is stored. NOT EXISTS as well as OR IGNORE, so the
# check holds while a bulk load into an empty store runs without the unique index (see add_many).
_INSERT_ONE = ("INSERT OR IGNORE INTO events(event_id,user_id,item_id,type,ts,value_num,value_txt) "
               "SELECT ?,?,?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM events WHERE event_id=?)")
_INSERT = ("INSERT OR IGNORE INTO events(event_id,user_id,item_id,type,ts,value_num,value_txt) "
           "VALUES (?,?,?,?,?,?,?)")

# Schema version 2: event_id's uniqueness is a named index (events_by_id), not a column constraint,
# so a bulk load into an empty store can drop both indexes and build them once at the end
# (version 1 had `event_id TEXT NOT NULL UNIQUE`, whose automatic index cannot be dropped).
_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    item_id   TEXT,
    type      TEXT NOT NULL,
    ts        REAL NOT NULL,
    value_num REAL,
    value_txt TEXT
);"""
_INDEXES = {"events_by_id": "CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events(event_id)",
            "events_by_user": "CREATE INDEX IF NOT EXISTS events_by_user ON events(user_id, ts, seq)"}
_SCHEMA = _TABLE.format(name="events") + """
CREATE TABLE IF NOT EXISTS markers (       -- facts about the store's content, e.g. "demo history loaded"
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
_COLUMNS = "seq,event_id,user_id,item_id,type,ts,value_num,value_txt"


# Schema versions: the SQLite file records it in PRAGMA user_version (SQLITE_SCHEMA_VERSION),
# PostgreSQL in shopassist_schema (SCHEMA_VERSION, ranking/pg_events.MIGRATIONS).
SCHEMA_VERSION = 1
SQLITE_SCHEMA_VERSION = 2
_MAX_SEQ = 2**63 - 1
# Bulk imports (EventStore.add_many): rows per committed transaction and the page cache of the
# importing connection (KiB; SQLite's default is 2 MiB). See add_many for why these two.
IMPORT_CHUNK = 200_000
IMPORT_CACHE_KIB = 512 * 1024


def _upgrade_sqlite(conn: sqlite3.Connection, have: int) -> None:
    """Version 1 (or an unversioned file) -> 2: the table is copied into the version-2 layout (same
    rows, same seq, the same AUTOINCREMENT counter); the indexes are built after."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        old = conn.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name='events'").fetchone()
        if old is not None and "UNIQUE" in old[0].upper():   # another process may have done it already
            conn.execute("DROP TABLE IF EXISTS events_v2")
            conn.execute(_TABLE.format(name="events_v2"))
            conn.execute(f"INSERT INTO events_v2({_COLUMNS}) SELECT {_COLUMNS} FROM events ORDER BY seq")
            counter = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='events'").fetchone()
            conn.execute("DROP TABLE events")
            conn.execute("ALTER TABLE events_v2 RENAME TO events")
            if counter is not None:   # seq values of deleted rows are never given out again
                conn.execute("UPDATE sqlite_sequence SET seq=MAX(seq, ?) WHERE name='events'", (counter[0],))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _build_indexes(conn: sqlite3.Connection) -> int:
    """Create the missing indexes (inside the caller's transaction); returns how many rows were
    removed as repeats of an earlier row's event_id (the first stored wins, as INSERT OR IGNORE
    would have kept it). Only a bulk load into an empty store (or one a crash interrupted) can
    leave such rows, because it writes without the unique index."""
    missing = _missing_indexes(conn)
    removed = 0
    if "events_by_id" in missing:
        try:
            conn.execute(_INDEXES["events_by_id"])
        except sqlite3.IntegrityError:
            removed = conn.execute(
                "DELETE FROM events WHERE seq IN (SELECT seq FROM (SELECT seq, ROW_NUMBER() OVER "
                "(PARTITION BY event_id ORDER BY seq) AS nth FROM events) WHERE nth > 1)").rowcount
            conn.execute(_INDEXES["events_by_id"])
    if "events_by_user" in missing:
        conn.execute(_INDEXES["events_by_user"])
    return removed


def _missing_indexes(conn: sqlite3.Connection) -> set[str]:
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='events'")}
    return set(_INDEXES) - have


class EventStoreBase:
    """What every event store shares: validation against the catalog, context management.

    known_items: when given (a set / dict of catalog item ids, or a predicate), events naming
    another item are rejected. Imports and the live path use the same validation.
    Backends implement add, add_many, forget_user, user_events, user_watermark, iter_rows,
    count, n_users, top_users and close, with the meaning documented on EventStore.
    """

    known_items: Collection[str] | Callable[[str], bool] | None = None
    location: str = ""   # where the events live, for messages (a path or a URL without password)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Validation ----------------------------------------------------------------------------
    def validate(self, event: Event | dict) -> Event:
        """Event (or dict of raw fields) -> validated Event with an id; raises EventValidationError."""
        if isinstance(event, dict):
            _check_keys(event)
            event = Event.parse(**event)
        elif not isinstance(event, Event):
            raise EventValidationError(f"Expected an Event or a dict, got {type(event).__name__}")
        self._check_item(event.item_id)
        if event.event_id is None:
            event = event.model_copy(update={"event_id": uuid.uuid4().hex})
        return event

    def valid_row(self, event: Event | dict) -> tuple:
        """`validate` for bulk imports: the same checks, the stored row (see `_row`) without an Event."""
        if isinstance(event, dict):
            _check_keys(event)
            eid, user, item, etype, ts, val = parse_fields(**event)
        elif isinstance(event, Event):
            eid, user, item, etype, ts, val = (event.event_id, event.user_id, event.item_id, event.type,
                                               event.timestamp, event.value)
        else:
            raise EventValidationError(f"Expected an Event or a dict, got {type(event).__name__}")
        self._check_item(item)
        return _fields_row(eid or uuid.uuid4().hex, user, item, etype, ts, val)

    def _check_item(self, item_id: str | None) -> None:
        known = self.known_items
        if item_id is not None and known is not None and not (known(item_id) if callable(known) else item_id in known):
            raise EventValidationError(
                f"Unknown item_id {item_id!r}: it is not in the catalog; send an id of an imported "
                "product (see `shopassist catalog list` / the catalog's ids)",
                "item_id",
            )

    def validated_chunks(self, events: Iterable[Event | dict], skip_invalid: bool, chunk_size: int,
                         result: ImportResult) -> Iterator[list[tuple]]:
        """add_many's input as lists of at most `chunk_size` validated rows (see add_many).

        skip_invalid=True: each chunk is yielded as soon as it is full; rejected events are counted
        in `result`. False: the first rejected event raises (naming its position) before any chunk
        is yielded, so nothing is written; the chunks after the first wait in an anonymous
        temporary file meanwhile, so memory holds one chunk, not the whole import.
        """
        if chunk_size < 1:
            raise ValueError(f"Expected chunk_size >= 1, got {chunk_size}")
        chunks = _chunked(self._valid_rows(events, skip_invalid, result), chunk_size)
        if skip_invalid:
            yield from chunks
            return
        first = next(chunks, None)
        if first is None:
            return
        with tempfile.TemporaryFile(prefix="shopassist-import-") as spill:
            spilled = 0
            for chunk in chunks:   # validated to the end before anything is written
                pickle.dump(chunk, spill, protocol=pickle.HIGHEST_PROTOCOL)
                spilled += 1
            yield first
            del first
            spill.seek(0)
            for _ in range(spilled):
                yield pickle.load(spill)   # our own file, written just above

    def _valid_rows(self, events: Iterable[Event | dict], skip_invalid: bool, result: ImportResult) -> Iterator[tuple]:
        valid_row = self.valid_row
        for pos, event in enumerate(events):
            try:
                yield valid_row(event)
            except EventValidationError as exc:
                if not skip_invalid:
                    raise EventValidationError(f"event #{pos + 1}: {exc}", exc.field) from None
                result.rejected += 1
                if len(result.errors) < 20:
                    result.errors.append(f"event #{pos + 1}: {exc}")

    def import_chunks(self, events: Iterable[Event | dict], skip_invalid: bool, chunk_size: int,
                      write: Callable[[list[tuple]], int], progress: Callable[[str], None] | None) -> ImportResult:
        """add_many for every backend: `write(rows)` commits one chunk and returns how many were new."""
        result = ImportResult()
        done = 0
        for chunk in self.validated_chunks(events, skip_invalid, chunk_size, result):
            inserted = write(chunk)
            result.inserted += inserted
            result.duplicates += len(chunk) - inserted
            done += len(chunk)
            if progress:
                progress(f"  events: {done:,} written")
        return result

    def close(self) -> None:  # pragma: no cover - overridden
        pass


class EventStore(EventStoreBase, DurableSQLite):
    """SQLite (WAL, synchronous=FULL) event store; safe to share between threads."""

    def __init__(self, path: Path | str, known_items: Collection[str] | Callable[[str], bool] | None = None):
        self.known_items = known_items
        self._open_sqlite(path, _SCHEMA, version=SQLITE_SCHEMA_VERSION, upgrade=_upgrade_sqlite)
        self.location = str(self.path)
        self._ensure_indexes()

    def _ensure_indexes(self) -> int:
        """Build what a bulk load into an empty store dropped (also after a crash in one)."""
        if not _missing_indexes(self._conn()):   # the usual open: no write transaction taken
            return 0
        with self._transaction() as c:
            return _build_indexes(c)

    # Writes --------------------------------------------------------------------------------
    def add(self, event: Event | dict) -> EventAck:
        """Validate, commit durably, then acknowledge. A repeated event_id -> duplicate=True."""
        event = self.validate(event)
        with self._transaction() as conn:
            row = _row(event)
            cur = conn.execute(_INSERT_ONE, row + (row[0],))
            if cur.rowcount == 1:
                seq, duplicate = cur.lastrowid, False
            else:
                seq = conn.execute("SELECT seq FROM events WHERE event_id=?", (event.event_id,)).fetchone()[0]
                duplicate = True
        return EventAck(event_id=event.event_id, seq=int(seq), duplicate=duplicate)

    def add_many(
        self,
        events: Iterable[Event | dict],
        *,
        skip_invalid: bool = False,
        chunk_size: int = IMPORT_CHUNK,
        progress: Callable[[str], None] | None = None,
    ) -> ImportResult:
        """Bulk insert in chunked transactions (each chunk committed durably before the next).

        skip_invalid=False: the whole input is validated first and nothing is written if any
        event is rejected (the error names the position). True: invalid events are counted in
        `rejected` with their messages in `errors`, the rest are written.

        Cost: every commit writes each index page it dirtied to the WAL (and the checkpoint
        writes it again), and the two indexes (event_id, user) take random keys, so once the
        indexes outgrow a chunk every row dirties its own page and the bytes written per event
        grow with the store (benchmarks/README.md "How cost grows": 1.9 KiB per event at 20M).
        So a load into an EMPTY store drops both indexes, appends the rows (the table grows at
        its end only) and builds the indexes once at the end from sorted keys; event ids
        repeated within the load are removed then (the first wins) and counted as duplicates.
        While such a load runs, a live `add` still refuses a stored event_id (NOT EXISTS), at the
        price of a scan, and the user index is missing (reads scan too). A crash during the load
        leaves the committed chunks; the next open builds the indexes. A load into a non-empty
        store keeps the indexes, with 200k-row commits and a 512 MiB page cache (raised for the
        import only, on this thread's connection, and put back afterwards).
        """
        conn = self._conn()
        default_cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size={-IMPORT_CACHE_KIB}")
        bulk = False

        def write(rows: list[tuple]) -> int:
            nonlocal bulk
            with self._transaction() as c:
                if not bulk and c.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None:
                    c.execute("DROP INDEX IF EXISTS events_by_user")
                    c.execute("DROP INDEX IF EXISTS events_by_id")
                    bulk = True
                before = c.total_changes
                c.executemany(_INSERT, rows)
                return c.total_changes - before

        try:
            result = self.import_chunks(events, skip_invalid, chunk_size, write, progress)
        finally:
            if bulk:
                if progress:
                    progress("  events: building the indexes")
                removed = self._ensure_indexes()
            conn.execute(f"PRAGMA cache_size={int(default_cache)}")
        if bulk:
            result.inserted -= removed
            result.duplicates += removed
        return result

    def forget_user(self, user_id: str) -> int:
        """Delete every event of the user (overwritten on disk, WAL checkpointed); returns count."""
        with self._transaction() as conn:
            n = conn.execute("DELETE FROM events WHERE user_id=?", (user_id,)).rowcount
        self._checkpoint()
        return int(n)

    def set_marker(self, name: str, value: str) -> None:
        """Record a fact about the store's content (durably): e.g. that an import ran to its end.
        Markers survive `forget_user`, so "was the demo loaded" never depends on one shopper."""
        with self._transaction() as conn:
            conn.execute("INSERT INTO markers(name, value) VALUES (?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET value=excluded.value", (name, str(value)))

    # Reads ---------------------------------------------------------------------------------
    def marker(self, name: str) -> str | None:
        row = self._conn().execute("SELECT value FROM markers WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def has_event_id_prefix(self, prefix: str) -> bool:
        """Whether some event id starts with `prefix` (an index range scan, not a table scan)."""
        if not prefix:
            raise ValueError("Expected a non-empty event id prefix, got ''")
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return self._conn().execute("SELECT 1 FROM events WHERE event_id >= ? AND event_id < ? LIMIT 1",
                                    (prefix, upper)).fetchone() is not None

    def user_events(self, user_id: str, since_seq: int = 0, until_seq: int | None = None) -> list[Event]:
        """The user's events in time order (ties by arrival); only those after `since_seq` (and up
        to `until_seq`, so a caller holding a watermark reads exactly what it counted)."""
        rows = self._conn().execute(
            "SELECT event_id,user_id,item_id,type,ts,value_num,value_txt,seq FROM events "
            "WHERE user_id=? AND seq>? AND seq<=? ORDER BY ts, seq",
            (user_id, since_seq, _MAX_SEQ if until_seq is None else until_seq),
        ).fetchall()
        return [_event(r) for r in rows]

    def user_watermark(self, user_id: str) -> tuple[int, int]:
        """(number of events, highest seq) of the user: changes whenever the user's events do."""
        n, top = self._conn().execute(
            "SELECT COUNT(*), COALESCE(MAX(seq),0) FROM events WHERE user_id=?", (user_id,)
        ).fetchone()
        return int(n), int(top)

    def iter_rows(self) -> Iterator[tuple[str, str | None, str, float, float | None, str | None]]:
        """All events as (user_id, item_id, type, ts, value_num, value_txt), by user then time."""
        cur = self._conn().execute(
            "SELECT user_id,item_id,type,ts,value_num,value_txt FROM events ORDER BY user_id, ts, seq"
        )
        while True:
            rows = cur.fetchmany(50_000)
            if not rows:
                return
            yield from rows

    def latest(self, limit: int = 5000) -> list[Event]:
        """The `limit` most recently stored events, newest first (read-only; the merchant lab's live view)."""
        rows = self._conn().execute(
            "SELECT event_id,user_id,item_id,type,ts,value_num,value_txt FROM events ORDER BY seq DESC LIMIT ?",
            (int(limit),)).fetchall()
        return [_event(r) for r in rows]

    def count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def n_users(self) -> int:
        return int(self._conn().execute("SELECT COUNT(DISTINCT user_id) FROM events").fetchone()[0])

    def top_users(self, n: int = 20) -> list[tuple[str, int]]:
        """Users with the most events (for demos)."""
        rows = self._conn().execute(
            "SELECT user_id, COUNT(*) c FROM events GROUP BY user_id ORDER BY c DESC, user_id LIMIT ?", (n,)
        ).fetchall()
        return [(u, int(c)) for u, c in rows]


def _row(e: Event) -> tuple:
    return _fields_row(e.event_id, e.user_id, e.item_id, e.type, e.timestamp, e.value)


def _fields_row(event_id, user_id, item_id, etype, timestamp, value) -> tuple:
    """The stored columns (event_id, user_id, item_id, type, ts, value_num, value_txt) of one event."""
    num = value if isinstance(value, float) else None
    txt = value if isinstance(value, str) else None
    return (event_id, user_id, item_id, etype, float(timestamp), num, txt)


def _check_keys(event: dict) -> None:
    unknown = [k for k in event if k not in _FIELDS]
    if unknown:
        raise EventValidationError(
            f"Unknown event field(s) {', '.join(sorted(repr(k) for k in unknown))}; accepted: {', '.join(_FIELDS)}"
        )


def _chunked(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _event(r) -> Event:
    value = r[5] if r[5] is not None else r[6]
    return Event(event_id=r[0], user_id=r[1], item_id=r[2], type=r[3], timestamp=r[4], value=value)
