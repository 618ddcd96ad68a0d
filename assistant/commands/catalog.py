"""`shopassist catalog ...`: import, list, drop, rebuild catalogs; import the bundled demo.

Nothing heavy is imported at module level (chromadb / torch load inside the handlers).
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def _csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def register(subparsers) -> None:
    parser = subparsers.add_parser("catalog", help="import, list, drop and rebuild product catalogs",
                                   description="Manage product catalogs (stored under HOME/catalogs and Chroma).")
    sub = parser.add_subparsers(dest="catalog_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])

    imp = sub.add_parser(
        "import", help="import a CSV / TSV / JSON / JSONL file (optionally .gz) as a catalog",
        description="Import a catalog file. Columns are detected from common names (id/sku/product_id/asin, "
                    "title/name/product_name, price/selling_price, brand, category, description, currency, "
                    "rating/average_rating, url, color/colour/primary_color, gender, ...); the flags override. "
                    "Any bad row aborts the import (nothing is written) unless --skip-bad-rows.")
    imp.add_argument("path", help="catalog file: .csv, .tsv, .json (array), .jsonl, optionally .gz")
    imp.add_argument("--name", required=True, help="catalog name (letters, digits, '-', '_')")
    imp.add_argument("--format", choices=["csv", "tsv", "json", "jsonl"], help="file format (default: from the extension)")
    imp.add_argument("--id-col", metavar="C", help="column holding the product id")
    imp.add_argument("--title-col", metavar="C", help="column holding the product title")
    imp.add_argument("--text-cols", metavar="C1,C2", type=_csv_list, default=[],
                     help="extra text columns, appended to the description and searched")
    imp.add_argument("--price-col", metavar="C", help="column holding the price")
    imp.add_argument("--category-col", metavar="C", help="column holding the category")
    imp.add_argument("--brand-col", metavar="C", help="column holding the brand")
    imp.add_argument("--description-col", metavar="C", help="column holding the description")
    imp.add_argument("--currency-col", metavar="C", help="column holding the currency code")
    imp.add_argument("--rating-col", metavar="C", help="column holding the rating (0-5)")
    imp.add_argument("--url-col", metavar="C", help="column holding the product URL")
    imp.add_argument("--attr-cols", metavar="C1,C2", type=_csv_list, default=[],
                     help="extra columns kept as searchable attributes")
    imp.add_argument("--currency", metavar="CODE", help="currency of the prices when the file has no currency column")
    imp.add_argument("--default-title", metavar="TEMPLATE",
                     help="title for rows with an empty title, e.g. 'Item {id}' (default: such rows are bad)")
    imp.add_argument("--skip-bad-rows", action="store_true", help="import the good rows and report the bad ones")
    imp.add_argument("--json", action="store_true", help="print the import summary as JSON")
    imp.set_defaults(func=cmd_import)

    lst = sub.add_parser("list", help="list imported catalogs")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=cmd_list)

    drop = sub.add_parser("drop", help="delete a catalog (all versions and its vectors)")
    drop.add_argument("name")
    drop.set_defaults(func=cmd_drop)

    rebuild = sub.add_parser("rebuild", help="re-embed and re-index a catalog (repairs a damaged store)")
    rebuild.add_argument("name")
    rebuild.set_defaults(func=cmd_rebuild)

    demo = sub.add_parser("import-demo", help="import the bundled Amazon Beauty demo catalog if absent")
    demo.add_argument("--name", default="beauty", help="catalog name (default beauty)")
    demo.set_defaults(func=cmd_import_demo)


# ------------------------------------------------------------------------------------------------
def open_registry(args):
    """The CatalogRegistry for the CLI's settings (shared with `shopassist search`)."""
    from assistant.commands import settings_from_args
    from retrieval.registry import CatalogRegistry
    from retrieval.embedder import make_embedder
    from retrieval.store import make_chroma_client

    settings = settings_from_args(args)
    embedder = make_embedder(settings.embedder, settings.cache_dir, threads=settings.threads)
    client = make_chroma_client(path=settings.chroma_dir, url=settings.chroma_url)
    return CatalogRegistry(settings.catalogs_dir, client, embedder), settings


class _Progress:
    """Progress messages on stderr, throttled to one line every 2 s for repetitive steps."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, message: str) -> None:
        now = time.monotonic()
        if message.startswith("embedded ") and now - self.last < 2.0:
            return
        self.last = now
        print(f".. {message}", file=sys.stderr, flush=True)


def _print_summary(summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2))
        return
    for line in summary.errors:
        print(f"warning: {line}", file=sys.stderr)
    if summary.unchanged:
        print(f"catalog {summary.name!r} is unchanged (v{summary.version}, {summary.n_imported:,} products); "
              f"nothing re-embedded ({summary.seconds:.2f} s)")
        return
    rate = summary.n_imported / summary.seconds if summary.seconds > 0 else float("inf")
    skipped = f", skipped {summary.n_skipped} bad row(s)" if summary.n_skipped else ""
    dups = f", {summary.n_duplicates} duplicate id(s) (last row kept)" if summary.n_duplicates else ""
    print(f"imported {summary.n_imported:,} products into {summary.name!r} (v{summary.version}) in "
          f"{summary.seconds:.1f} s ({rate:,.0f} products/s); embedded {summary.n_embedded:,} new text(s), "
          f"{summary.n_from_cache:,} from cache{skipped}{dups}")


def cmd_import(args) -> int:
    from retrieval.catalog import ColumnMapping

    mapping = ColumnMapping(
        id=args.id_col, title=args.title_col, description=args.description_col, text=args.text_cols,
        price=args.price_col, currency=args.currency_col, brand=args.brand_col, category=args.category_col,
        rating=args.rating_col, url=args.url_col, attributes=args.attr_cols,
    )
    registry, _ = open_registry(args)
    summary = registry.import_file(
        args.path, args.name, format=args.format, mapping=mapping, skip_bad_rows=args.skip_bad_rows,
        currency=args.currency, default_title=args.default_title, progress=_Progress(),
    )
    _print_summary(summary, args.json)
    return 0


def cmd_list(args) -> int:
    registry, _ = open_registry(args)
    infos = registry.list()
    if args.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2))
        return 0
    if not infos:
        print("no catalogs yet: `shopassist catalog import PATH --name NAME` or `shopassist catalog import-demo`")
        return 0
    print(f"{'NAME':<20} {'VERSION':>7} {'PRODUCTS':>9}  {'EMBEDDER':<44} STATUS")
    for i in infos:
        status = i.status if i.status == "ok" else f"DAMAGED: {i.status} -> shopassist catalog rebuild {i.name}"
        print(f"{i.name:<20} {'v' + str(i.version):>7} {i.n_products:>9,}  {i.embedder:<44} {status}")
    return 0


def cmd_drop(args) -> int:
    registry, _ = open_registry(args)
    registry.drop(args.name)
    print(f"dropped catalog {args.name!r}")
    return 0


def cmd_rebuild(args) -> int:
    registry, _ = open_registry(args)
    summary = registry.rebuild(args.name, progress=_Progress())
    _print_summary(summary, False)
    return 0


def cmd_import_demo(args) -> int:
    from assistant.settings import DATA_DIR
    from retrieval.registry import ensure_demo_catalog

    registry, _ = open_registry(args)
    summary = ensure_demo_catalog(registry, DATA_DIR, name=args.name, progress=_Progress())
    if summary is None:
        print(f"demo catalog {args.name!r} is already imported")
    else:
        _print_summary(summary, False)
    return 0
