"""Registry of imported catalogs: versioned on disk, vectors in Chroma, atomic per version.

Layout under `root` (settings.catalogs_dir):

    NAME/CURRENT          "v3"  -- the pointer, replaced atomically (write temp file, os.replace)
    NAME/v3/products.jsonl       one validated Product per line, row i = Catalog row i
    NAME/v3/embeddings.npy       float32 (n, dim), L2-normalised, row i = products[i]
    NAME/v3/meta.json            counts, embedder name, Chroma collection name, source
    .registry_id                 random id of this home; part of every collection name, so several
                                 homes can share one Chroma server and tests one EphemeralClient

An import writes a new version directory and a new Chroma collection
("shopassist-NAME-v3-<registry id>"), checks the vector count, and only then flips CURRENT. A failure at
any step removes the half-written version and leaves the previous one current and intact. The
previous version is kept (a running process may still be reading it); older ones are deleted.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from retrieval import store
from retrieval.catalog import Catalog, CatalogImportError, ColumnMapping, ImportReport, Product, read_catalog
from retrieval.embedder import CachedEmbedder, Embedder, make_embedder
from retrieval.search import HybridSearcher, SearchConfig

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
META_FORMAT = 1
POINTER = "CURRENT"
DEMO_NAME = "beauty"
DEMO_FILE = Path("beauty") / "items.tsv.gz"
DEMO_DEFAULT_TITLE = "Amazon Beauty item {id}"  # 7 of the 12,101 demo items have no title upstream

Progress = Callable[[str], None]


class CatalogError(ValueError):
    """Base class: a catalog cannot be used as asked. The message says what to do."""


class CatalogNotFound(CatalogError, KeyError):
    """No such catalog. Both a ValueError (user error) and a KeyError (lookup failed)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


class CatalogCorrupt(CatalogError):
    pass


