"""Train every model on the events in the store and save a bundle (used by `shopassist train`
and by the app, possibly in a background thread). Also the model-building helpers that the
evaluation harness shares, so the two never drift apart.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .base import Recommender
from .bundle import ModelBundle, bundle_root, write_bundle
from .cf import ALS, ALSConfig, ItemKNN, ItemKNNConfig
from .content import ContentConfig, ContentRecommender
from .data import Interactions, interactions_from_rows
from .fusion import build_pool, fit_weights, merge_pools
from .metrics import hit_rate_at_k, ndcg_at_k, target_ranks
from .popularity import Popularity, PopularityConfig
from .profile import CatalogFeatures
from .rerank import ItemSide, RerankConfig, fit_reranker
from .sequential import SASRec, SASRecConfig

MODEL_NAMES = ("pop", "itemknn", "als", "content", "sasrec")
FAST_MODELS = ("pop", "itemknn", "als", "content")  # seconds to train; no transformer


@dataclass
class TrainConfig:
    # Models to train (subset of pop, itemknn, als, content, sasrec).
    models: tuple[str, ...] = MODEL_NAMES
    pop: PopularityConfig = field(default_factory=PopularityConfig)
    itemknn: ItemKNNConfig = field(default_factory=ItemKNNConfig)
    als: ALSConfig = field(default_factory=ALSConfig)
    content: ContentConfig = field(default_factory=ContentConfig)
    sasrec: SASRecConfig = field(default_factory=SASRecConfig)
    # Fit fusion weights on the validation split (else equal weights over the models).
    fit_fusion: bool = True
    # Validation users used to fit the fusion weights (a fixed random subset; 0 = all).
    fusion_users: int = 6000
    # Candidates per component and user in the fusion pool.
    fusion_depth: int = 50
    # Fit the re-ranker over the fusion's top candidates (rerank.py) on the same validation users.
    fit_rerank: bool = True
    rerank: RerankConfig = field(default_factory=RerankConfig)
    # After validation, refit the cheap models (pop, itemknn, als) on all events, held-out last
    # items included (the sequential model keeps its early-stopped weights).
    refit_full: bool = True
    # Old bundle versions kept on disk besides the live one.
    keep_versions: int = 2
    # Seed for every random choice (model seeds are in the model configs).
    seed: int = 42

    def __post_init__(self) -> None:
        bad = [m for m in self.models if m not in MODEL_NAMES]
        if bad or not self.models:
            raise ValueError(f"Expected models among {', '.join(MODEL_NAMES)}, got {', '.join(bad) or 'none'}")


def make_model(name: str, config: TrainConfig, embeddings: np.ndarray | None = None) -> Recommender:
    if name == "pop":
        return Popularity(config.pop)
    if name == "itemknn":
        return ItemKNN(config.itemknn)
    if name == "als":
        return ALS(config.als)
    if name == "content":
        if embeddings is None:
            raise ValueError("The content model needs item embeddings (catalog.embeddings or --items titles)")
        return ContentRecommender(embeddings, config.content)
    if name == "sasrec":
        return SASRec(config.sasrec, text_embeddings=None if config.sasrec.text_mode == "none" else embeddings)
    raise ValueError(f"Expected a model name among {', '.join(MODEL_NAMES)}, got {name!r}")


def fit_model(model: Recommender, train: Interactions, validation=None, progress=print) -> float:
    """Fit (SASRec with early stopping on `validation`); returns seconds."""
    t0 = time.time()
    if isinstance(model, SASRec):
        model.fit(train, validation=validation, progress=progress)
    else:
        model.fit(train)
    return time.time() - t0


def score_all(models: Mapping[str, Recommender], histories, weights=None) -> dict[str, np.ndarray]:
    return {name: m.score_batch(histories, weights) for name, m in models.items()}


def ranks_in_batches(scorer: Callable[[Sequence, Sequence | None], np.ndarray], histories, targets, weights=None,
                     batch: int = 1024) -> np.ndarray:
    """Full-ranking target ranks (history excluded) for all users, scored `batch` at a time."""
    out = []
    for s in range(0, len(histories), batch):
        h = histories[s : s + batch]
        w = None if weights is None else weights[s : s + batch]
        out.append(target_ranks(scorer(h, w), np.asarray(targets[s : s + batch]), exclude=h))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def fit_fusion(models: Mapping[str, Recommender], histories, targets, weights=None, *, depth: int = 50,
               batch: int = 512, progress=print) -> tuple[dict[str, float], float]:
    """Fusion weights by coordinate search on the validation users given (histories -> targets)."""
    pools = []
    for s in range(0, len(histories), batch):
        h = histories[s : s + batch]
        w = None if weights is None else weights[s : s + batch]
        pools.append(build_pool(score_all(models, h, w), np.asarray(targets[s : s + batch]), h, depth))
    return fit_weights(merge_pools(pools), progress=progress)


@dataclass
class TrainReport:
    version: str
    path: str
    n_users: int
    n_items: int
    n_events: int
    skipped_events: int
    models: dict  # name -> {"seconds", "val_ndcg@10", "val_hr@10"}
    weights: dict
    fusion_val_ndcg10: float | None
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def _validation_split(data: Interactions):
    """Users with 2+ events: last event = validation target, the rest = training history."""
    train_seqs, train_w, train_t, hist, hist_w, targets = [], [], [], [], [], []
    for u, s in enumerate(data.sequences):
        w = data.weights[u] if data.weights is not None else np.ones(len(s))
        t = data.timestamps[u] if data.timestamps is not None else np.zeros(len(s))
        if len(s) >= 2:
            train_seqs.append(s[:-1]); train_w.append(w[:-1]); train_t.append(t[:-1])  # noqa: E702
            hist.append(s[:-1]); hist_w.append(w[:-1]); targets.append(s[-1])  # noqa: E702
        else:
            train_seqs.append(s); train_w.append(w); train_t.append(t)  # noqa: E702
    train = Interactions(data.n_items, train_seqs, train_w, train_t, data.user_ids)
    return train, hist, hist_w, np.array(targets, dtype=np.int64)


def train_all(catalog, events, models_dir: Path | str, config: TrainConfig | None = None,
              progress: Callable[[str], None] | None = print) -> TrainReport:
    """Train the configured models on every event of `catalog`'s items in `events` (EventStore),
    fit fusion weights on each user's last event, save a new bundle under
    `<models_dir>/<catalog.name>/` and swap it in atomically. Reproducible (fixed seeds)."""
    config = config or TrainConfig()
    say = progress or (lambda _m: None)
    t0 = time.time()
    index = catalog.index
    embeddings = getattr(catalog, "embeddings", None)
    models_wanted = [m for m in config.models if m != "content" or embeddings is not None]
    if "content" in config.models and embeddings is None:
        say("train: the catalog has no embeddings; skipping the content model")
    data, skipped = interactions_from_rows(events.iter_rows(), index)
    if not data.n_events:
        raise ValueError(
            f"No events on items of catalog {catalog.name!r} to train on; import some first "
            "(`shopassist events import PATH`)"
        )
    say(f"train: {data.n_users:,} users, {data.n_events:,} events on {data.n_items:,} items"
        + (f" ({skipped:,} events on unknown items skipped)" if skipped else ""))
    train, hist, hist_w, targets = _validation_split(data)
    rng = np.random.default_rng(config.seed)
    models: dict[str, Recommender] = {}
    report_models: dict[str, dict] = {}
    for name in models_wanted:
        model = make_model(name, config, embeddings)
        say(f"train: fitting {name} ...")
        secs = fit_model(model, train, (hist, targets) if targets.size else None, progress=say)
        entry = {"seconds": round(secs, 1)}
        if targets.size:
            r = ranks_in_batches(lambda h, w: model.score_batch(h, w), hist, targets, hist_w)
            entry.update({"val_ndcg@10": round(ndcg_at_k(r, 10), 5), "val_hr@10": round(hit_rate_at_k(r, 10), 5)})
            say(f"train: {name}: {secs:.1f}s, validation NDCG@10 {entry['val_ndcg@10']:.4f} HR@10 {entry['val_hr@10']:.4f}")
        models[name] = model
        report_models[name] = entry
    weights = {name: 1.0 for name in models}
    fusion_ndcg = None
    if config.fit_fusion and len(models) > 1 and targets.size >= 20:
        idx = np.arange(targets.size)
        if config.fusion_users and idx.size > config.fusion_users:
            idx = np.sort(rng.choice(idx.size, config.fusion_users, replace=False))
        say(f"train: fitting fusion weights on {idx.size:,} validation users ...")
        weights, fusion_ndcg = fit_fusion(models, [hist[i] for i in idx], targets[idx], [hist_w[i] for i in idx],
                                          depth=config.fusion_depth, progress=say)
    reranker, rerank_note = None, "not fitted (needs the fitted fusion)"
    if config.fit_rerank and fusion_ndcg is not None:
        say(f"train: fitting the re-ranker on {idx.size:,} validation users ...")
        h_fit, w_fit = [hist[i] for i in idx], [hist_w[i] for i in idx]
        reranker, rerank_note = fit_reranker(
            lambda sl: score_all(models, h_fit[sl], w_fit[sl]), weights, h_fit, targets[idx],
            ItemSide.from_features(CatalogFeatures(catalog), embeddings), config.rerank, progress=say)
        if reranker is None:
            say("train: re-ranker " + rerank_note)
    if config.refit_full:
        for name in ("pop", "itemknn", "als"):
            if name in models:
                say(f"train: refitting {name} on all events ...")
                models[name] = make_model(name, config, embeddings)
                fit_model(models[name], data)
    manifest = {
        "catalog": catalog.name, "n_users": data.n_users, "n_items": data.n_items, "n_events": data.n_events,
        "trained_at": time.time(), "config": _jsonable(asdict(config)), "validation": report_models,
        "fusion_val_ndcg@10": fusion_ndcg, "rerank": reranker.info if reranker is not None else rerank_note,
    }
    root = bundle_root(models_dir, catalog.name)
    path = write_bundle(root, ModelBundle(models, weights, list(catalog.ids), manifest, reranker=reranker),
                        keep=config.keep_versions)
    secs = time.time() - t0
    say(f"train: saved {path} in {secs:.0f}s; fusion weights " + ", ".join(f"{k}={v:g}" for k, v in weights.items()))
    return TrainReport(path.name, str(path), data.n_users, data.n_items, data.n_events, skipped, report_models,
                       weights, fusion_ndcg, round(secs, 1))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj
