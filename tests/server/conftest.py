"""A real Chroma server for the scale-out tests: `chroma run --path TMP --host 127.0.0.1 --port FREE`.

`chroma_server` (session): starts one server, waits until `HttpClient(...).heartbeat()` answers,
yields it (`.url`), terminates it at the end. Skipped only when the `chroma` executable is missing.
`chroma_url` / `http_client`: its URL and an HttpClient on it.
`ChromaServer` can also be used directly (e.g. to stop and restart a server on the same path).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 60.0


def chroma_executable() -> str | None:
    """The `chroma` script next to this interpreter (.venv/bin), else the one on PATH."""
    local = Path(sys.executable).with_name("chroma")
    if local.exists() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("chroma")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """One `chroma run` subprocess on 127.0.0.1; its log goes to `<path>.log`."""

    def __init__(self, path: Path, port: int | None = None):
        exe = chroma_executable()
        if exe is None:
            raise FileNotFoundError("chroma executable not found (pip install chromadb)")
        self.exe = exe
        self.path = Path(path)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.path.with_name(self.path.name + ".log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "ChromaServer":
        self.path.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.exe, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True)  # its own process group: terminate() reaches any children
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        from retrieval.store import make_chroma_client

        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                make_chroma_client(url=self.url).heartbeat()
                return
            except Exception as exc:  # noqa: BLE001 - not up yet
                last = exc
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run on {self.url} did not answer its heartbeat within "
                           f"{STARTUP_TIMEOUT_S:.0f} s ({last}):\n{self.log()[-3000:]}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass

    def __enter__(self) -> "ChromaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A running ChromaServer shared by the session. SHOPASSIST_TEST_CHROMA_URL=http://host:port
    points the tests at a server started elsewhere (e.g. by CI) instead."""
    external = os.environ.get("SHOPASSIST_TEST_CHROMA_URL")
    if external:
        server = ChromaServer.__new__(ChromaServer)
        server.url, server.proc = external.rstrip("/"), None
        yield server
        return
    if chroma_executable() is None:
        pytest.skip("the `chroma` executable is missing (it ships with chromadb: `make venv`)")
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chroma_url(chroma_server) -> str:
    return chroma_server.url


@pytest.fixture(scope="session")
def http_client(chroma_url):
    from retrieval.store import make_chroma_client

    return make_chroma_client(url=chroma_url)


@pytest.fixture
def start_chroma_server():
    """Factory: start_chroma_server(path, port=None) -> a started ChromaServer, stopped after the test."""
    if chroma_executable() is None:
        pytest.skip("the `chroma` executable is missing (it ships with chromadb: `make venv`)")
    started: list[ChromaServer] = []

    def start(path, port=None) -> ChromaServer:
        server = ChromaServer(path, port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# ------------------------------------------------------------------ PostgreSQL and Redis (issue 15)
# SHOPASSIST_TEST_DATABASE_URL / SHOPASSIST_TEST_REDIS_URL point at servers started elsewhere (.ci/run);
# otherwise one private server of each is started from Debian's binaries, or the tests skip saying why.
def _server_url(package: str, env: str, kind: str):
    """The URL of a test server of `kind` ("pg" | "redis"): SHOPASSIST_TEST_*_URL when set, else one
    private server started from Debian's binaries (destroyed after the session), else a skip saying why."""
    import dbservers

    pytest.importorskip(package, reason=f"{package} is not installed (pip install 'shopassist[servers]')")
    external = os.environ.get(env)
    if external:
        yield external
        return
    find, missing, server_class = {
        "pg": (dbservers.pg_bin, dbservers.MISSING_PG, dbservers.PgServer),
        "redis": (dbservers.redis_bin, dbservers.MISSING_REDIS, dbservers.RedisServer),
    }[kind]
    if find() is None:
        pytest.skip(missing)
    server = server_class().start()
    yield server.url
    server.destroy()


@pytest.fixture(scope="session")
def pg_server_url():
    yield from _server_url("psycopg", "SHOPASSIST_TEST_DATABASE_URL", "pg")


@pytest.fixture(scope="session")
def redis_server_url():
    yield from _server_url("redis", "SHOPASSIST_TEST_REDIS_URL", "redis")


@pytest.fixture
def pg_url(pg_server_url, request):
    """A fresh, empty database on the PostgreSQL server for this test."""
    from dbservers import create_database

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    return create_database(pg_server_url, name)


_redis_db = iter(range(1, 16))


@pytest.fixture
def redis_url(redis_server_url):
    """An empty logical database (1..15, flushed) on the Redis server for this test."""
    import redis

    base = redis_server_url.rsplit("/", 1)[0]
    url = f"{base}/{next(_redis_db, 15)}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def private_pg():
    """A PostgreSQL server of this test's own (it may stop and restart it)."""
    from dbservers import MISSING_PG, PgServer, pg_bin

    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install 'shopassist[servers]')")
    if pg_bin() is None:
        pytest.skip(MISSING_PG)
    server = PgServer().start()
    yield server
    from ranking.servers import close_database

    close_database(server.url)
    server.destroy()


@pytest.fixture
def private_redis():
    from dbservers import MISSING_REDIS, RedisServer, redis_bin

    pytest.importorskip("redis", reason="redis-py is not installed (pip install 'shopassist[servers]')")
    if redis_bin() is None:
        pytest.skip(MISSING_REDIS)
    server = RedisServer().start()
    yield server
    server.destroy()
