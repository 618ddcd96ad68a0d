"""Chat turns on CPU with the intent LLM: time to the first products vs. the LLM-refined answer.

    python benchmarks/bench_fast_turns.py --home DIR --catalog adidas --llm qwen-0.5b --n 12
    python benchmarks/bench_fast_turns.py --home DIR --catalog adidas --llm qwen-1.5b --n 12 --json OUT

Messages come from tests/data/intents.jsonl (single-turn rows): the first --n the rules are NOT
sure of (the LLM runs: `Engine.chat_stream` answers the rules' reading at once with
pending=True, then the LLM's reading) and the first --n they are sure of (no LLM). Each turn
gets a fresh session. The LLM is loaded and warmed up before timing; the catalog's searcher and
recommenders too (one untimed turn). Reports, per path, p50 / p99 / max of:
  first_products  message -> the first yielded result that carries products (what the shopper sees)
  final           message -> the last result (pending=False): the LLM-refined answer
and how often the LLM's reading changed the answer (products searched again).
Run the timed part under the shared CPU lock: flock /tmp/shopassist-cpu.lock python ...
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from benchmarks.common import cpu_model, write_json  # noqa: E402


def messages(n: int) -> tuple[list[str], list[str]]:
    from assistant.intent import DEFAULT_MIN_CONFIDENCE
    from assistant.rules import parse_rules

    unsure, sure = [], []
    for line in (REPO / "tests" / "data" / "intents.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row.get("history") or row.get("turns"):
            continue
        message = row["message"]
        bucket = unsure if parse_rules(message).confidence < DEFAULT_MIN_CONFIDENCE else sure
        if len(bucket) < n:
            bucket.append(message)
    return unsure, sure


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(values, q)), 1) if values else float("nan")


def one_turn(engine, message: str, session: str, catalog: str) -> dict:
    t0 = time.perf_counter()
    first = None
    results = []
    for result in engine.chat_stream(message, session_id=session, catalog=catalog):
        now = (time.perf_counter() - t0) * 1000
        if first is None and result.products:
            first = now
        results.append((now, result))
    final_ms, final = results[-1]
    # the rules' reading shown while the LLM worked (a rules-only turn's line-only partial is not one)
    fast = next((r for _, r in results if r.pending and "parse_fast" in r.timings_ms), None)
    changed = fast is not None and [p["id"] for p in fast.products] != [p["id"] for p in final.products]
    return {"message": message, "first_products_ms": round(first if first is not None else final_ms, 1),
            "final_ms": round(final_ms, 1), "source": final.intent.get("_source"),
            "fast_reading_shown": fast is not None, "answer_changed": changed,
            "n_products": len(final.products), "pending_flags": [r.pending for _, r in results]}


def summary(rows: list[dict]) -> dict:
    first = [r["first_products_ms"] for r in rows]
    final = [r["final_ms"] for r in rows]
    return {"n": len(rows),
            "first_products_ms": {"p50": percentile(first, 50), "p99": percentile(first, 99), "max": max(first)},
            "final_ms": {"p50": percentile(final, 50), "p99": percentile(final, 99), "max": max(final)},
            "llm_source_share": round(sum(r["source"] == "llm" for r in rows) / len(rows), 3),
            "fast_reading_shown": sum(r["fast_reading_shown"] for r in rows),
            "answer_changed": sum(r["answer_changed"] for r in rows)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, help="SHOPASSIST_HOME with the catalog imported")
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--llm", default="qwen-0.5b", choices=["qwen-0.5b", "qwen-1.5b"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=12, help="messages per path")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from assistant.engine import Engine
    from assistant.settings import Settings

    settings = Settings(home=Path(args.home), llm=args.llm, llm_backend="llamacpp", threads=args.threads,
                        default_catalog=args.catalog)
    engine = Engine(settings)
    t = time.perf_counter()
    llm = engine.llm
    llm.warmup()
    load_s = time.perf_counter() - t
    engine.chat("warm up the searcher", session_id="warm", catalog=args.catalog)
    unsure, sure = messages(args.n)
    out = {"machine": {"cpu": cpu_model(), "cores": os.cpu_count()}, "llm": llm.name, "threads": args.threads,
           "catalog": args.catalog, "llm_load_s": round(load_s, 1), "paths": {}}
    for path, batch in (("llm", unsure), ("rules", sure)):
        rows = [one_turn(engine, m, f"{path}-{i}", args.catalog) for i, m in enumerate(batch)]
        out["paths"][path] = {"summary": summary(rows), "turns": rows}
        print(f"{path:5s} {json.dumps(out['paths'][path]['summary'])}", flush=True)
    write_json(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
