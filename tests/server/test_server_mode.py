"""The scale-out path: the same retrieval and recommendation behaviour against a Chroma server
(`chroma run`, through HttpClient) as against the embedded store."""
from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest

pytestmark = pytest.mark.server

BRANDS = ["Acme", "Lumina", "Verde", "Nordic", "Zenith"]
NOUNS = {"Lipstick": ["matte lipstick", "lip color"], "Shampoo": ["shampoo", "hair wash"],
         "Serum": ["face serum", "night serum"], "Sneakers": ["running sneakers", "trainers"]}
COLORS = ["black", "white", "red", "blue", "pink"]


def make_products(n: int = 240, seed: int = 0):
    from retrieval.catalog import Product

    rng = random.Random(seed)
    cats = list(NOUNS)
    out = []
    for i in range(n):
        cat, color = cats[i % len(cats)], rng.choice(COLORS)
        brand = BRANDS[(i // len(cats)) % len(BRANDS)]
        out.append(Product(id=f"s{i:04d}", title=f"{brand} {color} {rng.choice(NOUNS[cat])} {rng.randrange(100, 999)}",
                           description=f"A {color} {cat.lower()} by {brand}.", brand=brand, category=cat,
                           price=None if i % 13 == 0 else round(rng.uniform(3, 150), 2), currency="USD",
                           attributes={"color": color}))
    return out


def hash_vectors(n: int, dim: int, salt: str = "") -> np.ndarray:
    """Unit vectors from sha256 seeds (no model), loosely clustered."""
    centres = np.random.default_rng(7).normal(size=(10, dim))
    rows = []
    for i in range(n):
        seed = int.from_bytes(hashlib.sha256(f"{salt}{i}".encode()).digest()[:8], "little")
        rows.append(centres[i % 10] + 0.8 * np.random.default_rng(seed).normal(size=dim))
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory, chroma_url, hashing_embedder):
    """(root, registry, catalog, searcher): the synthetic catalog imported through the server."""
    from retrieval.registry import open_registry

    root = tmp_path_factory.mktemp("served") / "catalogs"
    registry = open_registry(root, chroma_url=chroma_url, embedder=hashing_embedder)
    registry.import_products("synth", make_products())
    return root, registry, registry.load("synth"), registry.searcher("synth")


def test_client_is_http(http_client):
    assert http_client.get_settings().chroma_api_impl.endswith("FastAPI")  # chromadb's HTTP client
    assert http_client.heartbeat() > 0


def test_unreachable_server_is_a_clear_error():
    """No server at the URL: a ValueError saying so, quickly, not a hang or an empty result."""
    import socket
    import time

    from retrieval.store import make_chroma_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ValueError, match="Could not connect to a Chroma server"):
        make_chroma_client(url=f"http://127.0.0.1:{port}")
    assert time.monotonic() - started < 15


def test_topk_equals_numpy_bruteforce(http_client):
    from retrieval import store

    vectors = hash_vectors(1200, 48)
    ids = [f"v{i}" for i in range(len(vectors))]
    name = "server-bruteforce-1200"
    store.delete_collection(http_client, name)
    collection = store.create_collection(http_client, name)
    try:
        store.add_vectors(collection, ids, vectors, batch_size=300)
        assert collection.count() == len(ids)
        queries = hash_vectors(30, 48, salt="q")
        got_ids, got_sims = store.query_vectors(collection, queries, 10)
        exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
        recall = np.mean([len(set(got_ids[q]) & {ids[i] for i in row}) / 10 for q, row in enumerate(exact)])
        assert recall >= 0.99, f"recall@10 vs exact {recall:.3f}"
        for q, row in enumerate(exact):
            np.testing.assert_allclose(np.sort(got_sims[q])[::-1][:5], (queries[q] @ vectors.T)[row][:5], atol=1e-4)
    finally:
        store.delete_collection(http_client, name)


def test_registry_collection_matches_catalog_bruteforce(served):
    """The catalog's own vectors in the server collection: ANN top-k = numpy top-k."""
    from retrieval import store

    _, registry, catalog, _ = served
    collection = registry.collection(catalog)
    assert collection.count() == len(catalog)
    queries = catalog.embeddings[::20]
    got_ids, _ = store.query_vectors(collection, queries, 8)
    exact = np.argsort(-(queries @ catalog.embeddings.T), axis=1, kind="stable")[:, :8]
    for q, row in enumerate(exact):
        assert got_ids[q][0] == catalog.ids[row[0]]
        assert len(set(got_ids[q]) & {catalog.ids[i] for i in row}) >= 7


