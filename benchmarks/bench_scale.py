"""How cost grows with catalog size and event-store size (issue 15).

Imports (the heavy, untimed-by-the-lock part) run at the priority the script was started with
(`nice -n 19` on the shared machine, so their throughput is a lower bound); every other figure is
taken while holding the shared CPU lock (/tmp/shopassist-cpu.lock) at normal priority. Imports report
wall and CPU seconds, and (events) the bytes written to storage (/proc/self/io), which do not depend
on the machine's load.

Catalogs: N products recombined from REAL fields (Myntra fashion: brand, product name words, gender,
colour, price; Amazon Beauty titles + category paths), seeded; fine for a cost curve, not for
quality. The hashing embedder is used for the index side (MiniLM's own throughput is measured
separately, `minilm`). Each size runs in a child process, so peak memory (ru_maxrss) is its own.

    nice -n 19 python benchmarks/bench_scale.py catalog --sizes 10000 100000      # import, load, BM25/filter build, search
    nice -n 19 python benchmarks/bench_scale.py events  --sizes 200000 2000000    # import, disk, event / recommend, training
    (SHOPASSIST_BENCH_LOCK=0: no lock, everything at the started priority; --no-train: skip training)
    python benchmarks/bench_scale.py minilm                            # MiniLM documents/s on this CPU
    (--json OUT appends the results of the run to OUT)
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from common import timed_section  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def pct(values) -> dict:
    a = np.asarray(values, dtype=np.float64)
    return {"p50": round(float(np.percentile(a, 50)), 2), "p99": round(float(np.percentile(a, 99)), 2)}


def peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def written_gib() -> float:
    """Bytes this process has written to storage so far (Linux /proc/self/io), in GiB; -1 elsewhere."""
    try:
        io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
    except OSError:
        return -1.0
    return round(int(io["write_bytes"]) / 2**30, 2)


def du_mib(path: Path) -> float:
    return round(sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20, 1)


def real_fields() -> dict:
    """Words, brands, colours, genders, prices and categories from the real catalogs."""
    rows = list(csv.DictReader(open(SHARED / "myntra-fashion" / "products.csv", encoding="utf-8")))
    beauty = [line.rstrip("\n").split("\t") for line in gzip.open(ROOT / "data" / "beauty" / "items.tsv.gz", "rt")][1:]
    meta = {}
    meta_path = SHARED / "amazon-beauty" / "item_meta.tsv"
    if meta_path.exists():
        for line in open(meta_path, encoding="utf-8").read().splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) >= 3 and parts[2]:
                meta[parts[0]] = parts[2].split(" > ")[-1]
    names = [r["Product_Name"].split() for r in rows] + [t.split() for _a, t in beauty if t]
    return {"names": names, "brands": sorted({r["Product_Brand"] for r in rows if r["Product_Brand"]}),
            "colors": sorted({r["Primary_Color"] for r in rows if r["Primary_Color"]}),
            "genders": sorted({r["Gender"] for r in rows if r["Gender"]}),
            "prices": [float(r["Price"]) / 80 for r in rows if r["Price"]],        # INR -> about USD
            "categories": sorted(set(meta.values())) or ["Kurta", "Shoes", "Shampoo"]}


def make_catalog(n: int, path: Path, seed: int = 0) -> None:
    f = real_fields()
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            a, b = rng.choice(f["names"]), rng.choice(f["names"])
            words = a[: max(1, len(a) // 2)] + b[len(b) // 2:]
            brand, color = rng.choice(f["brands"]), rng.choice(f["colors"])
            out.write(json.dumps({"id": f"p{i:07d}", "title": f"{brand} {' '.join(words)}", "brand": brand,
                                  "category": rng.choice(f["categories"]), "price": round(rng.choice(f["prices"]) *
                                                                                        rng.uniform(0.8, 1.2), 2),
                                  "color": color, "gender": rng.choice(f["genders"])}) + "\n")


def one_catalog(n: int, work: Path, timed_only: bool = False) -> dict:
    from assistant.engine import Engine
    from assistant.settings import Settings

    settings = Settings(home=work / "home", embedder="hashing", llm="none", demo=False, threads=1,
                        default_catalog="scale")
    if timed_only:   # the kept home of an earlier run: the searches etc. again, on this code
        with timed_section():
            return {"products": n, "timed_only": True, **_timed_catalog(settings, n)}
    path = work / f"catalog-{n}.jsonl"
    make_catalog(n, path)
    engine = Engine(settings, llm=False)
    t, cpu = time.perf_counter(), time.process_time()
    engine.import_catalog(path, "scale")
    import_s, import_cpu = time.perf_counter() - t, time.process_time() - cpu
    import_peak = peak_mib()
    with timed_section():
        return {"products": n, "import_s": round(import_s, 1), "import_cpu_s": round(import_cpu, 1),
                "import_products_per_s": round(n / import_s), "import_peak_rss_mib": import_peak,
                **_timed_catalog(settings, n)}


def _timed_catalog(settings, n: int) -> dict:
    from assistant.engine import Engine
    from retrieval.lexical import LexicalIndex

    fresh = Engine(settings, llm=False)
    t = time.perf_counter()
    cat = fresh.catalog("scale")
    load_s = time.perf_counter() - t
    for saved in ("bm25", "filters"):   # a kept home (--timed-only): the first start builds them again
        shutil.rmtree(Path(cat.path) / saved, ignore_errors=True)
    t = time.perf_counter()
    LexicalIndex(cat.texts)
    bm25_s = time.perf_counter() - t
    t = time.perf_counter()
    searcher = fresh.searcher("scale")        # first start after the import: BM25 built (and saved)
    searcher_s = time.perf_counter() - t
    again = Engine(settings, llm=False)
    again.catalog("scale")
    t = time.perf_counter()
    again.searcher("scale")                   # any later start / worker: the saved BM25 is loaded
    restart_s = time.perf_counter() - t
    t = time.perf_counter()
    searcher.filter_index
    filter_s = time.perf_counter() - t
    t = time.perf_counter()
    again.searcher("scale").filter_index      # a later start: the saved filter index is loaded
    filter_load_s = time.perf_counter() - t
    rng = random.Random(1)
    words = [w for p in cat.products[:2000] for w in p.title.split()[1:3]]
    queries = [" ".join(rng.sample(words, 2)) for _ in range(100)]
    colors = real_fields()["colors"]
    plain, filtered, first_of_term = [], [], []
    seen_terms: set[str] = set()
    for q in queries:
        t = time.perf_counter()
        searcher.search(q, k=10)
        plain.append((time.perf_counter() - t) * 1000)
        colour = rng.choice(colors).lower()
        t = time.perf_counter()
        searcher.search(q, k=10, filters={"max_price": 40, "must_have": [colour]})
        filtered.append((time.perf_counter() - t) * 1000)
        if colour not in seen_terms:   # the first query of a term scans the texts (then it is cached)
            seen_terms.add(colour)
            first_of_term.append(filtered[-1])
    return {"catalog_load_s": round(load_s, 2), "bm25_build_s": round(bm25_s, 2),
            "searcher_first_start_s": round(searcher_s, 2), "searcher_restart_s": round(restart_s, 2), "filter_index_build_s": round(filter_s, 2),
            "filter_index_load_s": round(filter_load_s, 2),
            "search_ms": pct(plain), "search_filtered_ms": pct(filtered),
            "search_filtered_first_of_term_ms": {"n": len(first_of_term), **pct(first_of_term)}, "disk_mib": du_mib(settings.home),
            "disk_mib_per_million": round(du_mib(settings.home) * 1e6 / n, 1), "peak_rss_mib": peak_mib()}


def one_events(n: int, work: Path, n_items: int = 10_000, train: bool = True, timed_only: bool = False) -> dict:
    """n events (real Amazon Beauty sequences, users and items remapped to reach n) in SQLite."""
    from ranking.events import EventStore
    from ranking.data import read_sequences

    items = [f"p{i:07d}" for i in range(n_items)]
    if timed_only:   # the kept store of an earlier run (--keep): lookups and training on this code
        store = EventStore(work / "events.sqlite", known_items=None)
        with timed_section():
            return {"events": n, "timed_only": True, **_timed_events(store, items, train)}
    seqs = read_sequences(ROOT / "data" / "beauty" / "sequences.txt.gz")
    users = list(seqs.items()) if isinstance(seqs, dict) else list(seqs)
    rng = np.random.default_rng(0)
    item_of: dict[str, str] = {}
    store = EventStore(work / "events.sqlite", known_items=None)

    def gen():
        made, rep = 0, 0
        types = ("view", "view", "click", "cart", "purchase")
        while made < n:
            for u, seq in users:
                for j, a in enumerate(seq):
                    if made >= n:
                        return
                    it = item_of.get(a)
                    if it is None:
                        it = item_of[a] = items[int(rng.integers(n_items))]
                    yield {"event_id": f"{rep}-{made}", "user_id": f"{u}-{rep}", "item_id": it,
                           "type": types[(made + j) % 5], "timestamp": 1_400_000_000 + j * 3600 + rep}
                    made += 1
            rep += 1

    t, cpu, wrote = time.perf_counter(), time.process_time(), written_gib()
    store.add_many(gen())        # one streamed import, as `shopassist events import` does
    import_s, import_cpu = time.perf_counter() - t, time.process_time() - cpu
    wrote = round(written_gib() - wrote, 2)
    disk = round(os.path.getsize(work / "events.sqlite") / 2**20, 1)
    import_peak = peak_mib()
    with timed_section():
        return {"events": n, "import_s": round(import_s, 1), "import_cpu_s": round(import_cpu, 1),
                "import_events_per_s": round(n / import_s), "import_written_gib": wrote,
                "disk_mib": disk, "disk_mib_per_million": round(disk * 1e6 / n, 1), "import_peak_rss_mib": import_peak,
                **_timed_events(store, items, train)}


def _timed_events(store, items, train: bool = True) -> dict:
    top = [u for u, _ in store.top_users(200)]
    watermark, history, add = [], [], []
    for i, u in enumerate(top):
        t = time.perf_counter()
        store.user_watermark(u)
        watermark.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        store.user_events(u)
        history.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        store.add({"event_id": uuid.uuid4().hex, "user_id": u, "item_id": items[i], "type": "view"})
        add.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    rows = sum(1 for _ in store.iter_rows())
    scan_s = time.perf_counter() - t
    return {"users": store.n_users(),
            "event_add_ms": pct(add), "user_watermark_ms": pct(watermark), "user_history_ms": pct(history),
            "full_scan_s": round(scan_s, 1), "scanned": rows, "peak_rss_mib": peak_mib(),
            **(train_times(store, items) if train else {})}


def train_times(store, items) -> dict:
    """Seconds to train popularity, item-kNN and ALS on every event (ranking.train's own code)."""
    from ranking.train import TrainConfig, train_all

    class Cat:   # the duck-typed catalog train_all needs: ids, index, name, no embeddings
        name = "scale"
        ids = items
        index = {x: i for i, x in enumerate(items)}
        embeddings = None
        products = []

    out = {}
    with tempfile.TemporaryDirectory() as models:
        for model in ("pop", "itemknn", "als"):
            t = time.perf_counter()
            train_all(Cat, store, models, TrainConfig(models=(model,), fit_fusion=False), progress=None)
            out[f"train_{model}_s"] = round(time.perf_counter() - t, 1)
    return out


def minilm(n: int = 512) -> dict:
    from retrieval.embedder import make_embedder

    f = real_fields()
    texts = [" ".join(random.Random(i).choice(f["names"])) for i in range(n)]
    emb = make_embedder("minilm", None, threads=2)
    emb.embed_batch(texts[:16])
    t = time.perf_counter()
    emb.embed_batch(texts)
    s = time.perf_counter() - t
    return {"minilm_documents_per_s": round(n / s, 1), "documents": n}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["catalog", "events", "minilm"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[])
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)   # child process: one size
    ap.add_argument("--json", help="append results to this JSON file")
    ap.add_argument("--no-train", action="store_true", help="events: skip the training times")
    ap.add_argument("--keep", type=Path, help="keep each size's work directory (catalog home / event store) "
                                              "under this folder")
    ap.add_argument("--timed-only", action="store_true", help="with --keep, no import: only the timed part "
                                                            "on the kept home / store (catalog: load, BM25, "
                                                            "filter index, searches; events: lookups, training)")
    args = ap.parse_args(argv)
    if args.what == "minilm":
        results = [minilm()]
    elif args.one:
        work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            if args.what == "catalog":
                print(json.dumps(one_catalog(args.sizes[0], work, timed_only=args.timed_only)), flush=True)
            else:
                print(json.dumps(one_events(args.sizes[0], work, train=not args.no_train,
                                                    timed_only=args.timed_only)), flush=True)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        return 0
    else:
        results = []
        for n in args.sizes:
            keep = ["--keep", str(args.keep / f"{args.what}-{n}")] if args.keep else []
            out = subprocess.run([sys.executable, __file__, args.what, "--one", "--sizes", str(n)]
                                 + (["--no-train"] if args.no_train else []) + keep
                                 + (["--timed-only"] if args.timed_only else []),
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                return out.returncode
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    if args.json:
        path = Path(args.json)
        old = json.loads(path.read_text()) if path.exists() else []
        old.append({"what": args.what, "timed_under_cpu_lock": timed_section.locked, "command": "python benchmarks/bench_scale.py " + " ".join(
            argv if argv is not None else sys.argv[1:]), "results": results})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(old, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
