"""HttpClient against a real `chroma run` server subprocess (same registry code as embedded)."""
from __future__ import annotations

import pytest

from tests.server.conftest import ChromaServer, chroma_executable

pytestmark = pytest.mark.server


@pytest.fixture
def chroma_server(tmp_path):
    """A fresh `chroma run` for this test (it drops its collection); a server that does not come up
    fails the test with its log (ChromaServer), it is not skipped."""
    if chroma_executable() is None:
        pytest.skip("the `chroma` executable is missing (it ships with chromadb: `make venv`)")
    with ChromaServer(tmp_path / "server") as server:
        yield server.url


def test_registry_over_http(chroma_server, tmp_path, hashing_embedder, make_products):
    from retrieval.registry import CatalogRegistry
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
