"""Real PostgreSQL and Redis servers for the several-worker tests (Debian's `postgresql`, `redis-server`).

`PgServer(dir)`: initdb + `pg_ctl start` on 127.0.0.1:PORT (trust auth, user `shopassist`), run as
the `postgres` user when we are root (initdb refuses root); `stop()` / `start()` restart it on the
same port and data. `RedisServer(dir)`: `redis-server` on 127.0.0.1:PORT, no persistence.
`Worker(name, env, log_dir)`: one `shopassist serve` process (the tests and bench_workers.py).
`pg_bin()` / `redis_bin()` say whether the binaries exist (tests skip with the reason otherwise).
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_USER = "shopassist"
MISSING_PG = ("PostgreSQL binaries (initdb, pg_ctl) not found: `apt-get install postgresql` (.ci/run does), "
              "or set SHOPASSIST_TEST_DATABASE_URL to a server's URL")
MISSING_REDIS = ("redis-server not found: `apt-get install redis-server` (.ci/run does), or set "
                 "SHOPASSIST_TEST_REDIS_URL to a server's URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("pg_ctl")
    return Path(exe).parent if exe else None


def redis_bin() -> str | None:
    return shutil.which("redis-server")


class PgServer:
    """One private PostgreSQL cluster in a temporary directory."""

    def __init__(self, port: int | None = None):
        self.bin = pg_bin()
        if self.bin is None:
            raise FileNotFoundError(MISSING_PG)
        # /tmp itself (pytest's basetemp is root-only, which the postgres user cannot enter)
        self.dir = Path(tempfile.mkdtemp(prefix="shopassist-pg-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "server.log"
        self.port = port or free_port()
        self.url = f"postgresql://{PG_USER}@127.0.0.1:{self.port}/postgres"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", PG_USER, "-A", "trust", "-E", "UTF8",
                   "--no-sync"])

    def _run(self, cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout[-2000:]}{out.stderr[-2000:]}"
                               f"\n{self.log()[-2000:]}")
        return out

    def start(self) -> "PgServer":
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=100"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path), "-o", opts,
                   "-w", "-t", "60", "start"])
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (FileNotFoundError, PermissionError):
            return ""

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """One redis-server on 127.0.0.1 with no persistence (sessions / profiles are rebuildable)."""

    def __init__(self, port: int | None = None):
        self.exe = redis_bin()
        if self.exe is None:
            raise FileNotFoundError(MISSING_REDIS)
        self.dir = Path(tempfile.mkdtemp(prefix="shopassist-redis-"))
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        with open(self.dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                [self.exe, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir), "--save", "",
                 "--appendonly", "no", "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.dir / 'server.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer PING within 30 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """CREATE DATABASE name on the server of `url`; returns the URL of the new database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


class Worker:
    """One `shopassist serve` subprocess (python -m assistant.cli serve) on a free port; its log in log_dir."""

    def __init__(self, name: str, env: dict, log_dir: Path, priority: int | None = None):
        # priority: the worker's nice value (bench_workers.py: 0, its requests are what is timed)
        self.name, self.env, self.log_path = name, env, log_dir / f"worker-{name}.log"
        self.priority = priority
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 240) -> "Worker":
        import httpx

        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(self.port)],
                                         env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, preexec_fn=self._set_priority)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"worker {self.name} did not answer within {timeout:.0f} s:\n{self.log()[-3000:]}")

    def _set_priority(self) -> None:
        if self.priority is not None:
            os.setpriority(os.PRIO_PROCESS, 0, self.priority)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
