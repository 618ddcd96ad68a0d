"""The Chroma boundary: exact top-k agreement with numpy, no default embedding function."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from retrieval import store


def hash_vectors(n: int, dim: int, salt: str = "") -> np.ndarray:
    """Unit vectors derived from sha256 (no model, identical everywhere), loosely clustered."""
    seeds = [int.from_bytes(hashlib.sha256(f"{salt}{i}".encode()).digest()[:8], "little") for i in range(n)]
    centres = np.random.default_rng(7).normal(size=(12, dim))
    rows = []
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        rows.append(centres[i % 12] + 0.8 * rng.normal(size=dim))
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_chroma_topk_equals_numpy_bruteforce(chroma_client):
    vectors = hash_vectors(1500, 48)
    ids = [f"v{i}" for i in range(len(vectors))]
    collection = store.create_collection(chroma_client, "test-bruteforce-1500")
    try:
        store.add_vectors(collection, ids, vectors, batch_size=400)
        queries = hash_vectors(40, 48, salt="q")
        got_ids, got_sims = store.query_vectors(collection, queries, 10)
        exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
        for q, row in enumerate(exact):
            assert got_ids[q] == [ids[i] for i in row]
            np.testing.assert_allclose(got_sims[q], (queries[q] @ vectors.T)[row], atol=1e-4)
    finally:
        store.delete_collection(chroma_client, "test-bruteforce-1500")


def test_collection_never_embeds(chroma_client):
    collection = store.create_collection(chroma_client, "test-no-default-ef")
    try:
        config = collection.configuration_json
        assert config["embedding_function"]["name"] == "shopassist-precomputed"
        assert config["hnsw"]["space"] == "cosine"
        with pytest.raises(Exception, match="precomputed vectors"):
            collection.add(ids=["x"], documents=["some text"])
        again = store.get_collection(chroma_client, "test-no-default-ef")
        assert again is not None and again.count() == 0
    finally:
        assert store.delete_collection(chroma_client, "test-no-default-ef")
    assert store.get_collection(chroma_client, "test-no-default-ef") is None
    assert store.delete_collection(chroma_client, "test-no-default-ef") is False


def test_client_arguments():
    with pytest.raises(ValueError, match="Expected a Chroma server URL"):
        store.make_chroma_client(url="ftp://x")
    with pytest.raises(ValueError, match="Expected a path"):
        store.make_chroma_client()
    with pytest.raises(ValueError, match="as many ids as vectors"):
        store.add_vectors(None, ["a"], np.zeros((2, 3), np.float32))
