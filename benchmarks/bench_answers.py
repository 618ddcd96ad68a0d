"""Are the answers right? Shopper messages through Engine.chat, checked against the catalog's columns.

    python benchmarks/bench_answers.py --home .shopassist --llm none
    python benchmarks/bench_answers.py --home .shopassist --llm qwen-0.5b --limit 20     # an LLM path, subset
    python benchmarks/bench_answers.py --home /tmp/h --embedder hashing --json benchmarks/out/answers.json

The development set (benchmarks/answers_dev.jsonl, one dialogue a line) holds shopper messages in
English and Chinese, with typos, colloquial prices ("under 2k", "below ₹1500", "100美元以内") and
multi-turn follow-ups, over the bundled demo catalog ("beauty"), Myntra and Adidas. Each turn may
carry constraints; they are checked HERE, against the product's own columns (brand, colour,
gender, price, list price, availability, category / breadcrumbs paths, words in the title), by a
checker written independently of retrieval.filters, so the figure measures the filter engine and
the understanding rather than restating them:

    type        any of these words (plurals folded) in the category paths or the title
    not_title   none of these words in the title
    brand       the brand column is one of these (no brand: the title starts with it)
    not_brand   neither the brand column nor the title names any of these
    color       the colour column (title when the catalog has none) names one of these
    not_color   ... names none of these
    gender      the gender column is one of these
    price_max / price_min, on_sale (list price above price), in_stock (not "OutOfStock")

Metrics (per catalog and overall):
  constraint precision@5  shown products (top 5) satisfying every constraint, over
                          min(5, products in the catalog that satisfy them); turns no product
                          could satisfy are counted apart
  zero-answer rate        turns with no products shown
  distinct-product rate   distinct products shown / product slots shown
  LLM-invocation rate     turns the rules were not confident about (the LLM is asked there
                          when one is configured)
  turn latency            p50 / p99 of Engine.chat wall time per parse path (rules / llm / fallback)
The catalogs are imported when missing: the demo with `ensure_demo_catalog`, Myntra and Adidas
exactly as `shopassist catalog import PATH --name myntra|adidas` does (no mapping flags).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from retrieval.lexical import stem, tokenize  # noqa: E402  (the shared tokeniser, not the filter engine)

DEV_SET = REPO / "benchmarks" / "answers_dev.jsonl"
SOURCES = {"myntra": "myntra-fashion/products.csv", "adidas": "adidas-usa/products.csv"}
K = 5


# ------------------------------------------------------------------------------------ the checker
def _norm(text) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", str(text or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("'", "").replace("’", "")
    return " " + " ".join(stem(t) for t in tokenize(text)) + " "


def _has(haystack: str, words) -> bool:
    return any(_norm(w) in haystack for w in words)


def _paths(p) -> str:
    a = p.attributes
    return _norm(" / ".join(x for x in (p.category, a.get("subcategory"), a.get("breadcrumbs"),
                                        a.get("all_categories")) if x).replace(">", "/").replace("&", "/"))


def _money(value) -> float | None:
    import re

    m = re.search(r"\d+(?:\.\d+)?", str(value or "").replace(",", ""))
    return float(m.group()) if m else None


def satisfies(p, c: dict) -> bool:
    title = _norm(p.title)
    colour_col = p.attributes.get("color") or p.attributes.get("colour")
    colour = _norm(colour_col) if colour_col else title
    brand = _norm(p.brand) if p.brand else ""
    if "type" in c and not (_has(_paths(p), c["type"]) or _has(title, c["type"])):
        return False
    if "not_title" in c and _has(title, c["not_title"]):
        return False
    if "brand" in c:
        wanted = [_norm(b) for b in c["brand"]]
        if not (brand in wanted if brand else any(title.startswith(w) for w in wanted)):
            return False
    if "not_brand" in c and (any(brand.startswith(_norm(b)) for b in c["not_brand"] if brand)
                             or _has(title, c["not_brand"])):
        return False
    if "color" in c and not _has(colour, c["color"]):
        return False
    if "not_color" in c and (_has(colour, c["not_color"]) or _has(title, c["not_color"])):
        return False
    if "gender" in c and _norm(p.attributes.get("gender", "")).strip() not in {_norm(g).strip() for g in c["gender"]}:
        return False
    if "price_max" in c and (p.price is None or p.price > c["price_max"]):
        return False
    if "price_min" in c and (p.price is None or p.price < c["price_min"]):
        return False
    if c.get("on_sale"):
        lp = _money(p.attributes.get("list_price"))
        if p.price is None or lp is None or lp <= p.price:
            return False
    if c.get("in_stock") and str(p.attributes.get("availability", "")).lower().replace(" ", "") == "outofstock":
        return False
    return True


# ------------------------------------------------------------------------------------ running
def _pct(values, q):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 1)


def ensure_catalogs(engine, names, data: Path, progress=print) -> None:
    from assistant.settings import DATA_DIR
    from retrieval.registry import DEMO_NAME, ensure_demo_catalog

    have = set(engine.catalogs())
    for name in names:
        if name == DEMO_NAME:
            ensure_demo_catalog(engine.registry, DATA_DIR, progress=lambda m: None)
        elif name not in have:
            progress(f"importing {name} from {data / SOURCES[name]} (no mapping flags)")
            engine.import_catalog(data / SOURCES[name], name)


def run(args) -> dict:
    from assistant.engine import Engine
    from assistant.intent import DEFAULT_MIN_CONFIDENCE
    from assistant.settings import Settings

    dialogues = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.catalogs:
        dialogues = [d for d in dialogues if d["catalog"] in args.catalogs.split(",")]
    if args.limit:
        dialogues = dialogues[: args.limit]
    settings = Settings.from_env(home=args.home, embedder=args.embedder, llm=args.llm, llm_backend=args.backend,
                                 threads=args.threads)
    engine = Engine(settings)
    names = sorted({d["catalog"] for d in dialogues})
    ensure_catalogs(engine, names, Path(args.data))
    cats = {n: engine.catalog(n) for n in names}
    for n in names:   # warm: searcher, filter index, recommenders (not timed)
        engine.chat("warm up", session_id=f"warm-{n}", catalog=n)

    rows = []
    t_all = time.perf_counter()
    for d in dialogues:
        cat = cats[d["catalog"]]
        sid = f"bench-{d['id']}"
        constraints = d.get("constraints") or [None] * len(d["turns"])
        for i, (message, c) in enumerate(zip(d["turns"], constraints)):
            t = time.perf_counter()
            result = engine.chat(message, session_id=sid, catalog=d["catalog"])
            ms = (time.perf_counter() - t) * 1000
            parse = engine.sessions.get(sid, None).last_parse
            row = {"id": d["id"], "turn": i, "catalog": d["catalog"], "message": message, "ms": round(ms, 1),
                   "source": parse.source if parse else "none",
                   "rules_confident": bool(parse is None or parse.confidence >= DEFAULT_MIN_CONFIDENCE),
                   "shown": [p["id"] for p in result.products[:K]],
                   "closest": [p["id"] for p in result.products[:K] if p.get("closest")],
                   "intent": {k: v for k, v in result.intent.items()
                              if v not in (None, [], "", False, "relevance", "en")}}
            if c:
                if d["catalog"] == "adidas":
                    c = {"in_stock": True, **c}
                could = sum(1 for p in cat.products if satisfies(p, c))
                ok = [pid for pid in row["shown"] if satisfies(cat.get(pid), c)]
                row.update(constraints=c, could=could, satisfied=len(ok),
                           precision=(len(ok) / min(K, could)) if could else None)
            rows.append(row)
            if len(rows) % 25 == 0:
                print(f".. {len(rows)} turns", file=sys.stderr, flush=True)
    wall = time.perf_counter() - t_all
    return {"rows": rows, "wall_s": round(wall, 1)}


def summarise(rows: list[dict]) -> dict:
    def block(rs):
        judged = [r for r in rs if r.get("precision") is not None]
        shown = [pid for r in rs for pid in r["shown"]]
        by_path = defaultdict(list)
        for r in rs:
            by_path[r["source"]].append(r["ms"])
        return {
            "turns": len(rs), "judged_turns": len(judged),
            "impossible_turns": sum(1 for r in rs if r.get("could") == 0),
            "constraint_precision@5": round(statistics.mean(r["precision"] for r in judged), 4) if judged else None,
            "zero_answer_rate": round(sum(1 for r in rs if not r["shown"]) / len(rs), 4) if rs else None,
            "distinct_product_rate": round(len(set(shown)) / len(shown), 4) if shown else None,
            "llm_invocation_rate": round(sum(1 for r in rs if not r["rules_confident"]) / len(rs), 4) if rs else None,
            "llm_used_rate": round(sum(1 for r in rs if r["source"] in ("llm", "fallback")) / len(rs), 4) if rs else None,
            "latency_ms": {src: {"n": len(v), "p50": _pct(v, 0.5), "p99": _pct(v, 0.99)} for src, v in by_path.items()},
        }

    out = {"all": block(rows)}
    for name in sorted({r["catalog"] for r in rows}):
        out[name] = block([r for r in rows if r["catalog"] == name])
    return out


def main(argv=None) -> int:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from common import cpu_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", default=os.environ.get("SHOPASSIST_HOME", ".shopassist"))
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"), help="folder with myntra-fashion/, adidas-usa/")
    ap.add_argument("--embedder", default="minilm", choices=("minilm", "hashing"))
    ap.add_argument("--llm", default="none", choices=("none", "qwen-0.5b", "qwen-1.5b"))
    ap.add_argument("--backend", default="auto", choices=("auto", "transformers", "llamacpp"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--catalogs", default="", help="comma-separated subset: beauty,myntra,adidas")
    ap.add_argument("--limit", type=int, default=0, help="first N dialogues only")
    ap.add_argument("--json", default="", help="write every turn (shown ids, intent, checks) here")
    ap.add_argument("--failures", action="store_true", help="print the turns below precision 1")
    args = ap.parse_args(argv)
    result = run(args)
    summary = summarise(result["rows"])
    meta = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "embedder": args.embedder, "llm": args.llm, "dialogues": len({r["id"] for r in result["rows"]}),
            "wall_s": result["wall_s"]}
    print(json.dumps({"meta": meta, "summary": summary}, indent=2, ensure_ascii=False))
    if args.failures:
        for r in result["rows"]:
            if r.get("precision") is not None and r["precision"] < 1 or (r.get("could") and not r["shown"]):
                print(f"[{r['catalog']}] {r['id']}#{r['turn']} p={r.get('precision')} could={r.get('could')} "
                      f"{r['message']!r} -> {r['intent']} shown={r['shown']}", file=sys.stderr)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"meta": meta, "summary": summary, "rows": result["rows"]},
                                              indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
