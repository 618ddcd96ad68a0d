"""Single-query search latency through the Engine's searcher, with queries that were never seen
before (a random number is appended, so neither the embedding cache nor any other cache can hit):
MiniLM query embedding + Chroma ANN + BM25 + fusion, k=10, warm process.

    python benchmarks/bench_search_latency.py --home benchmarks/out/bench-home --n 200
(the home must hold the imported demo catalog: `shopassist --home DIR catalog import-demo`)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = ("red matte lipstick shampoo curly hair serum vitamin dry skin nail polish pink glossy cream face "
         "mask eye liner waterproof oil argan brush sunscreen perfume vanilla rose body lotion gel").split()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", default="benchmarks/out/bench-home")
    ap.add_argument("--catalog", default="beauty")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from assistant.engine import Engine
    from assistant.settings import Settings

    searcher = Engine(Settings(home=args.home, llm="none", default_catalog=args.catalog)).searcher(args.catalog)
    rng = random.Random(0)
    searcher.search("warm up query", k=10)
    lat = []
    for _ in range(args.n):
        query = " ".join(rng.sample(WORDS, 3)) + f" {rng.randint(1, 10**9)}"
        t = time.perf_counter()
        searcher.search(query, k=10)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    pct = lambda q: round(lat[min(len(lat) - 1, int(q / 100 * len(lat)))], 1)  # noqa: E731
    out = {"n": args.n, "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
           "loadavg_end": os.getloadavg(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    print(json.dumps(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