@dataclass
class CatalogInfo:
    name: str
    version: int
    n_products: int
    embedder: str
    dim: int
    created_at: float
    collection: str
    source: str | None = None
    status: str = "ok"  # "ok" or what is wrong (then: run `shopassist catalog rebuild NAME`)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ImportSummary:
    name: str
    version: int
    n_imported: int
    n_rows: int = 0
    n_skipped: int = 0
    n_duplicates: int = 0
    n_embedded: int = 0      # texts sent to the model
    n_from_cache: int = 0    # texts whose vectors came from the embedding cache
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # skipped rows and duplicates, human-readable
    unchanged: bool = False  # same products and embedder as the current version: nothing was written

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(str(path), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _rebuild_hint(name: str) -> str:
    return f"run `shopassist catalog rebuild {name}` (or import it again)"


class CatalogRegistry:
    """Imports, lists, loads, rebuilds and drops catalogs. One per home; safe across processes for imports."""

    def __init__(self, root: Path, chroma_client, embedder: Embedder):
        self.root = Path(root)
        self.client = chroma_client
        self.embedder = embedder
        self.root.mkdir(parents=True, exist_ok=True)
        self.registry_id = self._registry_id()

    # -- names and paths -----------------------------------------------------------------------
    def _registry_id(self) -> str:
        path = self.root / ".registry_id"
        try:
            value = path.read_text().strip()
            if re.fullmatch(r"[0-9a-f]{8}", value):
                return value
        except FileNotFoundError:
            pass
        value = secrets.token_hex(4)
        tmp = self.root / f".registry_id.{os.getpid()}.tmp"
        _write_file(tmp, value.encode())
        try:
            os.link(tmp, path)  # first writer wins
        except FileExistsError:
            value = path.read_text().strip()
        finally:
            tmp.unlink(missing_ok=True)
        return value

    @staticmethod
    def check_name(name: str) -> str:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise CatalogError(
                f"Expected a catalog name of 1-64 letters, digits, '-' or '_' (starting with a letter or digit), "
                f"got {name!r}"
            )
        return name

    def _dir(self, name: str) -> Path:
        return self.root / self.check_name(name)

    def _collection_name(self, name: str, version: int) -> str:
        return f"shopassist-{name}-v{version}-{self.registry_id}"

    def _current_version(self, name: str) -> int | None:
        try:
            text = (self._dir(name) / POINTER).read_text().strip()
        except FileNotFoundError:
            return None
        match = re.fullmatch(r"v(\d+)", text)
        if not match:
            raise CatalogCorrupt(f"catalog {name!r}: pointer file holds {text!r}, expected 'vN'; {_rebuild_hint(name)}")
        return int(match.group(1))

    def _versions_on_disk(self, name: str) -> list[int]:
        base = self._dir(name)
        if not base.is_dir():
            return []
        return sorted(int(p.name[1:]) for p in base.iterdir() if p.is_dir() and re.fullmatch(r"v\d+", p.name))

    @contextlib.contextmanager
    def _lock(self, name: str):
        import fcntl

        base = self._dir(name)
        base.mkdir(parents=True, exist_ok=True)
        with open(base / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- import ---------------------------------------------------------------------------------
    def import_file(
        self,
        path: str | Path,
        name: str,
        *,
        format: str | None = None,
        mapping: ColumnMapping | dict | None = None,
        skip_bad_rows: bool = False,
        currency: str | None = None,
        default_title: str | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """read_catalog() + import_products(). Raises CatalogImportError and writes nothing on bad input."""
        self.check_name(name)
        started = time.perf_counter()
        products, report = read_catalog(path, format=format, mapping=mapping, skip_bad_rows=skip_bad_rows,
                                        currency=currency, default_title=default_title)
        summary = self.import_products(name, products, report=report, progress=progress,
                                       source={"path": str(Path(path).resolve()), "format": report.format,
                                               "currency": currency, "default_title": default_title,
                                               "columns": report.columns})
        summary.seconds = time.perf_counter() - started
        return summary

    def import_products(
        self,
        name: str,
        products: list[Product],
        report: ImportReport | None = None,
        progress: Progress | None = None,
        source: dict | None = None,
    ) -> ImportSummary:
        """Store `products` as a new version of catalog `name` and make it current, atomically."""
        self.check_name(name)
        started = time.perf_counter()
        products = list(products)
        if not products:
            raise CatalogImportError(f"catalog {name!r}: no products to import")
        ids = [p.id for p in products]
        if len(set(ids)) != len(ids):
            seen: dict[str, Product] = {}
            for p in products:
                seen[p.id] = p
            products = list(seen.values())
        say = progress or (lambda msg: None)
        lines = "".join(p.model_dump_json() + "\n" for p in products)
        fingerprint = self._fingerprint(lines)
        unchanged = self._unchanged(name, fingerprint)
        if unchanged is not None:
            say(f"catalog {name!r} is unchanged (v{unchanged}); nothing to do")
            return ImportSummary(
                name=name, version=unchanged, n_imported=len(products),
                n_rows=report.n_rows if report else len(products),
                n_skipped=report.n_skipped if report else 0,
                n_duplicates=len(report.duplicates) if report else 0,
                n_embedded=0, n_from_cache=len(products), seconds=time.perf_counter() - started,
                errors=report.summary_lines() if report else [], unchanged=True,
            )

        # Embed first (slow, no side effects besides the embedding cache).
        texts = [p.search_text() for p in products]
        hits0, misses0 = self._cache_stats()
        say(f"embedding {len(texts)} products with {self.embedder.name}")
        vectors = self.embedder.embed_documents(
            texts, progress=lambda done, total: say(f"embedded {done}/{total} new texts"))
        hits1, misses1 = self._cache_stats()
        if hits1 is None:
            n_embedded, n_cached = len(texts), 0
        else:
            n_embedded, n_cached = misses1 - misses0, hits1 - hits0
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(products), self.embedder.dim):
            raise RuntimeError(f"Expected embeddings of shape {(len(products), self.embedder.dim)}, got {vectors.shape}")

        with self._lock(name):
            base = self._dir(name)
            previous = self._current_version(name)
            version = max([0, *self._versions_on_disk(name)]) + 1
            collection_name = self._collection_name(name, version)
            final = base / f"v{version}"
            staging = base / f".v{version}.tmp-{os.getpid()}"
            meta = {
                "format": META_FORMAT,
                "name": name,
                "version": version,
                "n_products": len(products),
                "dim": int(vectors.shape[1]),
                "embedder": self.embedder.name,
                "collection": collection_name,
                "created_at": time.time(),
                "hnsw": store.HNSW_CONFIG,
                "fingerprint": fingerprint,
                "source": source or {},
            }
            created_collection = False
            try:
                staging.mkdir(parents=True)
                _write_file(staging / "products.jsonl", lines.encode("utf-8"))
                with open(staging / "embeddings.npy", "wb") as fh:
                    np.save(fh, vectors, allow_pickle=False)
                    fh.flush()
                    os.fsync(fh.fileno())
                _write_file(staging / "meta.json", json.dumps(meta, indent=2).encode("utf-8"))
                os.rename(staging, final)
                _fsync_dir(base)

                say(f"indexing {len(products)} vectors in Chroma collection {collection_name}")
                store.delete_collection(self.client, collection_name)  # leftover of a crashed import
                collection = store.create_collection(self.client, collection_name,
                                                     metadata={"catalog": name, "version": version})
                created_collection = True
                store.add_vectors(collection, ids=[p.id for p in products], vectors=vectors)
                count = collection.count()
                if count != len(products):
                    raise CatalogCorrupt(f"Chroma holds {count} vectors after adding {len(products)}")

                pointer_tmp = base / f".{POINTER}.tmp-{os.getpid()}"
                _write_file(pointer_tmp, f"v{version}\n".encode())
                os.replace(pointer_tmp, base / POINTER)  # the commit point
                _fsync_dir(base)
            except BaseException:
                if created_collection:
                    with contextlib.suppress(Exception):
                        store.delete_collection(self.client, collection_name)
                shutil.rmtree(staging, ignore_errors=True)
                if self._current_version(name) != version:
                    shutil.rmtree(final, ignore_errors=True)
                if previous is None and not self._versions_on_disk(name):
                    shutil.rmtree(base, ignore_errors=True)
                raise
            self._cleanup(name, keep={version, previous})

        summary = ImportSummary(
            name=name, version=version, n_imported=len(products),
            n_rows=report.n_rows if report else len(products),
            n_skipped=report.n_skipped if report else 0,
            n_duplicates=len(report.duplicates) if report else 0,
            n_embedded=n_embedded, n_from_cache=n_cached,
            seconds=time.perf_counter() - started,
            errors=report.summary_lines() if report else [],
        )
        say(f"imported {summary.n_imported} products into {name!r} (v{version})")
        return summary

    def _fingerprint(self, products_jsonl: str) -> str:
        h = hashlib.sha256()
        h.update(json.dumps({"embedder": self.embedder.name, "hnsw": store.HNSW_CONFIG,
                             "format": META_FORMAT}, sort_keys=True).encode())
        h.update(products_jsonl.encode("utf-8"))
        return h.hexdigest()

    def _unchanged(self, name: str, fingerprint: str) -> int | None:
        """The current version if it holds exactly these products, embedded the same way, and is healthy."""
        try:
            version, _, meta = self._meta(name)
        except CatalogError:
            return None
        if meta.get("fingerprint") != fingerprint or self.check(name) != "ok":
            return None
        return version

    def _cache_stats(self) -> tuple[int | None, int | None]:
        if isinstance(self.embedder, CachedEmbedder):
            return self.embedder.hits, self.embedder.misses
        return None, None

    def _cleanup(self, name: str, keep: Iterable[int | None]) -> None:
        """Delete versions (and their collections) not in `keep`, and stale staging directories."""
        keep = {v for v in keep if v is not None}
        base = self._dir(name)
        for version in self._versions_on_disk(name):
            if version not in keep:
                self._delete_version(name, version)
        for stale in base.glob(".v*.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def _delete_version(self, name: str, version: int) -> None:
        vdir = self._dir(name) / f"v{version}"
        collection = self._collection_name(name, version)
        with contextlib.suppress(Exception):
            collection = json.loads((vdir / "meta.json").read_text())["collection"]
        with contextlib.suppress(Exception):
            store.delete_collection(self.client, collection)
        shutil.rmtree(vdir, ignore_errors=True)

    # -- read -----------------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        return self._current_version(name) is not None

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and (p / POINTER).exists())

    def _meta(self, name: str) -> tuple[int, Path, dict]:
        version = self._current_version(name)
        if version is None:
            known = ", ".join(self.names()) or "none"
            raise CatalogNotFound(
                f"No catalog named {name!r} (catalogs: {known}); import one with "
                f"`shopassist catalog import PATH --name {name}`"
                + (" or `shopassist catalog import-demo`" if name == DEMO_NAME else "")
            )
        vdir = self._dir(name) / f"v{version}"
        try:
            meta = json.loads((vdir / "meta.json").read_text())
            for key in ("n_products", "dim", "embedder", "collection"):
                meta[key]
        except (OSError, ValueError, KeyError) as exc:
            raise CatalogCorrupt(f"catalog {name!r} v{version}: meta.json is missing or unreadable ({exc}); "
                                 f"{_rebuild_hint(name)}") from None
        return version, vdir, meta

    def check(self, name: str) -> str:
        """'ok', or a description of what is wrong (cheap: reads headers and counts only)."""
        try:
            version, vdir, meta = self._meta(name)
            n = meta["n_products"]
            try:
                shape = np.load(vdir / "embeddings.npy", mmap_mode="r", allow_pickle=False).shape
            except (OSError, ValueError) as exc:
                raise CatalogCorrupt(f"embeddings.npy is missing or unreadable ({exc})") from None
            if shape != (n, meta["dim"]):
                raise CatalogCorrupt(f"embeddings.npy has shape {shape}, expected {(n, meta['dim'])}")
            try:
                with open(vdir / "products.jsonl", "rb") as fh:
                    n_lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
            except OSError:
                raise CatalogCorrupt("products.jsonl is missing or unreadable") from None
            if n_lines != n:
                raise CatalogCorrupt(f"products.jsonl has {n_lines} lines, expected {n}")
            collection = store.get_collection(self.client, meta["collection"])
            if collection is None:
                raise CatalogCorrupt(f"Chroma collection {meta['collection']} is missing")
            count = collection.count()
            if count != n:
                raise CatalogCorrupt(f"Chroma holds {count} vectors but the catalog has {n} products")
            if meta["embedder"] != self.embedder.name:
                raise CatalogCorrupt(
                    f"it was embedded with {meta['embedder']!r} but the current embedder is {self.embedder.name!r}")
        except CatalogNotFound:
            raise
        except CatalogError as exc:
            return str(exc)
        return "ok"

    def list(self) -> list[CatalogInfo]:
        out = []
        for name in self.names():
            try:
                version, _, meta = self._meta(name)
            except CatalogError as exc:
                out.append(CatalogInfo(name, self._current_version(name) or 0, 0, "?", 0, 0.0, "?",
                                       status=str(exc)))
                continue
            out.append(CatalogInfo(
                name=name, version=version, n_products=meta["n_products"], embedder=meta["embedder"],
                dim=meta["dim"], created_at=meta.get("created_at", 0.0), collection=meta["collection"],
                source=(meta.get("source") or {}).get("path"), status=self.check(name),
            ))
        return out

    def load(self, name: str) -> Catalog:
        """The current version, fully checked. Raises CatalogNotFound / CatalogCorrupt (with the fix)."""
        version, vdir, meta = self._meta(name)

        def corrupt(what: str) -> CatalogCorrupt:
            return CatalogCorrupt(f"catalog {name!r} v{version} is damaged: {what}; {_rebuild_hint(name)}")

        if meta["embedder"] != self.embedder.name:
            raise CatalogCorrupt(
                f"catalog {name!r} was embedded with {meta['embedder']!r} but the current embedder is "
                f"{self.embedder.name!r}; {_rebuild_hint(name)} to re-embed it, or use the same --embedder"
            )
        try:
            embeddings = np.load(vdir / "embeddings.npy", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise corrupt(f"embeddings.npy is missing or unreadable ({type(exc).__name__})") from None
        products = self._read_products(vdir / "products.jsonl", corrupt)
        n = len(products)
        if n != meta["n_products"]:
            raise corrupt(f"products.jsonl has {n} products, meta.json says {meta['n_products']}")
        if embeddings.shape != (n, meta["dim"]) or embeddings.dtype != np.float32:
            raise corrupt(f"embeddings.npy has shape {embeddings.shape} ({embeddings.dtype}), expected ({n}, {meta['dim']}) float32")
        collection = store.get_collection(self.client, meta["collection"])
        if collection is None:
            raise corrupt(f"the Chroma collection {meta['collection']} is missing")
        count = collection.count()
        if count != n:
            raise corrupt(f"Chroma holds {count} vectors but the catalog has {n} products")
        return Catalog(name, version, products, embeddings, meta, vdir)

    @staticmethod
    def _read_products(path: Path, corrupt) -> list[Product]:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise corrupt("products.jsonl is missing or unreadable") from None
        products = []
        # split on "\n" only: JSON leaves U+0085, U+2028 and U+2029 raw inside strings, and
        # str.splitlines() would cut a product there
        for lineno, line in enumerate(text.split("\n"), start=1):
            if not line:
                continue
            try:
                products.append(Product.model_validate_json(line))
            except ValueError:
                raise corrupt(f"products.jsonl line {lineno} is not a valid product") from None
        return products

    def collection(self, catalog: Catalog):
        """The Chroma collection holding `catalog`'s vectors."""
        collection = store.get_collection(self.client, catalog.collection_name)
        if collection is None:
            raise CatalogCorrupt(f"catalog {catalog.name!r}: the Chroma collection {catalog.collection_name} "
                                 f"is missing; {_rebuild_hint(catalog.name)}")
        return collection

    def searcher(self, name: str, config=None):
        """Load `name` and return a HybridSearcher over it."""
        catalog = self.load(name)
        return HybridSearcher(catalog, self.embedder, self.collection(catalog), config or SearchConfig())

    # -- maintenance ----------------------------------------------------------------------------
    def drop(self, name: str) -> None:
        """Remove every version of `name` and its Chroma collections."""
        base = self._dir(name)
        if not base.is_dir():
            raise CatalogNotFound(f"No catalog named {name!r} (catalogs: {', '.join(self.names()) or 'none'})")
        with self._lock(name):
            for version in self._versions_on_disk(name):
                self._delete_version(name, version)
            prefix, suffix = f"shopassist-{name}-v", f"-{self.registry_id}"
            for collection in store.list_collection_names(self.client):
                if collection.startswith(prefix) and collection.endswith(suffix):
                    store.delete_collection(self.client, collection)
            for child in base.iterdir():
                if child.name != ".lock":
                    shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        shutil.rmtree(base, ignore_errors=True)

    def rebuild(self, name: str, progress: Progress | None = None) -> ImportSummary:
        """Re-embed and re-index `name` with the current embedder into a fresh version.

        Products come from the current version's products.jsonl; if that is unusable, from the
        original source file recorded at import time.
        """
        version = self._current_version(name)
        versions = self._versions_on_disk(name)
        if version is None and not versions:
            raise CatalogNotFound(f"No catalog named {name!r} to rebuild (catalogs: {', '.join(self.names()) or 'none'})")
        candidates = [version] if version is not None else []
        candidates += [v for v in reversed(versions) if v != version]
        source: dict = {}
        for v in candidates:
            vdir = self._dir(name) / f"v{v}"
            with contextlib.suppress(Exception):
                source = source or json.loads((vdir / "meta.json").read_text()).get("source") or {}
            try:
                products = self._read_products(vdir / "products.jsonl", lambda what: CatalogCorrupt(what))
            except CatalogCorrupt:
                continue
            if products:
                return self.import_products(name, products, progress=progress, source=source)
        path = source.get("path")
        if path and Path(path).exists():
            return self.import_file(path, name, format=source.get("format"),
                                    mapping=_mapping_from_columns(source.get("columns")),
                                    currency=source.get("currency"), default_title=source.get("default_title"),
                                    skip_bad_rows=True, progress=progress)
        raise CatalogCorrupt(
            f"catalog {name!r}: no readable products.jsonl and the source file {path or '(unknown)'} is gone; "
            f"import it again with `shopassist catalog import PATH --name {name}`"
        )


def _mapping_from_columns(columns: dict | None) -> ColumnMapping | None:
    if not columns:
        return None
    values = {k: v for k, v in columns.items() if k in ColumnMapping.__dataclass_fields__ and k != "attributes"}
    attributes = columns.get("attributes") or {}
    values["attributes"] = list(attributes.values()) if isinstance(attributes, dict) else list(attributes)
    return ColumnMapping.from_dict(values)


def open_registry(
    root: Path,
    *,
    chroma_path: Path | None = None,
    chroma_url: str | None = None,
    embedder: Embedder | str = "minilm",
    cache_dir: Path | None = None,
    ephemeral: bool = False,
) -> CatalogRegistry:
    """Registry from plain paths: Chroma server when chroma_url, else embedded at chroma_path."""
    if isinstance(embedder, str):
        embedder = make_embedder(embedder, cache_dir)
    client = store.make_chroma_client(path=chroma_path, url=chroma_url, ephemeral=ephemeral)
    return CatalogRegistry(root, client, embedder)


def ensure_demo_catalog(registry: CatalogRegistry, data_dir: Path, name: str = DEMO_NAME,
                        progress: Progress | None = None) -> ImportSummary | None:
    """Import the bundled Amazon Beauty demo (data_dir/beauty/items.tsv.gz) as `name` if absent.

    Returns None when it is already there and healthy; repairs (rebuilds) it when damaged.
    """
    path = Path(data_dir) / DEMO_FILE
    if registry.exists(name):
        if registry.check(name) == "ok":
            return None
        return registry.rebuild(name, progress=progress)
    if not path.exists():
        raise CatalogImportError(f"file {path} does not exist: the bundled demo catalog is missing from data/")
    return registry.import_file(path, name, default_title=DEMO_DEFAULT_TITLE, progress=progress)
