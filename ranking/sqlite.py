"""Durable SQLite files shared between threads: one connection per thread, WAL, synchronous=FULL,
secure_delete (erased rows are overwritten on disk). Used by the event store and the chat log."""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterator


class DurableSQLite:
    """Mixin: call `_open_sqlite(path, schema)` in __init__, then `_conn()` from any thread."""

    def _open_sqlite(self, path: Path | str, schema: str, version: int = 1,
                     upgrade: Callable[[sqlite3.Connection, int], None] | None = None) -> None:
        """Create the tables (idempotent) and record the schema `version` in PRAGMA user_version;
        a file written by a newer program (higher version) is refused. `upgrade(conn, have)` migrates
        a file at an older version `have` (0: never versioned) before `schema` runs; it must be
        idempotent, since two processes may open the same old file at once."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._conn_lock = threading.Lock()
        conn = self._conn()
        have = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if have > version:
            raise RuntimeError(f"{self.path} is at schema version {have}, newer than this program's {version}: "
                               "upgrade shopassist (or point SHOPASSIST_HOME elsewhere).")
        if upgrade is not None and have < version:
            upgrade(conn, have)
        conn.executescript(schema)
        if have < version:
            conn.execute(f"PRAGMA user_version={int(version)}")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")   # acknowledged = on disk
            conn.execute("PRAGMA secure_delete=ON")   # forgotten users are overwritten, not just unlinked
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn = conn
            with self._conn_lock:
                self._connections.append(conn)
        return conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on this thread's connection: BEGIN IMMEDIATE, COMMIT (one fsync),
        or ROLLBACK if the block raises."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _checkpoint(self) -> None:
        """Fold the WAL into the main file and truncate it (erased rows leave no copy in the WAL)."""
        self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._conn_lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # created in another thread; closed there
                    pass
            self._connections.clear()
        self._local = threading.local()
