"""Filtered-search latency on a synthetic catalog: n products with random unit vectors (no embedder,
no real text), one Chroma collection kept in a work directory so before/after runs share it.

    nice -n 19 python benchmarks/bench_filtered_search.py --n 100000 --dim 384 --work /tmp/bfs

For each filter: how many products it matches, which path the search took (exact dense over the
filtered subset or the over-fetched ANN) and p50 / p99 latency over the queries, plus the filter
index build time (first start, saved to WORK/catalog/filters) and a later start (loaded when saved;
delete WORK/catalog to measure a first start again). Cost curve only, not quality.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLORS = ["black", "white", "red", "blue", "green", "pink"]
BRANDS = ["Acme", "Lumina", "Verde", "Nordic", "Zenith", "Orbit"]
NOUNS = ["shampoo", "lipstick", "serum", "sneakers", "backpack", "jacket", "dress", "watch"]


def make(n: int, dim: int, seed: int = 0):
    from retrieval.catalog import Catalog, Product

    rng = random.Random(seed)
    products = []
    for i in range(n):
        color, brand, noun = rng.choice(COLORS), rng.choice(BRANDS), rng.choice(NOUNS)
        products.append(Product(id=f"p{i:07d}", title=f"{brand} {color} {noun} model {rng.randrange(100, 999)}",
                                description=f"A {color} {noun} by {brand}.", brand=brand, category=noun.title(),
                                price=round(rng.uniform(3, 200), 2), currency="USD",
                                rating=round(rng.uniform(1, 5), 1), attributes={"color": color}))
    vecs = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return products, vecs, Catalog


def pct(xs):
    return {"p50": round(float(np.percentile(xs, 50)), 2), "p99": round(float(np.percentile(xs, 99)), 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_filtered_search"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from retrieval import store
    from retrieval.search import HybridSearcher, SearchConfig
    import retrieval.search as search_mod

    products, vecs, Catalog = make(args.n, args.dim)
    args.work.mkdir(parents=True, exist_ok=True)
    client = store.make_chroma_client(path=args.work / "chroma")
    name = f"synth_{args.n}_{args.dim}"
    try:
        collection = store.get_collection(client, name)
        if collection.count() != args.n:
            raise LookupError
    except Exception:
        store.delete_collection(client, name)
        collection = store.create_collection(client, name)
        t = time.perf_counter()
        store.add_vectors(collection, [p.id for p in products], vecs)
        print(f"built collection in {time.perf_counter() - t:.1f} s", flush=True)
    catalog = Catalog("synth", 1, products, vecs, {"collection": name, "embedder": "synthetic"},
                      path=args.work / "catalog")
    (args.work / "catalog").mkdir(exist_ok=True)

    class Synthetic:
        name = catalog.embedder_name

    from retrieval.filters import filter_index
    import retrieval.filters as filters_mod
    t = time.perf_counter()
    searcher = HybridSearcher(catalog, Synthetic(), collection, SearchConfig())
    start_s = time.perf_counter() - t
    catalog.facets   # learned here (no facets.json in this synthetic version): not the filter index's cost
    t = time.perf_counter()
    searcher.filter_index
    filter_s = time.perf_counter() - t
    again = Catalog("synth", 1, products, vecs, catalog.meta, path=catalog.path)   # a later start
    again.facets
    t = time.perf_counter()
    filter_index(again)
    filter_again_s = time.perf_counter() - t

    # which path each search takes: count calls of the ANN
    calls = {"ann": 0}
    real_query = store.query_vectors

    def counting(*a, **kw):
        calls["ann"] += 1
        return real_query(*a, **kw)

    search_mod.store.query_vectors = counting
    rng = np.random.default_rng(1)
    words = [p.title.split()[2] for p in products[:500]]
    filters = {
        "price<=40 + colour": lambda c: {"max_price": 40, "must_have": [c]},
        "colour": lambda c: {"color": [c]},
        "price<=40": lambda c: {"max_price": 40},
        "price>=80": lambda c: {"min_price": 80},
        "brand": lambda c: {"brand": "Acme"},
    }
    out = {"n": args.n, "dim": args.dim, "searcher_start_s": round(start_s, 2),
           "filter_index_first_s": round(filter_s, 2), "filter_index_second_s": round(filter_again_s, 2),
           "filters": {}}
    for label, make_filter in filters.items():
        times, n_match = [], 0
        calls["ann"] = 0
        for qi in range(args.queries):
            v = rng.standard_normal(args.dim).astype(np.float32)
            v /= np.linalg.norm(v)
            flt = make_filter(random.Random(qi).choice(COLORS))
            n_match = int(searcher.filter_mask(flt).sum())
            q = f"{words[qi % len(words)]} model"
            t = time.perf_counter()
            searcher.search(q, k=10, filters=flt, query_vector=v)
            times.append((time.perf_counter() - t) * 1000)
        out["filters"][label] = {"n_match": n_match, "ann_calls": calls["ann"], "queries": args.queries,
                                 "ms": pct(times)}
        print(label, out["filters"][label], flush=True)
    print(json.dumps(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
