"""`shopassist search`: hybrid product search, one query or a JSONL batch.

    shopassist search --catalog NAME --query TEXT [--k 10] [--min-price X] [--max-price Y]
                      [--category C] [--brand B] [--must-have W] [--exclude W] [--json]
    shopassist search --catalog NAME --queries IN.jsonl --k 10 --out OUT.jsonl

Batch input lines: {"qid": ..., "query": ..., optional "min_price", "max_price", "category", "brand",
"must_have", "exclude", "attributes"}; output lines: {"qid": ..., "ids": [...], "scores": [...]}.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

def _attr(value: str) -> tuple[str, str]:
    import argparse

    key, sep, val = value.partition("=")
    if not sep or not key.strip() or not val.strip():
        raise argparse.ArgumentTypeError(f"Expected KEY=VALUE like color=black, got {value!r}")
    return key.strip(), val.strip()


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "search", help="hybrid (dense + BM25) product search with filters",
        description="Search a catalog: one --query, or a batch with --queries IN.jsonl --out OUT.jsonl.")
    p.add_argument("--catalog", help="catalog name (default: settings default_catalog, 'beauty')")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--query", help="the search text")
    what.add_argument("--queries", metavar="IN.jsonl", help='batch input, one {"qid": ..., "query": ...} per line')
    p.add_argument("--out", metavar="OUT.jsonl", help="batch output (with --queries); '-' for stdout")
    p.add_argument("--k", default=10, help="number of results, 1-100 (default 10)")
    p.add_argument("--min-price", type=float, help="lowest price (products without a price are left out)")
    p.add_argument("--max-price", type=float, help="highest price (products without a price are left out)")
    p.add_argument("--category", help="only this category")
    p.add_argument("--brand", help="only this brand")
    p.add_argument("--must-have", action="append", default=[], metavar="W",
                   help="term or phrase the product must contain (repeatable, or comma-separated)")
    p.add_argument("--exclude", action="append", default=[], metavar="W",
                   help="term or phrase the product must not contain (repeatable, or comma-separated)")
    p.add_argument("--attr", action="append", default=[], type=_attr, metavar="KEY=VALUE",
                   help="attribute filter such as color=black or gender=women (repeatable)")
    p.add_argument("--json", action="store_true", help="print product JSON objects")
    p.add_argument("--batch-size", type=int, default=64, help="queries embedded per batch (batch mode)")
    p.add_argument("--fusion", choices=["convex", "rrf"], help="score fusion (default convex)")
    p.add_argument("--dense-weight", type=float,
                   help="weight of the dense score in convex fusion, 0-1, for every query "
                        "(default: 0.2, and 0.6 when no candidate holds every query word)")
    p.set_defaults(func=cmd_search)


def _split_terms(values: list[str]) -> list[str]:
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def _cli_filters(args) -> dict:
    flt: dict = {}
    if args.min_price is not None:
        flt["min_price"] = args.min_price
    if args.max_price is not None:
        flt["max_price"] = args.max_price
    if args.category:
        flt["category"] = args.category
    if args.brand:
        flt["brand"] = args.brand
    if args.must_have:
        flt["must_have"] = _split_terms(args.must_have)
    if args.exclude:
        flt["exclude"] = _split_terms(args.exclude)
    if args.attr:
        flt["attributes"] = dict(args.attr)
    return flt


def product_json(hit, catalog) -> dict:
    """Product JSON for the CLI: {id, title, price, currency, brand, score, components}."""
    product = catalog.products[hit.row]
    return {
        "id": product.id, "title": product.title, "price": product.price, "currency": product.currency,
        "brand": product.brand, "score": round(hit.score, 6),
        "components": {k: round(v, 6) for k, v in hit.components.items()},
    }


def _read_queries(path: Path, defaults: dict) -> tuple[list, list[str], list[dict | None]]:
    from assistant.arguments import FILTER_KEYS, check_filters
    from assistant.errors import CLIError
    from assistant.jsontext import read_jsonl

    qids, queries, filters = [], [], []
    for lineno, rec in read_jsonl(path, '{"qid": ..., "query": "..."}'):
        query = rec.get("query")
        if not isinstance(query, str):
            raise CLIError(f"file {path}, line {lineno}: expected a text field \"query\", got {query!r}")
        flt = dict(defaults)
        flt.update({k: rec[k] for k in FILTER_KEYS if rec.get(k) is not None})
        try:
            parsed = check_filters(flt)
        except ValueError as exc:
            raise CLIError(f"file {path}, line {lineno}: {exc}") from None
        qids.append(rec.get("qid", lineno))
        queries.append(query)
        filters.append(parsed)
    return qids, queries, filters


def cmd_search(args) -> int:
    from assistant.arguments import check_filters, check_k
    from assistant.errors import CLIError
    from assistant.commands.catalog import _Progress, open_registry
    from assistant.settings import DATA_DIR
    from retrieval.registry import DEMO_NAME, ensure_demo_catalog
    from retrieval.search import SearchConfig

    args.k = check_k(args.k)    # the Engine's and the API's check: same refusal, same message
    if args.queries and not args.out:
        raise CLIError("--queries needs --out OUT.jsonl (or --out - for stdout)")
    if args.out and not args.queries:
        raise CLIError("--out is for batch mode; use it with --queries IN.jsonl")
    defaults = _cli_filters(args)
    single_filters = check_filters(defaults)
    config = SearchConfig()
    if args.fusion:
        config.fusion = args.fusion
    if args.dense_weight is not None:
        config = SearchConfig(fusion=config.fusion, dense_weight=args.dense_weight,
                              dense_weight_partial=args.dense_weight)
    batch = None
    if args.queries:
        batch = _read_queries(Path(args.queries), defaults)  # validate input before loading anything

    registry, settings = open_registry(args)
    name = args.catalog or settings.default_catalog
    if name == DEMO_NAME and not registry.exists(name):
        print(f".. catalog {name!r} not imported yet: importing the bundled demo (first run only)", file=sys.stderr)
        ensure_demo_catalog(registry, DATA_DIR, name=name, progress=_Progress())
    from retrieval.embedder import make_multilingual

    searcher = registry.searcher(name, config, multilingual=make_multilingual(settings.embedder, settings.cache_dir))
    catalog = searcher.catalog

    if batch is None:
        hits = searcher.search(args.query, k=args.k, filters=single_filters)
        if args.json:
            print(json.dumps([product_json(h, catalog) for h in hits], indent=2, ensure_ascii=False))
            return 0
        if not hits:
            print("no products match")
            return 0
        for rank, hit in enumerate(hits, start=1):
            p = catalog.products[hit.row]
            price = f"{p.price:,.2f} {p.currency or ''}".strip() if p.price is not None else "-"
            print(f"{rank:>3}. {hit.score:6.3f}  {price:>14}  {p.id:<14} {p.title[:90]}")
        return 0

    qids, queries, filters = batch
    started = time.perf_counter()
    results = searcher.search_batch(queries, k=args.k, filters=filters, batch_size=args.batch_size)
    seconds = time.perf_counter() - started
    lines = "".join(
        json.dumps({"qid": qid, "ids": [h.id for h in hits], "scores": [round(h.score, 6) for h in hits]},
                   ensure_ascii=False) + "\n"
        for qid, hits in zip(qids, results)
    )
    if args.out == "-":
        sys.stdout.write(lines)
    else:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        tmp.write_text(lines, encoding="utf-8")
        os.replace(tmp, out)
    rate = len(queries) / seconds if seconds > 0 else float("inf")
    print(f".. searched {len(queries):,} queries in {seconds:.2f} s ({rate:,.0f} queries/s)", file=sys.stderr)
    return 0
