"""Shared servers for several workers: PostgreSQL (events, chat log) and Redis (sessions, live profiles).

Embedded by default, servers by setting: `SHOPASSIST_DATABASE_URL=postgresql://...` and
`SHOPASSIST_REDIS_URL=redis://...`. This module is the one home of what both need:

- `ServerUnavailable`: a server did not answer. The message names the URL (password hidden),
  the setting it came from and what to start; the app shows it as plain text.
- `PgDatabase`: a psycopg 3 connection pool. `run(fn)` runs `fn(conn)` in one transaction
  (committed when it returns) and retries it on a lost connection for `retry_s`; callers make
  their writes idempotent (events: ON CONFLICT on event_id), so a retry never double-counts.
  `migrate(component, steps)` creates / upgrades a component's tables under an advisory lock
  (several workers may start at once) and records the version in `shopassist_schema`.
- `redis_client(url)`: a redis-py client that was answered once, with the same clear error.

psycopg / redis are imported inside the functions: the embedded default does not need them.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

INSTALL = 'pip install "shopassist[servers]"  (psycopg[binary], psycopg-pool, redis)'
PG_START = ("start PostgreSQL (e.g. `pg_ctl -D DATADIR -o '-k /tmp -h 127.0.0.1 -p PORT' start`, or the "
            "system service), or unset SHOPASSIST_DATABASE_URL to use the embedded SQLite files")
REDIS_START = ("start Redis (e.g. `redis-server --bind 127.0.0.1 --port PORT --dir DIR`), or unset "
               "SHOPASSIST_REDIS_URL to keep sessions and live profiles in the worker's memory")


class ServerUnavailable(RuntimeError):
    """A database / state server did not answer; the message says which URL and what to start."""


def safe_url(url: str) -> str:
    """The URL with any password replaced by ***, for messages and logs."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", str(url))


def _check_scheme(url: str, schemes: Sequence[str], setting: str) -> None:
    if not isinstance(url, str) or not any(url.startswith(s + "://") for s in schemes):
        raise ValueError(f"Expected {setting} to start with {' or '.join(s + '://' for s in schemes)}, "
                         f"got {safe_url(url)!r}")


