"""Offline evaluation harness: leave-one-out, full ranking over ALL items.

Protocol (the one of SASRec / BERT4Rec / LlamaRec / TIGER on Amazon Beauty):
- each user's last item is the test target, the one before it the validation target; users
  with fewer than 3 items only train. Models are fitted on the training part only.
- validation (second to last, history = training part) drives SASRec's early stopping and the
  fusion weights; test (last, history = training part + validation item) is reported.
- every item is a candidate (no sampled negatives) except the items earlier in the user's
  history (standard); the target itself is never removed, even when the user had it before.
- ties are broken pessimistically (an item scoring the same as the target ranks above it).
- metrics: HR@K, NDCG@K; coverage@10 (share of the catalogue in someone's top 10),
  intra-list diversity@10 (1 - mean pairwise cosine of the title embeddings, or of item
  co-occurrence vectors without titles), novelty@10 (mean -log2 of the item's user share).

Seeds: `seeds` > 1 refits every model once per seed (seed, seed + 1, ...) on the same split and
reports the mean and the sample standard deviation per model, with the per-seed rows.
Baseline: "sasrec_ids" is the same SASRec-CE with item ids only (no title embeddings), trained in
the same run on the same split; every other model is also reported as a ratio against it. It is an
anchor, not a fusion component.

Re-ranker: "rerank" is a LightGBM lambdarank model over the fusion's top 100 (rerank.py), fitted on
the same validation shoppers as the fusion weights (a held-out share of them stops the boosting);
a test target outside the pool keeps its linear-fusion rank.

Item ids are arbitrary strings; `--items` (id<TAB>title) is optional and only feeds the content
model and the text-enriched SASRec (texts embedded with retrieval's embedder). `--item-meta`
(id, brand, category, all_categories) makes each text the catalog's product text
(`Product.search_text`: title, brand, category path), the text the app embeds for that product.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .data import LOOSplit, Interactions, interactions_from_sequences, leave_one_out, read_item_titles, read_sequences
from .fusion import build_pool, fit_weights, fuse, merge_pools, zscore
from .metrics import coverage, hit_rate_at_k, intra_list_diversity, ndcg_at_k, novelty, target_ranks, top_k
from .profile import CatalogFeatures
from .rerank import ItemSide, Reranker, batch_pools, fit_reranker
from .sequential import SASRec
from .train import MODEL_NAMES, TrainConfig, fit_model, make_model

from retrieval.catalog import Product, join_item_meta
from retrieval.embedder import make_embedder

BASELINE = "sasrec_ids"  # SASRec-CE on item ids only: the same-run anchor (see the module docstring)
EVAL_MODELS = MODEL_NAMES + (BASELINE, "fusion", "rerank")

# Published full-ranking leave-one-out figures on Amazon Beauty (HR@10, NDCG@10), with the data
# build each comes from; shown next to our rows only when the file is that dataset (same user and
# item counts). The first two are on the same 5-core build as data/beauty (22,363 users, 12,101
# items, 198,502 interactions: the S3-Rec / FMLP-Rec preprocessing), so they are the anchors to
# beat; the build of the last three is not recorded in this repository (they were the README's
# earlier anchors) and may differ in preprocessing.
ANCHORS = {
    "BSARec (AAAI 2024), same 5-core build": (0.1008, 0.0611),
    "SASRec full CE (Xu et al. 2024), same build": (0.0977, 0.0591),
    "SASRec (CE loss), build not recorded": (0.0851, 0.0421),
    "LlamaRec, build not recorded": (0.0971, 0.0554),
    "TIGER, build not recorded": (0.0648, 0.0384),
}
BEAUTY_SHAPE = (22_363, 12_101)  # users, items


def is_beauty(report: dict) -> bool:
    d = report.get("dataset", {})
    return (d.get("users"), d.get("items_n")) == BEAUTY_SHAPE


@dataclass
class EvalConfig:
    # Models to evaluate (pop, itemknn, als, content, sasrec, sasrec_ids, fusion, rerank).
    models: tuple[str, ...] = EVAL_MODELS
    # Cut-offs for HR@K / NDCG@K.
    ks: tuple[int, ...] = (5, 10, 20)
    # Model hyper-parameters (shared with `shopassist train`); the seeds in it are replaced per run.
    train: TrainConfig = field(default_factory=TrainConfig)
    # Embedder for item titles (retrieval.embedder.make_embedder name) and its cache directory.
    embedder: str = "minilm"
    embed_cache: Path | None = None
    # Validation users used to fit the fusion weights (a fixed random subset when there are more;
    # 0 = all). Bounds memory on large files; Amazon Beauty (22,363 users) uses all of them.
    fusion_users: int = 25_000
    # Users scored per batch (memory: batch x items x models floats).
    batch_size: int = 512
    # First seed (models, fusion subset); run i uses seed + i.
    seed: int = 42
    # Independent runs (each refits every model with its own seed) for mean +- std.
    seeds: int = 1

    def __post_init__(self) -> None:
        bad = [m for m in self.models if m not in EVAL_MODELS]
        if bad or not self.models:
            raise ValueError(f"Expected models among {', '.join(EVAL_MODELS)}, got {', '.join(bad) or 'none'}")
        if not self.ks or any(int(k) <= 0 for k in self.ks):
            raise ValueError(f"Expected positive cut-offs, got {self.ks}")
        if int(self.seeds) < 1:
            raise ValueError(f"Expected seeds >= 1 (number of runs), got {self.seeds}")

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + i for i in range(int(self.seeds))]


def seeded(train: TrainConfig, seed: int) -> TrainConfig:
    """`train` with every random choice (SASRec init / shuffling / dropout, ALS init, the
    re-ranker's bagging and held-out users) seeded by `seed`."""
    return replace(train, sasrec=replace(train.sasrec, seed=seed), als=replace(train.als, seed=seed),
                   rerank=replace(train.rerank, seed=seed), seed=seed)


@dataclass
class EvalData:
    item_ids: list[str]
    interactions: Interactions
    titles: dict[str, str] | None
    path: str
    skipped_lines: list[int]  # lines with a user but no items (ignored)
    # {item_id: Product} with the --item-meta brand / category joined (None without --item-meta)
    products: dict | None = None

    def texts(self) -> list[str] | None:
        """The text embedded per item row: the catalog's own product text (Product.search_text:
        title, brand, category path), the same text the app embeds for an imported catalog;
        an item without a title uses its id. None without titles."""
        if self.titles is None:
            return None
        if self.products is None:
            return [self.titles.get(i) or i for i in self.item_ids]
        return [self.products[i].search_text() for i in self.item_ids]

    def features(self) -> CatalogFeatures:
        """Brand / category codes per item row (unknown without --item-meta), as the app has them."""
        if self.products is not None:
            products = [self.products[i] for i in self.item_ids]
        else:
            products = [SimpleNamespace(title=(self.titles or {}).get(i) or i, brand=None, category=None, price=None)
                        for i in self.item_ids]
        return CatalogFeatures(SimpleNamespace(products=products))


def load_eval_data(sequences: Path | str, items: Path | str | None = None,
                   item_meta: Path | str | None = None) -> EvalData:
    """Read a `user item item ...` file (and optional `id<TAB>title` file, and an optional
    `id<TAB>brand<TAB>category<TAB>all_categories` file with a header, joined the way the demo
    import joins it); item rows are the sorted union of ids in the sequences (titles of items
    never interacted with are ignored)."""
    skipped: list[int] = []
    seqs = read_sequences(sequences, skipped=skipped)
    if not seqs:
        raise ValueError(f"{sequences}: no sequences found (expected lines '<user> <item> <item> ...')")
    item_ids = sorted({i for _, s in seqs for i in s})
    index = {x: r for r, x in enumerate(item_ids)}
    titles = read_item_titles(items) if items else None
    products = None
    if item_meta is not None:
        if titles is None:
            raise ValueError("--item-meta needs --items (the titles it adds brands and categories to)")
        joined, _ = join_item_meta([Product(id=i, title=titles.get(i) or i) for i in item_ids], item_meta)
        products = {p.id: p for p in joined}
    return EvalData(item_ids, interactions_from_sequences(seqs, index), titles, str(sequences), skipped, products)


def embed_titles(data: EvalData, embedder: str, cache: Path | None, say) -> tuple[np.ndarray | None, str]:
    """(embeddings, note). None with a reason when titles or the embedder are unavailable."""
    texts = data.texts()
    if texts is None:
        return None, "no --items file: content model and text features skipped"
    missing = sum(1 for i in data.item_ids if not data.titles.get(i))
    what = "titles" if data.products is None else "titles + brand + category"
    emb = make_embedder(embedder, cache)
    say(f"eval: embedding {len(texts):,} {what} with {embedder} ({missing:,} items without a title use their id) ...")
    t0 = time.time()
    vectors = emb.embed_documents(texts)
    note = f"{what} embedded with {embedder} in {time.time() - t0:.0f}s ({missing} without title)"
    return np.asarray(vectors, dtype=np.float32), note


@dataclass
class Prepared:
    """What every seed's run shares: the data, the split, the title embeddings, notes."""

    data: EvalData
    split: LOOSplit
    embeddings: np.ndarray | None
    wanted: list[str]  # fitted models, in order (no "fusion", no "rerank")
    notes: dict[str, str]
    items: str | None
    item_side: ItemSide | None = None  # the re-ranker's item features


@dataclass
class SeedRun:
    """One seed: the fitted models, the fusion weights and per-user test ranks (eval users' order)."""

    seed: int
    models: dict
    weights: dict[str, float] | None
    test_ranks: dict[str, np.ndarray]
    entries: dict[str, dict]  # name -> report entry (test / valid metrics, train seconds, ...)
    prep: Prepared  # the data and split it was fitted and scored on
    reranker: Reranker | None = None  # fitted on validation (None: not requested / too little data)


def prepare(sequences: Path | str, items: Path | str | None, config: EvalConfig, say,
            item_meta: Path | str | None = None) -> Prepared:
    data = load_eval_data(sequences, items, item_meta)
    split = leave_one_out(data.interactions)
    say(f"eval: {data.interactions.n_users:,} users, {data.interactions.n_items:,} items, "
        f"{data.interactions.n_events:,} events; {len(split.eval_users):,} users with a validation and a test item")
    if not len(split.eval_users):
        raise ValueError("No user has 3 or more items: leave-one-out needs validation and test items")
    wanted = [m for m in config.models if m not in ("fusion", "rerank")]
    notes: dict[str, str] = {}
    if data.skipped_lines:
        notes["input"] = (f"{len(data.skipped_lines)} lines with a user but no items ignored "
                          f"(first: line {data.skipped_lines[0]})")
        say("eval: " + notes["input"])
    embeddings = None
    if "content" in wanted or "sasrec" in wanted:
        embeddings, notes["embeddings"] = embed_titles(data, config.embedder, config.embed_cache, say)
        say("eval: " + notes["embeddings"])
    if "content" in wanted and embeddings is None:
        wanted.remove("content")
        notes["content"] = "skipped: " + notes["embeddings"]
    item_side = ItemSide.from_features(data.features(), embeddings) if "rerank" in config.models else None
    return Prepared(data, split, embeddings, wanted, notes, str(items) if items else None, item_side)


def _make(name: str, train: TrainConfig, embeddings):
    if name == BASELINE:  # the same SASRec-CE, item ids only
        return SASRec(replace(train.sasrec, text_mode="none"))
    return make_model(name, train, embeddings)


def run_seed(prep: Prepared, config: EvalConfig, seed: int, say) -> SeedRun:
    """Fit every model with `seed` on the training part, tune on validation, score the test item."""
    train_cfg = seeded(config.train, seed)
    split, embeddings = prep.split, prep.embeddings
    n_items = prep.data.interactions.n_items
    v_hist, v_tgt = split.valid_histories(), split.valid_targets
    t_hist, t_tgt = split.test_histories(), split.test_targets

    models, fit_secs = {}, {}
    for name in prep.wanted:
        say(f"eval: fitting {name} (seed {seed}) ...")
        model = _make(name, train_cfg, embeddings)
        fit_secs[name] = fit_model(model, split.train, (v_hist, v_tgt), progress=say)
        models[name] = model
        say(f"eval: {name} fitted in {fit_secs[name]:.1f}s")
    fused = [n for n in models if n != BASELINE]  # the baseline is an anchor, never a component

    # Validation: per-model NDCG@10, and the fusion pool on a fixed subset of users.
    do_fusion = "fusion" in config.models and len(fused) > 1
    rng = np.random.default_rng(seed)
    fusion_idx = np.arange(len(v_tgt))
    if config.fusion_users and len(fusion_idx) > config.fusion_users:
        fusion_idx = np.sort(rng.choice(len(fusion_idx), config.fusion_users, replace=False))
    in_fusion = np.zeros(len(v_tgt), dtype=bool)
    in_fusion[fusion_idx] = True
    val_ranks = {name: [] for name in models}
    pools = []
    t0 = time.time()
    for s in range(0, len(v_tgt), config.batch_size):
        h, tg = v_hist[s : s + config.batch_size], v_tgt[s : s + config.batch_size]
        comps = {name: m.score_batch(h) for name, m in models.items()}
        for name, sc in comps.items():
            val_ranks[name].append(target_ranks(sc, tg, exclude=h))
        sel = np.flatnonzero(in_fusion[s : s + config.batch_size])
        if do_fusion and sel.size:
            pools.append(build_pool({n: comps[n][sel] for n in fused}, tg[sel], [h[i] for i in sel],
                                    train_cfg.fusion_depth))
    val = {name: np.concatenate(r) for name, r in val_ranks.items()}
    say(f"eval: validation scored in {time.time() - t0:.0f}s: " +
        ", ".join(f"{n} {ndcg_at_k(r, 10):.4f}" for n, r in val.items()))
    weights, fusion_val = None, None
    if do_fusion:
        weights, fusion_val = fit_weights(merge_pools(pools), progress=say)
    elif "fusion" in config.models:
        prep.notes["fusion"] = "skipped: needs at least two models (the sasrec_ids baseline is not a component)"
    reranker, rerank_secs = None, 0.0
    if "rerank" in config.models:
        if weights:
            t0 = time.time()
            say(f"eval: fitting the re-ranker on {len(fusion_idx):,} validation users (seed {seed}) ...")
            h_fit = [v_hist[i] for i in fusion_idx]
            reranker, note = fit_reranker(lambda sl: {n: models[n].score_batch(h_fit[sl]) for n in fused}, weights,
                                          h_fit, v_tgt[fusion_idx], prep.item_side,
                                          train_cfg.rerank, config.batch_size, say)
            rerank_secs = time.time() - t0
            prep.notes["rerank"] = note
        else:
            prep.notes["rerank"] = "skipped: needs the fusion weights"

    # Test: every model, the fusion and its re-ranking from the same batch of scores.
    names = list(models) + (["fusion"] if weights else []) + (["rerank"] if reranker is not None else [])
    test_ranks = {n: [] for n in names}
    tops = {n: [] for n in names}
    t0 = time.time()
    for s in range(0, len(t_tgt), config.batch_size):
        h, tg = t_hist[s : s + config.batch_size], t_tgt[s : s + config.batch_size]
        comps = {name: m.score_batch(h) for name, m in models.items()}
        if weights:   # z-scores of the weighted components (and, for the re-ranker, of all of them)
            z = {n: zscore(comps[n]) for n in fused if reranker is not None or weights.get(n)}
            comps["fusion"] = fuse(z, weights, normalise=False)
        for name in names:
            if name == "rerank":
                r, top = _reranked(reranker, z, comps["fusion"], h, tg, prep.item_side, reranker.config.depth)
                test_ranks[name].append(r)
                tops[name].append(top)
                continue
            test_ranks[name].append(target_ranks(comps[name], tg, exclude=h))
            tops[name].append(top_k(comps[name], 10, exclude=h))
    say(f"eval: test scored in {time.time() - t0:.0f}s")

    counts_users = split.train.user_items(binary=True)
    item_users = np.asarray(counts_users.sum(axis=0)).ravel()
    div_vectors = embeddings if embeddings is not None else counts_users.T.tocsr()
    entries, ranks = {}, {}
    for name in names:
        r = ranks[name] = np.concatenate(test_ranks[name])
        top = np.concatenate(tops[name])
        row = {}
        for k in config.ks:
            row[f"HR@{k}"] = round(hit_rate_at_k(r, k), 5)
            row[f"NDCG@{k}"] = round(ndcg_at_k(r, k), 5)
        row["coverage@10"] = round(coverage(top, n_items), 5)
        row["diversity@10"] = round(intra_list_diversity(top, div_vectors), 5)
        row["novelty@10"] = round(novelty(top, item_users, split.train.n_users), 3)
        vr = val.get(name)
        entry = {"test": row,
                 "valid": {"NDCG@10": round(ndcg_at_k(vr, 10), 5), "HR@10": round(hit_rate_at_k(vr, 10), 5)}
                 if vr is not None else {"NDCG@10 (pool estimate)": round(fusion_val, 5)},
                 "train_seconds": round(fit_secs.get(name, rerank_secs if name == "rerank" else 0.0), 1)}
        if isinstance(models.get(name), SASRec):
            hist = models[name].history_
            entry["epochs"] = hist[-1]["epoch"] if hist else None
            entry["best_epoch"] = models[name].best_epoch_   # the epoch whose weights were kept
            entry["text_features"] = models[name].text_embeddings is not None
            entry["positions"] = models[name].config.positions
            entry["curve"] = [{k: h[k] for k in ("epoch", "ndcg@10", "seconds")} for h in hist]   # validation per epoch
        if name == "fusion":
            entry["weights"] = weights
        if name == "rerank":
            entry["valid"] = {"NDCG@10 in pool (held-out validation users with the target in it)":
                              reranker.info.get("holdout_ndcg@10")}
            entry["trees"] = reranker.info.get("trees")
        entries[name] = entry
    return SeedRun(seed, models, weights, ranks, entries, prep, reranker)


def _reranked(reranker, z, fused, histories, targets, items, depth) -> tuple[np.ndarray, np.ndarray]:
    """Full-ranking test ranks and top 10 of the re-ranked fusion for one batch: a target in the
    pool ranks among the pool by the re-ranker's score (ties against it); outside it, the pool
    stays above it and its linear-fusion rank (>= depth) holds. A pool shorter than 10 (a tiny
    catalogue) is completed in the fusion's order, as top_k completes a list."""
    kk = min(10, fused.shape[1])
    pools = batch_pools(z, fused, reranker.components, histories, targets, items, depth)
    pred = reranker.predict(np.concatenate([f for _, f, _ in pools])) if pools else np.zeros(0)
    ranks, tops, at = [], [], 0
    for (pool, _feats, linear), t in zip(pools, targets):
        p = pred[at : at + len(pool)]
        at += len(pool)
        hit = np.flatnonzero(pool == t)
        ranks.append(int((p >= p[hit[0]]).sum() - 1) if hit.size else linear)
        top = pool[np.argsort(-p, kind="stable")[:kk]]
        if len(top) < kk:
            rest = top_k(fused[len(tops)][None, :], fused.shape[1])[0]
            top = np.concatenate([top, rest[~np.isin(rest, top)][: kk - len(top)]])
        tops.append(top)
    return np.array(ranks, dtype=np.int64), np.stack(tops)


def run_evaluation(
    sequences: Path | str,
    items: Path | str | None = None,
    config: EvalConfig | None = None,
    progress: Callable[[str], None] | None = print,
    keep_runs: list | None = None,
    item_meta: Path | str | None = None,
) -> dict:
    """Fit every requested model on the training part, tune on validation, report test metrics;
    once per seed (config.seeds), aggregated as mean +- std. keep_runs: a list that receives each
    seed's SeedRun (models and per-user ranks), e.g. for the live replay."""
    config = config or EvalConfig()
    say = progress or (lambda _m: None)
    t_start = time.time()
    prep = prepare(sequences, items, config, say, item_meta)
    runs, seconds = [], []
    for seed in config.seed_list:
        t0 = time.time()
        run = run_seed(prep, config, seed, say)
        seconds.append(round(time.time() - t0, 1))
        runs.append(run)
        if keep_runs is not None:
            keep_runs.append(run)
        if len(config.seed_list) > 1:
            say(f"eval: seed {seed} done in {seconds[-1]:.0f}s")
    data = prep.data
    report = {
        "dataset": {"sequences": data.path, "items": prep.items, "item_meta": str(item_meta) if item_meta else None,
                    "users": data.interactions.n_users, "items_n": data.interactions.n_items,
                    "events": data.interactions.n_events, "eval_users": int(len(prep.split.eval_users))},
        "protocol": "leave-one-out; full ranking over all items; earlier history items excluded (target never); "
                    "pessimistic ties; validation = second to last (early stopping, fusion weights); test = last",
        "seeds": config.seed_list,
        "models": aggregate([r.entries for r in runs], config.seed_list),
        "notes": prep.notes,
        "config": _jsonable(asdict(config)),
        "machine": {"cpus": _cpus(), "platform": platform.platform(), "python": platform.python_version()},
        "seconds_per_seed": seconds,
        "seconds": round(time.time() - t_start, 1),
    }
    if BASELINE in report["models"]:
        report["vs_baseline"] = baseline_ratios(report["models"])
    return report


_AVERAGED = ("test", "valid")


def aggregate(per_seed: list[dict[str, dict]], seeds: list[int]) -> dict[str, dict]:
    """One entry per model: `test` / `valid` = the mean over seeds, `test_std` = the sample
    standard deviation (ddof 1, only with 2+ seeds), `per_seed` = each seed's entry."""
    out = {}
    for name in per_seed[0]:
        rows = [run[name] for run in per_seed if name in run]
        entry = {}
        for k in rows[0]:
            if k not in _AVERAGED + ("train_seconds",):  # epochs, weights, ...: one value, or one per seed
                vals = [r.get(k) for r in rows]
                entry[k] = vals[0] if all(v == vals[0] for v in vals) else vals
        for part in _AVERAGED:
            entry[part] = {m: round(statistics.fmean(r[part][m] for r in rows), 5) for m in rows[0][part]}
        if len(rows) > 1:
            entry["test_std"] = {m: round(statistics.stdev(r["test"][m] for r in rows), 5) for m in rows[0]["test"]}
        entry["train_seconds"] = round(statistics.fmean(r["train_seconds"] for r in rows), 1)
        entry["per_seed"] = [{"seed": s, **r} for s, r in zip(seeds, rows)]
        out[name] = entry
    return out


def merge_reports(reports: Sequence[dict]) -> dict:
    """One report from several runs of the same evaluation with different seeds (e.g. one process
    per seed): the per-seed entries are re-aggregated exactly as `--seeds N` aggregates them."""
    if not reports:
        raise ValueError("Expected at least one report to merge")
    shape = lambda r: {k: r["dataset"].get(k) for k in ("users", "items_n", "events", "eval_users")}  # noqa: E731
    first = reports[0]
    seeds: list[int] = []
    per_seed: list[dict[str, dict]] = []
    for r in reports:
        if shape(r) != shape(first) or list(r["models"]) != list(first["models"]):
            raise ValueError(f"Expected reports of the same data and models, got {shape(r)} {list(r['models'])} "
                             f"and {shape(first)} {list(first['models'])}")
        for i, seed in enumerate(r["seeds"]):
            if seed in seeds:
                raise ValueError(f"Expected each seed once, got seed {seed} twice")
            seeds.append(seed)
            per_seed.append({name: {k: v for k, v in m["per_seed"][i].items() if k != "seed"}
                             for name, m in r["models"].items()})
    out = {**first, "seeds": seeds, "models": aggregate(per_seed, seeds),
           "seconds_per_seed": [x for r in reports for x in r.get("seconds_per_seed", [])],
           "seconds": round(sum(r.get("seconds", 0.0) for r in reports), 1),
           "merged_from": len(reports)}
    if BASELINE in out["models"]:
        out["vs_baseline"] = baseline_ratios(out["models"])
    return out


def baseline_ratios(models: dict[str, dict]) -> dict[str, dict[str, float]]:
    """Each model's mean test HR@10 / NDCG@10 divided by the sasrec_ids baseline's (same run)."""
    base = models[BASELINE]["test"]
    out = {}
    for name, m in models.items():
        out[name] = {c: round(m["test"][c] / base[c], 4) if base.get(c) else None
                     for c in ("HR@10", "NDCG@10") if c in m["test"]}
    return out


def format_table(report: dict, ks: Sequence[int] | None = None, anchors: bool = True) -> str:
    """Plain-text table of test metrics, one row per model (the mean when there are several
    seeds, then mean +- std and the per-seed rows), the same-run baseline ratios, and the
    published anchors."""
    models = report["models"]
    if not models:
        return "(no models)"
    ks = ks or sorted({int(c.split("@")[1]) for m in models.values() for c in m["test"] if c.startswith("HR@")})
    seeds = report.get("seeds") or []
    cols = [f"HR@{k}" for k in ks] + [f"NDCG@{k}" for k in ks] + ["cov@10", "div@10", "nov@10", "train s"]
    W = 48  # name column (the anchors name their data build)
    lines = []
    if len(seeds) > 1:
        lines.append(f"test, mean of {len(seeds)} seeds ({', '.join(map(str, seeds))}):")
    lines.append(f"{'model':<{W}}" + "".join(f"{c:>9}" for c in cols))
    for name, m in models.items():
        t = m["test"]
        vals = [t[f"HR@{k}"] for k in ks] + [t[f"NDCG@{k}"] for k in ks]
        extra = [t["coverage@10"], t["diversity@10"]]
        line = f"{name:<{W}}" + "".join(f"{v:>9.4f}" for v in vals + extra) + f"{t['novelty@10']:>9.2f}"
        line += f"{m.get('train_seconds', 0):>9.0f}"
        lines.append(line)
    if anchors and is_beauty(report):
        for label, (hr, nd) in ANCHORS.items():
            cells = [f"{hr:.4f}" if k == 10 else "" for k in ks] + [f"{nd:.4f}" if k == 10 else "" for k in ks]
            lines.append(f"{'* ' + label:<{W}}" + "".join(f"{c:>9}" for c in cells))
    if len(seeds) > 1:
        lines.append("")
        lines.append(f"{'mean +- std (sample, ddof 1)':<{W}}{'HR@10':>20}{'NDCG@10':>20}")
        for name, m in models.items():
            t, sd = m["test"], m.get("test_std", {})
            cell = lambda c: f"{t[c]:.4f} +- {sd.get(c, 0.0):.4f}" if c in t else ""  # noqa: E731
            lines.append(f"{name:<{W}}{cell('HR@10'):>20}{cell('NDCG@10'):>20}")
        lines.append("")
        lines.append(f"{'per seed: HR@10 / NDCG@10':<{W}}" + "".join(f"{'seed ' + str(s):>18}" for s in seeds))
        for name, m in models.items():
            cells = [f"{r['test'].get('HR@10', float('nan')):.4f} / {r['test'].get('NDCG@10', float('nan')):.4f}"
                     for r in m.get("per_seed", [])]
            lines.append(f"{name:<{W}}" + "".join(f"{c:>18}" for c in cells))
    ratios = report.get("vs_baseline")
    if ratios:
        lines.append("")
        lines.append(f"against the same-run ids-only SASRec-CE baseline ({BASELINE}), "
                     "ratio of test means HR@10 / NDCG@10:")
        lines.append("  " + ", ".join(f"{n} {r.get('HR@10') or 0:.3f} / {r.get('NDCG@10') or 0:.3f}"
                                       for n, r in ratios.items() if n != BASELINE))
    for key, note in report.get("notes", {}).items():
        lines.append(f"note ({key}): {note}")
    w = models.get("fusion", {}).get("weights")
    for one in (w if isinstance(w, list) else [w] if w else []):
        lines.append("fusion weights (fitted on validation): " + ", ".join(f"{k}={v:g}" for k, v in one.items()))
    return "\n".join(lines)


def write_json(report: dict, path: Path | str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=1))


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj
