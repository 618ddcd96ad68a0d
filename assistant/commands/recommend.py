"""`shopassist recommend`: a shopper's personal top-k (popularity with diversity when unknown).

    shopassist recommend --user U [--k 10] [--query TEXT] [--catalog NAME] [--json]
"""
from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser("recommend", help="personal recommendations for a shopper",
                              description="Top-k products for a shopper from the trained models and their "
                                          "live history (events recorded a moment ago count).")
    p.add_argument("--user", help="user id (omit for an anonymous shopper: popularity with diversity)")
    p.add_argument("--k", default=10, help="number of products, 1-100 (default 10)")
    p.add_argument("--query", help="rank within this search's results")
    p.add_argument("--catalog", help="catalog name (default: settings default_catalog)")
    p.add_argument("--json", action="store_true", help="print product JSON, one object per line")
    p.set_defaults(func=cmd_recommend)


def cmd_recommend(args) -> int:
    from assistant.arguments import check_k, check_user
    from assistant.commands.events import _engine_and_catalog
    from assistant.errors import CLIError, UserError
    from retrieval.catalog import format_price

    args.k = check_k(args.k)    # the Engine's and the API's check: same refusal, same message
    args.user = check_user(args.user)
    engine, catalog = _engine_and_catalog(args)
    try:
        items = engine.recommend(args.user, query=args.query, k=args.k, catalog=catalog.name)
    except UserError as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        for it in items:
            print(json.dumps(it, ensure_ascii=False))
        return 0
    service = engine.service(catalog.name)
    who = f"user {args.user}" if args.user else "anonymous shopper"
    print(f"{who}: top {len(items)} from catalog {catalog.name} (models: {service.version or 'none trained yet'})")
    for rank, it in enumerate(items, 1):
        price = format_price(it.get("price"), it.get("currency"))
        print(f"{rank:2d}. {it['id']:<14} {it['score']:7.3f}  {it['title'][:70]}  {price}")
        if it.get("why"):
            print(f"    why: {it['why']}")
    return 0