class PgDatabase:
    """A pool of connections to one PostgreSQL database, shared by the stores of a worker."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8, retry_s: float = 3.0,
                 connect_timeout_s: float = 3.0):
        _check_scheme(url, ("postgresql", "postgres"), "SHOPASSIST_DATABASE_URL")
        try:
            import psycopg  # noqa: F401
            from psycopg_pool import ConnectionPool
        except ImportError as exc:
            raise ImportError(f"SHOPASSIST_DATABASE_URL needs psycopg 3 and psycopg_pool: {INSTALL}") from exc
        self.url = url
        self.retry_s = float(retry_s)
        self.pool = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=False, timeout=connect_timeout_s + 1.0,
            check=ConnectionPool.check_connection,   # a connection broken by a server restart is replaced
            kwargs={"connect_timeout": max(1, int(connect_timeout_s))}, name="shopassist")
        try:
            self.pool.open(wait=True, timeout=connect_timeout_s + 2.0)
        except Exception as exc:  # noqa: BLE001 - PoolTimeout / OperationalError: say what to start
            self.pool.close()
            raise self.unavailable(exc) from None
        self._migrated: dict[str, int] = {}
        self._lock = threading.Lock()

    def unavailable(self, exc: BaseException) -> ServerUnavailable:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ServerUnavailable(
            f"Could not reach PostgreSQL at {safe_url(self.url)} (SHOPASSIST_DATABASE_URL): {detail}. "
            f"Nothing was stored by this request; retry it once the server is back. To fix: {PG_START}.")

    def run(self, fn: Callable[[object], T], *, retry: bool = True) -> T:
        """fn(conn) in one transaction, committed when fn returns. A lost connection is retried
        (for `retry_s`) with a fresh one; fn must be safe to run again (idempotent writes).
        `fn.retried` is not tracked here: callers that must know pass state in their closure."""
        import psycopg

        deadline = time.monotonic() + (self.retry_s if retry else 0.0)
        delay = 0.05
        while True:
            try:
                with self.pool.connection() as conn:
                    return fn(conn)
            except psycopg.OperationalError as exc:   # lost / refused connection, pool timeout
                if time.monotonic() + delay > deadline:
                    raise self.unavailable(exc) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def migrate(self, component: str, steps: Sequence[str]) -> int:
        """Bring `component`'s tables to version len(steps) (step i upgrades i -> i+1); returns it.
        A database written by a newer program (higher version) is refused with a clear error."""
        target = len(steps)

        def apply(conn) -> int:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('shopassist_schema'))")
            conn.execute("CREATE TABLE IF NOT EXISTS shopassist_schema (component TEXT PRIMARY KEY, "
                         "version INTEGER NOT NULL, updated DOUBLE PRECISION NOT NULL)")
            row = conn.execute("SELECT version FROM shopassist_schema WHERE component=%s", (component,)).fetchone()
            have = int(row[0]) if row else 0
            if have > target:
                raise RuntimeError(
                    f"The {component} tables at {safe_url(self.url)} are at schema version {have}, newer than "
                    f"this program's {target}: upgrade shopassist on every worker (or use another database).")
            for step in steps[have:]:
                conn.execute(step)
            if have != target:
                conn.execute("INSERT INTO shopassist_schema(component, version, updated) VALUES (%s,%s,%s) "
                             "ON CONFLICT (component) DO UPDATE SET version=EXCLUDED.version, "
                             "updated=EXCLUDED.updated", (component, target, time.time()))
            return target

        with self._lock:
            self._migrated[component] = self.run(apply)
            return self._migrated[component]

    def schema_version(self, component: str) -> int:
        row = self.run(lambda c: c.execute(
            "SELECT version FROM shopassist_schema WHERE component=%s", (component,)).fetchone())
        return int(row[0]) if row else 0

    def vacuum(self, table: str) -> None:
        """VACUUM one table (outside a transaction): frees the space of deleted rows for reuse."""
        if not re.fullmatch(r"[a-z_]+", table):
            raise ValueError(f"Expected a plain table name, got {table!r}")

        def go(conn):
            conn.commit()
            conn.autocommit = True
            try:
                conn.execute(f"VACUUM {table}")
            finally:
                conn.autocommit = False

        self.run(go)

    def close(self) -> None:
        self.pool.close()


_DATABASES: dict[str, PgDatabase] = {}
_DB_LOCK = threading.Lock()


def pg_database(url: str) -> PgDatabase:
    """One pool per URL in a process (the event store and the chat log share it)."""
    with _DB_LOCK:
        db = _DATABASES.get(url)
        if db is None or db.pool.closed:
            db = _DATABASES[url] = PgDatabase(url)
        return db


def close_database(url: str) -> None:
    """Close and forget the pool of `url` (a server that is gone for good: no reconnect attempts)."""
    with _DB_LOCK:
        db = _DATABASES.pop(url, None)
    if db is not None:
        db.close()


# -------------------------------------------------------------------------------------- Redis
def redis_unavailable(url: str, exc: BaseException) -> ServerUnavailable:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ServerUnavailable(
        f"Could not reach Redis at {safe_url(url)} (SHOPASSIST_REDIS_URL): {detail}. "
        f"Retry the request once the server is back. To fix: {REDIS_START}.")


class RedisState:
    """A redis-py client plus `call(fn)`: fn(client), with a lost connection retried for `retry_s`
    and then a ServerUnavailable naming the URL. Writes made through it are idempotent (SET/DEL)."""

    def __init__(self, url: str, *, retry_s: float = 2.0, timeout_s: float = 3.0):
        _check_scheme(url, ("redis", "rediss", "unix"), "SHOPASSIST_REDIS_URL")
        try:
            import redis
        except ImportError as exc:
            raise ImportError(f"SHOPASSIST_REDIS_URL needs redis-py: {INSTALL}") from exc
        self.url = url
        self.retry_s = float(retry_s)
        self.client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                           health_check_interval=10)
        self.call(lambda r: r.ping())

    def call(self, fn: Callable[[object], T]) -> T:
        import redis

        deadline = time.monotonic() + self.retry_s
        delay = 0.05
        while True:
            try:
                return fn(self.client)
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
                if time.monotonic() + delay > deadline:
                    raise redis_unavailable(self.url, exc) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def close(self) -> None:
        self.client.close()


_REDIS: dict[str, RedisState] = {}


def redis_state(url: str) -> RedisState:
    """One client (with its connection pool) per URL in a process."""
    with _DB_LOCK:
        state = _REDIS.get(url)
        if state is None:
            state = _REDIS[url] = RedisState(url)
        return state
