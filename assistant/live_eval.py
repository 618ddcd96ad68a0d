"""Live replay evaluation: the offline leave-one-out test item, scored through the app's path.

    shopassist eval --live --sequences FILE [--items FILE] [--users 2000] ...

1. The offline harness (ranking.evaluate) fits every model on everyone's training prefix, fits
   the fusion weights on validation and scores the test item of every user (full ranking).
2. Those same models, weights and re-ranker are written as the live bundle of a catalog in a temporary
   SHOPASSIST_HOME (catalog = the file's items, titles embedded by the configured embedder).
3. For a fixed random sample of users, each one's history (training part + validation item) is
   fed through `Engine.record_event` one "purchase" at a time, as the app would receive it;
   then `Engine.recommend(user, k=10)` is asked and the held-out test item scored: NDCG@10 =
   1/log2(rank + 2) when it is in the top 10 (a top-10 list is all NDCG@10 needs from the full
   ranking). Reported beside the offline NDCG@10 of the same users.
4. Latency: every `record_event` (durable SQLite commit + live profile update) is timed; for the
   first `latency_users` users a `recommend` after every event is timed as well (event ->
   updated recommendations = record + that recommend).
5. Cold start: for users with 1, 2, 3, 5 events (a fresh shopper id fed the last n events before
   the test item), live NDCG@10 of our ranking vs popularity (the pop model, same exclusions).

Known differences between the two paths (why they need not agree exactly): the live path has
ties broken by row order (offline counts ties against the target), purchases are never
recommended again (offline keeps the target candidate even when it was bought before; such users
are counted), content comes from the live profile's decayed interest vector (the same half-life
of one event as the content model), and shoppers with fewer than 3 events get the cold-start
content / popularity weights (ServiceConfig) and no re-ranking, and the live path adds the
category / brand / price-band affinity component (ServiceConfig.affinity_weight) to the fusion
(not to the re-ranker: it re-ranks the bundle's own fusion).
"""
from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.engine import Engine
from assistant.settings import Settings
from ranking.bundle import ModelBundle, bundle_root, write_bundle
from ranking.evaluate import BASELINE, EvalConfig, run_evaluation
from ranking.metrics import ndcg_at_k, target_ranks
from retrieval.embedder import make_embedder

LIVE_CATALOG = "live-eval"
COLD_EVENTS = (1, 2, 3, 5)


def percentiles(values_ms: Sequence[float]) -> dict:
    a = np.asarray(values_ms, dtype=np.float64)
    if not a.size:
        return {"n": 0}
    return {"n": int(a.size), "p50": round(float(np.percentile(a, 50)), 3),
            "p95": round(float(np.percentile(a, 95)), 3), "p99": round(float(np.percentile(a, 99)), 3),
            "max": round(float(a.max()), 3)}


def _ndcg_of_rank(rank: int | None) -> float:
    return 0.0 if rank is None or rank >= 10 else 1.0 / math.log2(rank + 2)


def _rank_in(recs: list[dict], target_id: str) -> int | None:
    for r, item in enumerate(recs):
        if item["id"] == target_id:
            return r
    return None


def run_live(
    sequences: Path | str,
    items: Path | str | None = None,
    config: EvalConfig | None = None,
    users: int = 2000,
    latency_users: int = 200,
    cold_events: Sequence[int] = COLD_EVENTS,
    home: Path | str | None = None,
    progress: Callable[[str], None] | None = print,
    item_meta: Path | str | None = None,
) -> dict:
    """Offline report of one seed plus a "live" section (see the module docstring)."""
    config = replace(config or EvalConfig(), seeds=1)
    if users <= 0:
        raise ValueError(f"Expected users > 0 (users replayed through the live path), got {users}")
    if latency_users < 0:
        raise ValueError(f"Expected latency_users >= 0, got {latency_users}")
    bad = [n for n in cold_events if int(n) <= 0]
    if bad:
        raise ValueError(f"Expected cold-start event counts > 0, got {bad}")
    if "pop" not in config.models:
        config = replace(config, models=("pop", *config.models))  # the cold-start table compares with it
    say = progress or (lambda _m: None)
    runs: list = []
    report = run_evaluation(sequences, items, config, progress=progress, keep_runs=runs, item_meta=item_meta)
    run = runs[0]
    if home is None:
        with tempfile.TemporaryDirectory(prefix="shopassist-live-") as tmp:
            report["live"] = _replay(run, config, users, latency_users, cold_events, Path(tmp), say)
    else:
        report["live"] = _replay(run, config, users, latency_users, cold_events, Path(home), say)
    return report


