"""A trained model bundle on disk, swapped in atomically.

Layout under `<models_dir>/<catalog>/`:
    CURRENT                 one line: the name of the live version directory
    v<timestamp>-<pid>/     manifest.json, item_ids.txt, one sub-directory per model, and
                            rerank/ when a re-ranker over the fusion was fitted (rerank.py)

`train` writes a complete new version directory, then replaces CURRENT with os.replace()
(atomic on POSIX), so a reader sees either the old bundle or the new one, never a mix.
Old versions beyond `keep` are removed. Bundles hold no per-user rows.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .base import Recommender
from .cf import ALS, ItemKNN
from .content import ContentRecommender
from .popularity import Popularity
from .rerank import Reranker
from .sequential import SASRec

POINTER = "CURRENT"
RERANK_DIR = "rerank"


def model_class(name: str) -> type[Recommender]:
    classes = {"pop": Popularity, "itemknn": ItemKNN, "als": ALS, "content": ContentRecommender, "sasrec": SASRec}
    if name not in classes:
        raise ValueError(f"Expected a model name among {', '.join(classes)}, got {name!r}")
    return classes[name]


@dataclass
class ModelBundle:
    models: dict[str, Recommender]
    weights: dict[str, float]  # fusion weights fitted on validation
    item_ids: list[str]  # row -> item id the models were trained on
    manifest: dict = field(default_factory=dict)
    version: str = ""
    reranker: Reranker | None = None  # second stage over the fusion's top candidates (optional)


def bundle_root(models_dir: Path | str, catalog_name: str) -> Path:
    return Path(models_dir) / catalog_name


def current_version(root: Path) -> str | None:
    try:
        return (root / POINTER).read_text().strip() or None
    except FileNotFoundError:
        return None


def write_bundle(root: Path, bundle: ModelBundle, keep: int = 2) -> Path:
    """Save every model into a fresh version directory, then atomically point CURRENT at it."""
    root.mkdir(parents=True, exist_ok=True)
    now = time.time_ns()  # names sort in creation order: UTC second, then nanoseconds, then pid
    version = time.strftime("v%Y%m%d-%H%M%S", time.gmtime(now // 10**9)) + f"-{now % 10**9:09d}-{os.getpid()}"
    tmp = root / f".tmp-{version}"
    tmp.mkdir()
    for name, model in bundle.models.items():
        model.save(tmp / name)
    if bundle.reranker is not None:
        bundle.reranker.save(tmp / RERANK_DIR)
    (tmp / "item_ids.txt").write_text("\n".join(bundle.item_ids) + "\n")
    manifest = {**bundle.manifest, "version": version, "models": list(bundle.models), "weights": bundle.weights,
                "reranker": bundle.reranker is not None}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    final = root / version
    os.replace(tmp, final)
    pointer_tmp = root / f".{POINTER}.{version}"
    with open(pointer_tmp, "w") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer_tmp, root / POINTER)
    _prune(root, keep)
    return final


def _prune(root: Path, keep: int) -> None:
    live = current_version(root)
    versions = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("v"))
    for p in versions[: max(0, len(versions) - keep)]:
        if p.name != live:
            shutil.rmtree(p, ignore_errors=True)


def read_manifest(root: Path) -> dict | None:
    """The live bundle's manifest.json (metrics, weights, when trained; no models loaded), or None."""
    version = current_version(root)
    if version is None:
        return None
    try:
        return json.loads((root / version / "manifest.json").read_text())
    except FileNotFoundError:   # swapped and pruned meanwhile: the next call reads the new one
        return None


# Loads are rare (start-up and model swaps): serialise them. Concurrent np.load calls parse .npy
# headers with ast.literal_eval in several threads at once, which CPython 3.11.7 can fail with
# "SystemError: AST constructor recursion depth mismatch" (fixed upstream in later 3.11 releases).
_READ_LOCK = threading.Lock()


def read_bundle(root: Path, attempts: int = 5) -> ModelBundle | None:
    """The live bundle, or None when nothing was trained yet.

    A writer may swap CURRENT and prune the old version while we read it (several trainings back
    to back); then the read is retried on the new CURRENT. A version that vanished while CURRENT
    still names it is a real error."""
    for attempt in range(attempts):
        version = current_version(root)
        if version is None:
            return None
        try:
            with _READ_LOCK:
                return _read_version(root, version)
        except FileNotFoundError:
            if attempt == attempts - 1 or current_version(root) == version:
                raise
    raise AssertionError("unreachable")


def _read_version(root: Path, version: str) -> ModelBundle:
    path = root / version
    if not (path / "manifest.json").exists():
        raise FileNotFoundError(f"Model bundle {path} is missing manifest.json; retrain with `shopassist train`")
    manifest = json.loads((path / "manifest.json").read_text())
    item_ids = (path / "item_ids.txt").read_text().split("\n")[:-1]
    models = {name: model_class(name).load(path / name) for name in manifest["models"]}
    reranker = Reranker.load(path / RERANK_DIR) if manifest.get("reranker") else None
    return ModelBundle(models, manifest.get("weights", {}), item_ids, manifest, version, reranker)
