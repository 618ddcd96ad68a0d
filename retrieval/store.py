"""Chroma behind a small interface: persistent (embedded), http (server) or ephemeral (tests).

We always add and query with our own vectors. Chroma's default embedding function (which would
try to download an ONNX model) is never attached: collections get `PrecomputedEmbeddings`, an
embedding function that refuses to embed. chromadb is imported inside the functions.

HNSW settings (`HNSW_CONFIG`) were measured on the 12k demo catalog with MiniLM vectors
(benchmarks/bench_search.py, figures in benchmarks/README.md): recall@10 vs exact >= 0.97.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlparse

import numpy as np

# Cosine space; ef_search is raised per query to at least n_results by hnswlib itself.
HNSW_CONFIG: dict[str, Any] = {
    "space": "cosine",
    "ef_construction": 200,
    "ef_search": 128,
    "max_neighbors": 32,
}
CHROMA_INSTALL = 'pip install "chromadb==1.5.9"'


def _chromadb():
    try:
        import chromadb
    except ImportError as exc:
        raise ImportError(f"The vector store needs chromadb: {CHROMA_INSTALL}") from exc
    return chromadb


def make_chroma_client(path: Path | str | None = None, url: str | None = None, ephemeral: bool = False):
    """HttpClient when `url` is given, EphemeralClient when `ephemeral`, else PersistentClient(path)."""
    chromadb = _chromadb()
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=ephemeral)
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"Expected a Chroma server URL like http://127.0.0.1:8000, got {url!r}")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=parsed.scheme == "https",
                                   settings=settings)
    if ephemeral:
        return chromadb.EphemeralClient(settings=settings)
    if path is None:
        raise ValueError("Expected a path for the embedded Chroma store, or url=..., or ephemeral=True")
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


_EF_CLASS = None


def precomputed_embedding_function():
    """An embedding function that never embeds: vectors always come from our own Embedder."""
    global _EF_CLASS
    if _EF_CLASS is None:
        _chromadb()
        from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
        from chromadb.utils.embedding_functions import register_embedding_function

        class PrecomputedEmbeddings(EmbeddingFunction[Documents]):
            def __init__(self) -> None:
                pass

            def __call__(self, input: Documents) -> Embeddings:
                raise RuntimeError(
                    "shopassist collections hold precomputed vectors; pass embeddings=/query_embeddings="
                )

            @staticmethod
            def name() -> str:
                return "shopassist-precomputed"

            def get_config(self) -> dict[str, Any]:
                return {}

            @staticmethod
            def build_from_config(config: dict[str, Any]) -> "PrecomputedEmbeddings":
                return PrecomputedEmbeddings()

            def default_space(self):
                return "cosine"

        try:
            register_embedding_function(PrecomputedEmbeddings)
        except ValueError:  # already registered (module reloaded)
            pass
        _EF_CLASS = PrecomputedEmbeddings
    return _EF_CLASS()


def create_collection(client, name: str, hnsw: dict[str, Any] | None = None, metadata: dict | None = None):
    """A new collection for precomputed vectors (fails if the name exists)."""
    return client.create_collection(
        name=name,
        configuration={"hnsw": dict(hnsw or HNSW_CONFIG)},
        metadata=metadata or None,
        embedding_function=precomputed_embedding_function(),
    )


def get_collection(client, name: str):
    """The named collection, or None when it does not exist."""
    try:
        return client.get_collection(name=name, embedding_function=precomputed_embedding_function())
    except Exception as exc:  # chromadb raises NotFoundError (1.x) / ValueError (older)
        if "does not exist" in str(exc) or type(exc).__name__ in ("NotFoundError", "InvalidCollectionException"):
            return None
        raise


def delete_collection(client, name: str) -> bool:
    try:
        client.delete_collection(name=name)
        return True
    except Exception as exc:
        if "does not exist" in str(exc) or type(exc).__name__ in ("NotFoundError", "InvalidCollectionException"):
            return False
        raise


def list_collection_names(client) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in client.list_collections()]


def add_vectors(collection, ids: Sequence[str], vectors: np.ndarray, batch_size: int | None = None) -> None:
    """Add in batches no larger than the client allows."""
    if len(ids) != len(vectors):
        raise ValueError(f"Expected as many ids as vectors, got {len(ids)} ids and {len(vectors)} vectors")
    if batch_size is None:
        try:
            batch_size = min(5000, int(collection._client.get_max_batch_size()))
        except Exception:
            batch_size = 1000
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    for start in range(0, len(ids), batch_size):
        collection.add(ids=list(ids[start:start + batch_size]), embeddings=vectors[start:start + batch_size])


def query_vectors(collection, vectors: np.ndarray, n: int, count: int | None = None
                  ) -> tuple[list[list[str]], list[np.ndarray]]:
    """ANN top-n per query vector: (ids per query, cosine similarities per query).

    count: number of vectors in the collection when the caller knows it (saves a ~2 ms round trip).
    """
    vectors = np.atleast_2d(np.ascontiguousarray(vectors, dtype=np.float32))
    if count is None:
        count = collection.count()
    n = max(1, min(n, count))
    if count == 0:
        return [[] for _ in vectors], [np.zeros(0, np.float32) for _ in vectors]
    result = collection.query(query_embeddings=vectors, n_results=n, include=["distances"])
    ids = [list(r) for r in result["ids"]]
    sims = [1.0 - np.asarray(d, dtype=np.float32) for d in result["distances"]]  # cosine distance = 1 - cos
    return ids, sims