def _replay(run, config: EvalConfig, n_users: int, latency_users: int, cold_events, home: Path, say) -> dict:
    prep = run.prep
    data, split = prep.data, prep.split
    item_ids = data.item_ids
    t0 = time.time()
    settings = Settings(home=home, embedder=config.embedder, default_catalog=LIVE_CATALOG, llm="none")
    # the eval's embedding cache: the catalog's texts are the titles the eval embedded
    engine = Engine(settings, llm=False, embedder=make_embedder(config.embedder, config.embed_cache))
    tsv = home / "live_items.tsv"
    home.mkdir(parents=True, exist_ok=True)
    titles = data.titles or {}
    clean = lambda text: " ".join((text or "").split())  # noqa: E731  (no tabs or newlines in a cell)
    if data.products is None:
        tsv.write_text("item_id\ttitle\n" + "".join(
            f"{i}\t{clean(titles.get(i) or i)}\n" for i in item_ids), encoding="utf-8")
    else:   # --item-meta: the catalog gets the same brand / category, so it embeds the eval's texts
        ps = data.products
        tsv.write_text("item_id\ttitle\tbrand\tcategory\tall_categories\n" + "".join(
            f"{i}\t{clean(ps[i].title)}\t{clean(ps[i].brand)}\t{clean(ps[i].category)}\t"
            f"{clean(ps[i].attributes.get('all_categories'))}\n" for i in item_ids), encoding="utf-8")
    say(f"live: importing {len(item_ids):,} items as catalog {LIVE_CATALOG!r} in {home} ...")
    engine.import_catalog(tsv, LIVE_CATALOG)
    catalog = engine.catalog(LIVE_CATALOG)
    models = {n: m for n, m in run.models.items() if n != BASELINE}
    # the live ranking: the re-ranked fusion when the run fitted a re-ranker, else the fusion when
    # there is one, else the one model asked for (pop when alone)
    fused = ("rerank" if run.reranker is not None else "fusion") if run.weights else \
        next((n for n in models if n != "pop"), "pop")
    weights = dict(run.weights) if run.weights else {fused: 1.0}
    write_bundle(bundle_root(settings.models_dir, LIVE_CATALOG),
                 ModelBundle(models, weights, list(item_ids), {"source": "eval --live", "seed": run.seed},
                             reranker=run.reranker))
    setup_s = time.time() - t0
    say(f"live: catalog and bundle ready in {setup_s:.0f}s (models {', '.join(models)}; fusion "
        + ", ".join(f"{k}={v:g}" for k, v in weights.items()) + ")")
    if list(catalog.ids) != list(item_ids):
        say("live: catalog row order differs from the models' (the service maps ids)")

    rng = np.random.default_rng(run.seed)
    n_eval = len(split.eval_users)
    pick = np.sort(rng.choice(n_eval, min(n_users, n_eval), replace=False))
    hists = split.test_histories()
    targets = split.test_targets

    record_ms, after_ms, total_ms, final_ms = [], [], [], []
    live_ranks, repeat_target = [], 0
    engine.recommend(None, k=10)  # load the bundle before timing
    t_replay = time.time()
    for j, idx in enumerate(pick):
        user = f"live:{data.interactions.user_ids[split.eval_users[idx]]}"
        hist, target = hists[idx], int(targets[idx])
        repeat_target += int(target in set(hist.tolist()))
        timed = j < latency_users
        for pos, row in enumerate(hist):
            t = time.perf_counter()
            engine.record_event(user, item_ids[row], "purchase", event_id=f"{user}:{pos}")
            t1 = time.perf_counter()
            record_ms.append((t1 - t) * 1000)
            if timed:
                engine.recommend(user, k=10)
                t2 = time.perf_counter()
                after_ms.append((t2 - t1) * 1000)
                total_ms.append((t2 - t) * 1000)
        t = time.perf_counter()
        recs = engine.recommend(user, k=10)
        final_ms.append((time.perf_counter() - t) * 1000)
        live_ranks.append(_rank_in(recs, item_ids[target]))
        if (j + 1) % 500 == 0:
            say(f"live: {j + 1:,}/{len(pick):,} users replayed")
    replay_s = time.time() - t_replay
    live_ndcg = [_ndcg_of_rank(r) for r in live_ranks]
    offline = {n: round(ndcg_at_k(r[pick], 10), 5) for n, r in run.test_ranks.items()}
    live = {
        "users": int(len(pick)),
        "events_replayed": len(record_ms),
        "model": fused,
        "NDCG@10": round(float(np.mean(live_ndcg)), 5),
        "HR@10": round(float(np.mean([r is not None for r in live_ranks])), 5),
        "NDCG@10_std_error": round(float(np.std(live_ndcg, ddof=1) / math.sqrt(len(live_ndcg))), 5)
        if len(live_ndcg) > 1 else None,
        "offline_NDCG@10_same_users": offline,
        "offline_HR@10_same_users": {n: round(float((r[pick] < 10).mean()), 5) for n, r in run.test_ranks.items()},
        "users_whose_target_was_bought_before": repeat_target,
        "latency_ms": {
            "record_event": percentiles(record_ms),
            "recommend_after_event": percentiles(after_ms),
            "event_to_updated_recommendations": percentiles(total_ms),
            "recommend_after_full_history": percentiles(final_ms),
            "latency_users": min(latency_users, len(pick)),
        },
        "setup_seconds": round(setup_s, 1),
        "replay_seconds": round(replay_s, 1),
    }
    diff = live["NDCG@10"] - offline[fused]
    say(f"live: NDCG@10 {live['NDCG@10']:.4f} (live, {len(pick):,} users) vs {offline[fused]:.4f} offline "
        f"({fused}, same users), difference {diff:+.4f}; std error {live['NDCG@10_std_error']}")
    live["cold_start"] = _cold_start(engine, run, pick, hists, targets, item_ids, cold_events, say)
    return live


