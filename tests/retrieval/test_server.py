"""HttpClient against a real `chroma run` server subprocess (same registry code as embedded)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists() and not shutil.which("chroma"):
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    proc = subprocess.Popen([str(exe if exe.exists() else "chroma"), "run", "--path", str(tmp_path / "server"),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.skip("chroma server did not start within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_registry_over_http(chroma_server, tmp_path, hashing_embedder, make_products):
    from retrieval.catalogs import CatalogRegistry
    from retrieval.store import make_chroma_client

    client = make_chroma_client(url=chroma_server)
    registry = CatalogRegistry(tmp_path / "catalogs", client, hashing_embedder)
    registry.import_products("synth", make_products(80))
    searcher = registry.searcher("synth")
    hits = searcher.search("red lipstick", k=5, filters={"category": "Lipstick"})
    assert len(hits) == 5 and all(searcher.catalog.products[h.row].category == "Lipstick" for h in hits)
    # A second client (another process would do the same) sees the same collection.
    other = CatalogRegistry(tmp_path / "catalogs", make_chroma_client(url=chroma_server), hashing_embedder)
    assert other.check("synth") == "ok"
    registry.drop("synth")
    assert other.list() == []
