"""Per-query filter-mask time over a synthetic catalog (the products of bench_filtered_search.py):
one `FilterIndex.mask(filters)` per filter kind, median and p99 over repeats, on warm indexes.

    python benchmarks/bench_filter_masks.py --n 100000 --json OUT
    python benchmarks/bench_filter_masks.py --n 100000 --root OLD_CHECKOUT     # the same on other code

`--root` puts another checkout's `retrieval` package first on the path (a before/after comparison in
the same conditions). Cost only, not quality. must_have / exclude phrases are cached per term after
their first scan, so their first (cold) query is reported apart.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

FILTERS = {
    "colour": {"color": ["red"]},
    "brand": {"brand": "acme"},
    "exclude_brand": {"exclude_brand": ["verde"]},
    "category": {"category": "shampoo"},
    "type": {"product_type": ["lipstick"]},
    "price": {"max_price": 40},
    "colour + price + brand": {"color": ["blue", "black"], "max_price": 60, "brand": "zenith"},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose retrieval package is measured")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_filtered_search import make   # puts this checkout on the path; --root goes before it

    sys.path.insert(0, str(args.root))
    from retrieval.catalog import Catalog
    from retrieval.filters import FilterIndex

    products, _vecs, _ = make(args.n, 8)
    cat = Catalog("masks", 1, products, np.zeros((len(products), 1), dtype=np.float32), {"embedder": "none"})
    t = time.perf_counter()
    index = FilterIndex(cat)
    import retrieval.filters

    out = {"code": str(Path(retrieval.filters.__file__).parent.parent), "n": args.n, "build_s": round(time.perf_counter() - t, 2), "ms": {}}
    for name, f in FILTERS.items():
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            m = index.mask(f)
            times.append((time.perf_counter() - t) * 1000)
        out["ms"][name] = {"p50": round(float(np.median(times)), 3), "p99": round(float(np.percentile(times, 99)), 3),
                           "matched": int(m.sum())}
    for term in ("serum", "model", "red lipstick"):   # rare-ish, in every product, a phrase
        t = time.perf_counter()
        m = index.mask({"must_have": [term]})
        out["ms"][f"must_have {term!r} (first query of the term)"] = {
            "p50": round((time.perf_counter() - t) * 1000, 3), "matched": int(m.sum())}
    t = time.perf_counter()
    m = index.mask({"exclude": ["red"]})
    out["ms"]["exclude 'red' (first query of the term)"] = {"p50": round((time.perf_counter() - t) * 1000, 3),
                                                            "matched": int(m.sum())}
    print(json.dumps(out, indent=1))
    if args.json:
        old = json.loads(args.json.read_text()) if args.json.exists() else []
        args.json.write_text(json.dumps(old + [out], indent=1))


if __name__ == "__main__":
    main()