def _cold_start(engine, run, pick, hists, targets, item_ids, cold_events, say) -> dict:
    """NDCG@10 of the test item for fresh shoppers given the last n events before it."""
    pop = run.models["pop"]
    out = {}
    for n in cold_events:
        ours, ranks_pop = [], []
        hist_n, tg = [], []
        for idx in pick:
            h = hists[idx]
            if len(h) < n:
                continue
            last = h[-n:]
            user = f"cold{n}:{idx}"
            for pos, row in enumerate(last):
                engine.record_event(user, item_ids[row], "purchase", event_id=f"{user}:{pos}")
            target = int(targets[idx])
            ours.append(_ndcg_of_rank(_rank_in(engine.recommend(user, k=10), item_ids[target])))
            hist_n.append(last)
            tg.append(target)
        if not ours:
            continue
        for s in range(0, len(tg), 512):
            h = hist_n[s : s + 512]
            ranks_pop.append(target_ranks(pop.score_batch(h), np.asarray(tg[s : s + 512]), exclude=h))
        out[str(n)] = {"users": len(ours), "ours_live_NDCG@10": round(float(np.mean(ours)), 5),
                       "pop_NDCG@10": round(ndcg_at_k(np.concatenate(ranks_pop), 10), 5)}
        say(f"live: cold start, {n} event(s): ours {out[str(n)]['ours_live_NDCG@10']:.4f} vs popularity "
            f"{out[str(n)]['pop_NDCG@10']:.4f} ({len(ours):,} users)")
    return out


def format_live(live: dict) -> str:
    """Plain-text summary of report["live"]."""
    off = live["offline_NDCG@10_same_users"]
    lat = live["latency_ms"]
    lines = [f"live replay ({live['users']:,} users, {live['events_replayed']:,} events through Engine.record_event):",
             f"  NDCG@10 live {live['NDCG@10']:.4f} (+- {live['NDCG@10_std_error'] or 0:.4f} s.e.) vs offline "
             f"{off[live['model']]:.4f} ({live['model']}, same users); HR@10 live {live['HR@10']:.4f} vs offline "
             f"{live['offline_HR@10_same_users'][live['model']]:.4f}",
             f"  users whose test item was bought before (never re-recommended live): "
             f"{live['users_whose_target_was_bought_before']}"]
    for key in ("record_event", "recommend_after_event", "event_to_updated_recommendations"):
        p = lat[key]
        if p.get("n"):
            lines.append(f"  {key:<34} p50 {p['p50']:7.2f} ms  p99 {p['p99']:7.2f} ms  max {p['max']:7.2f} ms  (n={p['n']:,})")
    if live.get("cold_start"):
        lines.append("  cold start (fresh shopper, last n events): n  users  ours NDCG@10  popularity NDCG@10")
        for n, row in live["cold_start"].items():
            lines.append(f"  {'':<41}{n:>2} {row['users']:>6} {row['ours_live_NDCG@10']:>13.4f} {row['pop_NDCG@10']:>19.4f}")
    return "\n".join(lines)