@pytest.mark.parametrize("flt", [{"max_price": 40}, {"brand": "verde"}, {"category": "sneakers", "max_price": 120},
                                 {"must_have": ["black"]}, {"exclude": ["red", "black"]}])
def test_filters_return_k(served, flt):
    from retrieval.search import SearchFilters

    _, _, catalog, searcher = served
    mask = searcher.filter_mask(SearchFilters(**flt))
    n_match = int(mask.sum())
    assert n_match > 0
    for k in (1, 10, n_match, n_match + 5):
        hits = searcher.search("comfortable everyday product", k=k, filters=flt)
        assert len(hits) == min(k, n_match)
        assert all(mask[h.row] for h in hits)
        assert len({h.id for h in hits}) == len(hits)


def test_search_finds_the_right_products(served):
    _, _, catalog, searcher = served
    hits = searcher.search("red matte lipstick", k=5)
    assert hits and all(catalog.products[h.row].category == "Lipstick" for h in hits[:3])


def test_new_client_and_registry_see_the_catalog(served, chroma_url, hashing_embedder):
    """Another process / app worker: a fresh client and registry on the same home and server."""
    from retrieval.registry import open_registry

    root, _, catalog, searcher = served
    other = open_registry(root, chroma_url=chroma_url, embedder=hashing_embedder)
    assert [i.name for i in other.list()] == ["synth"]
    assert other.check("synth") == "ok"
    again = other.load("synth")
    assert again.ids == catalog.ids
    hits = other.searcher("synth").search("blue running sneakers", k=7)
    assert [h.id for h in hits] == [h.id for h in searcher.search("blue running sneakers", k=7)]


def test_data_survives_a_server_restart(tmp_path, hashing_embedder, start_chroma_server):
    from retrieval.registry import open_registry

    root = tmp_path / "catalogs"
    server = start_chroma_server(tmp_path / "chroma-data")
    registry = open_registry(root, chroma_url=server.url, embedder=hashing_embedder)
    registry.import_products("keep", make_products(60, seed=3))
    before = [h.id for h in registry.searcher("keep").search("pink night serum", k=5)]
    server.stop()
    again = start_chroma_server(tmp_path / "chroma-data", port=server.port)
    registry = open_registry(root, chroma_url=again.url, embedder=hashing_embedder)
    assert registry.check("keep") == "ok"
    assert [h.id for h in registry.searcher("keep").search("pink night serum", k=5)] == before


def test_engine_against_the_server(tmp_path, chroma_url):
    """The Engine with chroma_url: import, search, an event, personal recommendations, and a second
    engine (another worker) on the same home and server sees the same catalog and the event."""
    from assistant.engine import Engine
    from assistant.settings import Settings

    csv_path = tmp_path / "shop.csv"
    lines = ["id,title,brand,category,price"]
    lines += [f"{p.id},{p.title},{p.brand},{p.category},{p.price if p.price is not None else ''}"
              for p in make_products(80, seed=5)]
    csv_path.write_text("\n".join(lines) + "\n")
    settings = Settings(home=tmp_path / "home", chroma_url=chroma_url, embedder="hashing", llm="none")
    engine = Engine(settings)
    summary = engine.import_catalog(csv_path, "shop")
    assert summary["n_imported"] == 80

    results = engine.search("red lipstick", k=5, catalog="shop")
    assert len(results) == 5 and {"id", "title", "score", "why"} <= set(results[0])
    cheap = engine.search("lipstick", k=5, filters={"max_price": 30}, catalog="shop")
    assert cheap and all(r["price"] is not None and r["price"] <= 30 for r in cheap)

    bought = results[0]["id"]
    ack = engine.record_event("shopper-1", bought, "purchase", event_id="evt-1", catalog="shop")
    assert ack["ok"] and not ack["duplicate"]
    assert engine.record_event("shopper-1", bought, "purchase", event_id="evt-1", catalog="shop")["duplicate"]
    recs = engine.recommend("shopper-1", k=5, catalog="shop")
    assert len(recs) == 5 and bought not in [r["id"] for r in recs]  # already bought: not recommended again

    worker2 = Engine(settings)
    assert "shop" in worker2.catalogs()
    assert [r["id"] for r in worker2.search("red lipstick", k=5, catalog="shop")] == [r["id"] for r in results]
    assert worker2.record_event("shopper-1", bought, "purchase", event_id="evt-1", catalog="shop")["duplicate"]
