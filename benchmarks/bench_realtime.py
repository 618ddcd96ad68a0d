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

`--engine`: the app's whole path instead, `Engine.record_event` then `Engine.recommend` (cart /
purchase exclusion, variant collapse, explanations), the way `shopassist eval --live` replays a
history. The home is prepared first when it is new (`Engine.prepare`: the demo catalog, the demo
shoppers' events, the fast models pop / itemknn / als / content; about two minutes with
`--embedder hashing`). Real demo shoppers' sequences are replayed one purchase at a time under
fresh shopper ids (forgotten at the end, so the home is left as it was), with a recommend after
every event; each round is split into stages (SQLite commit, profile update, cart read, every
model's fold-in / scoring, fusion, top-k, evidence, variant collapse, explanations), reported as
per-round p50 / p99 and mean. `--dump-topk FILE` writes every round's top-k as returned (ids,
scores, components, "why"; to compare two versions of the code: same --seed, same rounds; event
times then come from a fixed clock, one second apart, so that two runs' profiles decay alike); `--profile FILE` writes a cProfile of the replay.

    python benchmarks/bench_realtime.py --engine --home H --embedder hashing [--events 400] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import os
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



def _describe(catalog, service, started: str) -> list[str]:
    """Print what is being measured (catalog size, models, bundle version); return the model names."""
    bundle = service._bundle
    models = sorted(bundle.models) if bundle else []
    print(f"catalog {catalog.name}: {len(catalog.ids):,} items; models {models or 'none'} "
          f"(version {service.version}); {started}", flush=True)
    return models

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
    ap.add_argument("--engine", action="store_true",
                    help="time Engine.record_event + Engine.recommend, stage by stage (see the docstring)")
    ap.add_argument("--embedder", choices=("minilm", "hashing"), help="--engine: the home's embedder")
    ap.add_argument("--dump-topk", help="--engine: write every round's top-k (ids, scores, components, why) here (JSON lines)")
    ap.add_argument("--profile", help="--engine: write a cProfile report of the replay here")
    ap.add_argument("--gc-freeze", action="store_true", help="--engine: gc.freeze() after loading (an experiment)")
    ap.add_argument("--serial-models", action="store_true",
                    help="--engine: score every model in the request thread (ServiceConfig.parallel_models off; "
                         "the default scores SASRec in a worker thread beside the other models)")
    args = ap.parse_args(argv)
    if args.engine:
        return engine_main(args, argv)

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
    models = _describe(catalog, service, f"service start {load_s:.1f}s")

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
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform(),
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


class Spans:
    """Wall time per named stage within one round (ms, summed over the stage's calls in the round):
    `wrap` replaces a method or module function by a timed one (inclusive of what it calls)."""

    def __init__(self):
        self.current: dict[str, float] = {}
        self.rounds: list[dict[str, float]] = []
        self.names: list[str] = []   # in the order wrapped: parents before their stages

    def wrap(self, owner, attr: str, name: str) -> None:
        fn = getattr(owner, attr)
        self.names.append(name)

        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.current[name] = self.current.get(name, 0.0) + (time.perf_counter() - t) * 1000

        setattr(owner, attr, timed)

    def end_round(self) -> None:
        self.rounds.append(self.current)
        self.current = {}

    def table(self) -> dict[str, dict]:
        out = {}
        for n in self.names:
            v = [r.get(n, 0.0) for r in self.rounds]
            out[n] = {**pct(v), "mean": round(float(np.mean(v)), 3)}
        return out


def _instrument(engine, service, spans: Spans) -> None:
    """The stages of Engine.record_event + Engine.recommend (inclusive times; nested names are
    indented in the printout by their dots)."""
    import assistant.engine as engine_mod
    import ranking.service as service_mod

    spans.wrap(engine, "record_event", "record_event")
    spans.wrap(service.events, "add", "record_event.store_add (validate + SQLite commit)")
    spans.wrap(service, "record", "record_event.service_record")
    spans.wrap(engine, "recommend", "recommend")
    spans.wrap(engine, "_owned", "recommend.owned (cart / purchases read)")
    spans.wrap(service, "recommend", "recommend.service")
    spans.wrap(service, "_maybe_reload", "recommend.service.bundle_check")
    spans.wrap(service, "_profile", "recommend.service.profile_sync")
    spans.wrap(service, "_components", "recommend.service.components")
    for name, model in (service._bundle.models if service._bundle else {}).items():
        spans.wrap(model, "fold_in", f"recommend.service.components.{name}.fold_in")
        spans.wrap(model, "score_live", f"recommend.service.components.{name}.score_live")
    reranker = service._bundle.reranker if service._bundle else None
    if reranker is not None:
        spans.wrap(reranker, "rerank", "recommend.service.rerank (pool, features, LightGBM)")
        spans.wrap(reranker, "predict", "recommend.service.rerank.predict")
    spans.wrap(service_mod, "zscore", "recommend.service.zscore")
    spans.wrap(service_mod, "drop_rows", "recommend.service.drop_rows")
    spans.wrap(service_mod, "top_rows", "recommend.service.top_rows")
    spans.wrap(service, "_most_similar_history", "recommend.service.evidence")
    spans.wrap(service, "_scored", "recommend.service.scored_items")
    spans.wrap(engine, "_not_owned", "recommend.not_owned (variants of owned)")
    spans.wrap(engine, "_cards", "recommend.cards (variant collapse)")
    spans.wrap(engine, "_explained", "recommend.explained (why)")
    spans.wrap(engine_mod, "why", "recommend.explained.why")


class _FixedClock:
    """The `time` module with a `time()` that starts at t0 and advances one second per call."""

    def __init__(self, t0: float):
        self.now = t0

    def time(self) -> float:
        self.now += 1.0
        return self.now

    def __getattr__(self, name):
        return getattr(time, name)


class _GcLog:
    """Python's cyclic garbage collections during the measured rounds (gc.callbacks): how many of
    each generation, their pause times, and how the slowest 1% of rounds relate to them."""

    def __init__(self):
        import gc

        self.pauses: list[tuple[int, float]] = []
        self.rounds: list[tuple[float, float]] = []   # (round ms, gc ms inside it)
        self._t = 0.0
        self._in_round = 0.0
        self._gc = gc
        gc.callbacks.append(self._cb)

    def _cb(self, phase, info) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            ms = (time.perf_counter() - self._t) * 1000
            self.pauses.append((info["generation"], ms))
            self._in_round += ms

    def round_start(self) -> None:
        self._in_round = 0.0

    def round_end(self, round_ms: float) -> None:
        self.rounds.append((round_ms, self._in_round))

    def stop(self) -> None:
        if self._cb in self._gc.callbacks:
            self._gc.callbacks.remove(self._cb)

    def summary(self) -> dict:
        out = {"frozen_objects": self._gc.get_freeze_count()}
        for g in (0, 1, 2):
            ms = [m for gen, m in self.pauses if gen == g]
            out[f"gen{g}"] = {"n": len(ms), "max_ms": round(max(ms), 2) if ms else 0.0,
                              "total_ms": round(sum(ms), 1)}
        if self.rounds:
            slow = sorted(self.rounds, reverse=True)[: max(1, len(self.rounds) // 100)]
            out["slowest_1pct_rounds_gc_ms_mean"] = round(float(np.mean([g for _r, g in slow])), 2)
        return out


def _loadavg() -> str:
    """1-, 5- and 15-minute load averages, as the first fields of `cat /proc/loadavg`."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def engine_main(args, argv) -> int:
    """--engine: the replay through the Engine (see the module docstring)."""
    import cProfile
    import io
    import pstats

    from benchmarks.common import offline

    offline()
    from assistant.engine import Engine
    from assistant.settings import DATA_DIR, Settings
    from ranking.data import read_sequences

    settings = Settings.from_env(home=args.home, embedder=args.embedder, llm="none", default_catalog=args.catalog)
    engine = Engine(settings, llm=False)
    t0 = time.perf_counter()
    engine.prepare(progress=lambda m: print(f".. {m}", flush=True), warm=False)
    catalog = engine.catalog(args.catalog)
    service = engine.service(args.catalog)
    if args.serial_models:
        service.config.parallel_models = False
    engine.recommend(None, k=args.k)   # the bundle and the lazy parts loaded before timing
    if args.gc_freeze:
        import gc

        gc.collect()
        gc.freeze()
    load_s = time.perf_counter() - t0
    models = _describe(catalog, service, f"ready in {load_s:.1f}s")

    rng = np.random.default_rng(args.seed)
    seqs = [(u, [i for i in items if i in catalog.index]) for u, items in
            read_sequences(DATA_DIR / "beauty" / "sequences.txt.gz")]
    seqs = [s for s in seqs if s[1]]
    picked = [seqs[i] for i in rng.choice(len(seqs), min(args.users, len(seqs)), replace=False)]
    run = uuid.uuid4().hex[:8]
    spans = Spans()
    _instrument(engine, service, spans)
    dump = open(args.dump_topk, "w", encoding="utf-8") if args.dump_topk else None
    if dump:   # event times from a fixed clock, so that two runs' decayed profiles (and scores) are equal
        import assistant.engine as engine_mod

        engine_mod.time = _FixedClock(1.7e9)
    prof = cProfile.Profile() if args.profile else None
    gc_log = _GcLog()
    total, cpu, fresh = [], [], []
    rounds = 0
    load_before = _loadavg()
    try:
        for j, (orig, items) in enumerate(picked):
            if rounds >= args.events:
                break
            user = f"bench-rt:{run}:{j}"
            fresh.append(user)
            for pos, item in enumerate(items):
                if rounds >= args.events:
                    break
                if prof:
                    prof.enable()
                t, c = time.perf_counter(), time.thread_time()
                gc_log.round_start()
                engine.record_event(user, item, "purchase", event_id=f"{user}:{pos}")
                recs = engine.recommend(user, k=args.k)
                total.append((time.perf_counter() - t) * 1000)
                gc_log.round_end(total[-1])
                cpu.append((time.thread_time() - c) * 1000)   # this thread's CPU: no fsync wait, no other load
                if prof:
                    prof.disable()
                spans.end_round()
                rounds += 1
                if dump:
                    dump.write(json.dumps({"shopper": orig, "pos": pos, "top": recs}, sort_keys=True) + "\n")
    finally:
        gc_log.stop()
        if dump:
            dump.close()
        for user in fresh:
            engine.forget_user(user)
    stages = spans.table()
    result = {
        "mode": "engine", "catalog": catalog.name, "items": len(catalog.ids), "models": models,
        "version": service.version, "embedder": settings.embedder, "k": args.k, "rounds": rounds,
        "reranker": service._bundle.reranker is not None if service._bundle else False,
        "parallel_models": service.config.parallel_models,
        "shoppers": len(fresh), "events_in_store": engine.events.count(), "fixed_clock": bool(args.dump_topk),
        "event_to_updated_recs_ms": pct(total), "event_to_updated_recs_cpu_ms": pct(cpu), "stages_ms": stages,
        "gc": gc_log.summary(),
        "loadavg_before_after": [load_before, _loadavg()],
        "machine": {"cpus": len(os.sched_getaffinity(0)), "platform": platform.platform(),
                    "nice": os.getpriority(os.PRIO_PROCESS, 0)},
        "command": "python benchmarks/bench_realtime.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    r = result["event_to_updated_recs_ms"]
    print(f"load average before / after the replay: {result['loadavg_before_after']}")
    print(f"event -> updated recommendations (Engine.record_event + Engine.recommend), {rounds} rounds: "
          f"p50 {r['p50']:.2f}  p95 {r['p95']:.2f}  p99 {r['p99']:.2f}  max {r['max']:.2f} ms")
    r = result["event_to_updated_recs_cpu_ms"]
    print(f"  the same rounds, CPU time of this thread (no disk wait, less sensitive to load; a model scored "
          f"in the worker thread is not in it): "
          f"p50 {r['p50']:.2f}  p95 {r['p95']:.2f}  p99 {r['p99']:.2f}  max {r['max']:.2f} ms")
    print(f"garbage collections during the rounds: {result['gc']}")
    print(f"{'stage (ms per round, inclusive)':<72} {'p50':>7} {'p99':>7} {'mean':>7}")
    for name, v in stages.items():
        path, _, note = name.partition(" ")
        depth = path.count(".")
        label = "  " * depth + path.split(".", min(depth, 3))[-1] + (" " + note if note else "")
        print(f"{label:<72} {v['p50']:7.2f} {v['p99']:7.2f} {v['mean']:7.2f}")
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(45)
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(30)
        Path(args.profile).parent.mkdir(parents=True, exist_ok=True)
        Path(args.profile).write_text(buf.getvalue())
        print(f"cProfile (cumulative) written to {args.profile}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
