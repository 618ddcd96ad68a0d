"""Event -> updated recommendations latency, and warm `recommend` latency, on the demo catalog.

No LLM is involved: this is the ranking layer (RecommendationService) over the catalog, the
event store and the trained bundle found in --home (prepare them with
`shopassist --home H events import data/beauty/sequences.txt.gz` and `shopassist --home H train`).

The event store is copied to a temporary directory first, so the benchmark's events never reach
the real store. For each of --events rounds: pick a shopper with history, record one event
(view / click / cart on a random product: SQLite commit with synchronous=FULL, then the live
profile update), then ask for the top-k (this call sees the event: the ALS factor is folded in
again, SASRec reads the new sequence). Reported: record, recommend-after-event, and their sum
(event -> updated recommendations), plus a warm recommend (same user, no new event) and the
first recommend of a shopper (profile built from the store), as p50 / p95 / p99 / max in ms.

    python benchmarks/bench_realtime.py --home H [--catalog beauty] [--events 1000] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pct(values: list[float]) -> dict:
    a = np.asarray(values)
    return {"n": int(a.size), "p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "p99": round(float(np.percentile(a, 99)), 2), "max": round(float(a.max()), 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", required=True, help="SHOPASSIST_HOME holding the catalog, events and models")
    ap.add_argument("--catalog", default="beauty")
    ap.add_argument("--events", type=int, default=1000, help="measured event rounds (default 1000)")
    ap.add_argument("--users", type=int, default=200, help="distinct shoppers used (default 200)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from assistant.engine import Engine
    from assistant.settings import Settings
    from ranking.events import EventStore
    from ranking.service import RecommendationService

    settings = Settings.from_env(home=args.home)
    engine = Engine(settings, llm=False)
    catalog = engine.catalog(args.catalog)
    src = settings.events_db
    if not src.exists():
        sys.exit(f"no event store at {src}: run `shopassist --home {args.home} events import ...` first")
    tmp = Path(tempfile.mkdtemp(prefix="bench-rt-"))
    with sqlite3.connect(src) as conn:  # fold the WAL in so one file is a complete copy
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy2(src, tmp / "events.sqlite")
    store = EventStore(tmp / "events.sqlite", known_items=catalog.index)
    t0 = time.perf_counter()
    service = RecommendationService(catalog, store, settings.models_dir)
    load_s = time.perf_counter() - t0
    bundle = service._bundle
    models = sorted(bundle.models) if bundle else []
    print(f"catalog {catalog.name}: {len(catalog.ids):,} items; models {models or 'none'} "
          f"(version {service.version}); service start {load_s:.1f}s", flush=True)

    rng = np.random.default_rng(args.seed)
    top = [u for u, _n in store.top_users(5000)]
    users = [top[i] for i in rng.choice(len(top), min(args.users, len(top)), replace=False)]
    first, warm = [], []
    for u in users:  # first request builds the profile from the store; the second is warm
        t = time.perf_counter()
        service.recommend(u, k=args.k)
        first.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        service.recommend(u, k=args.k)
        warm.append((time.perf_counter() - t) * 1000)
    anon = []
    for _ in range(50):
        t = time.perf_counter()
        service.recommend(None, k=args.k)
        anon.append((time.perf_counter() - t) * 1000)

    record, after, total, changed = [], [], [], 0
    types = ["view", "click", "cart"]
    for i in range(args.events):
        u = users[int(rng.integers(len(users)))]
        before = [it.item_id for it in service.recommend(u, k=args.k)]
        ev = {"event_id": uuid.uuid4().hex, "user_id": u, "item_id": catalog.ids[int(rng.integers(len(catalog.ids)))],
              "type": types[i % 3], "timestamp": time.time()}
        t = time.perf_counter()
        service.record(ev)
        t1 = time.perf_counter()
        recs = service.recommend(u, k=args.k)
        t2 = time.perf_counter()
        record.append((t1 - t) * 1000)
        after.append((t2 - t1) * 1000)
        total.append((t2 - t) * 1000)
        changed += [it.item_id for it in recs] != before
    result = {
        "catalog": catalog.name, "items": len(catalog.ids), "models": models, "version": service.version,
        "events_in_store": store.count(), "k": args.k, "service_start_s": round(load_s, 2),
        "event_to_updated_recs_ms": pct(total), "record_ms": pct(record), "recommend_after_event_ms": pct(after),
        "warm_recommend_ms": pct(warm), "first_recommend_ms": pct(first), "anonymous_recommend_ms": pct(anon),
        "share_of_events_that_changed_the_top_k": round(changed / max(args.events, 1), 3),
        "machine": {"cpus": len(__import__("os").sched_getaffinity(0)), "platform": platform.platform(),
                    "torch_threads": torch.get_num_threads()},
        "command": "python benchmarks/bench_realtime.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    store.close()
    shutil.rmtree(tmp, ignore_errors=True)
    for key in ("event_to_updated_recs_ms", "record_ms", "recommend_after_event_ms", "warm_recommend_ms",
                "first_recommend_ms", "anonymous_recommend_ms"):
        r = result[key]
        print(f"{key:<28} p50 {r['p50']:7.2f}  p95 {r['p95']:7.2f}  p99 {r['p99']:7.2f}  max {r['max']:7.2f}  (n={r['n']})")
    print(f"events that changed the shopper's top-{args.k}: {result['share_of_events_that_changed_the_top_k']:.0%}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
