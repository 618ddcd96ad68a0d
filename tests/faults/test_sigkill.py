"""Durability: SIGKILL writer processes while events stream in; every acknowledged event survives."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("event_writer.py")

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


class Writer:
    """A writer subprocess and a thread collecting its acknowledgements."""

    def __init__(self, db: Path, prefix: str):
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, str(WRITER), str(db), prefix], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.prefix = prefix
        self.acks: list[str] = []
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            line = raw.decode().strip()
            if line == "ready":
                self.ready.set()
            elif line.startswith(self.prefix + "-"):
                self.acks.append(line)

    def wait_for(self, n: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acks) < n:
            if self.proc.poll() is not None:
                raise AssertionError(f"writer exited early: {self.proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.acks)} acks after {timeout} s")
            time.sleep(0.01)

    def kill(self) -> list[str]:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=10) == -signal.SIGKILL
        self.thread.join(timeout=10)  # acks already in the pipe were acknowledged too
        self.proc.stdout.close()
        self.proc.stderr.close()
        return list(self.acks)


def stored_ids(db: Path) -> set[str]:
    conn = sqlite3.connect(str(db))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {r[0] for r in conn.execute("SELECT event_id FROM events")}
    finally:
        conn.close()


def test_acknowledged_events_survive_sigkill(tmp_path):
    db = tmp_path / "events.sqlite"
    # round 1: one writer killed mid-stream
    w = Writer(db, "r1")
    w.wait_for(150)
    acked = w.kill()
    assert len(acked) >= 150
    ids = stored_ids(db)
    missing = set(acked) - ids
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:5]}"
    assert len(ids - set(acked)) <= 1  # at most the one committed while its ack was being written

    # round 2: restart on the same file with two concurrent writers, kill both at once
    writers = [Writer(db, "r2a"), Writer(db, "r2b")]
    for w in writers:
        w.wait_for(60)
    acked2 = [a for w in writers for a in w.kill()]
    ids = stored_ids(db)
    assert set(acked) | set(acked2) <= ids

    # and the store opens normally afterwards (WAL recovered) and keeps accepting events
    from ranking.events import EventStore

    with EventStore(db) as store:
        assert store.count() == len(ids)
        ack = store.add({"event_id": "after", "user_id": "u1", "item_id": "p1", "type": "view"})
        assert not ack.duplicate
        assert store.add({"event_id": "r1-0", "user_id": "u0", "item_id": "p0", "type": "view"}).duplicate
