"""`shopassist user`: a shopper's stored state, and the right to be forgotten.

    shopassist user show USER_ID [--catalog NAME]
    shopassist user forget USER_ID
"""
from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser("user", help="inspect or erase a shopper's data")
    sub = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="the shopper's live profile (recent events, affinities)")
    show.add_argument("user_id")
    show.add_argument("--catalog", help="catalog name (default: settings default_catalog)")
    show.set_defaults(func=cmd_show)
    forget = sub.add_parser("forget", help="erase the shopper's events, profile, model state and chat history")
    forget.add_argument("user_id")
    forget.set_defaults(func=cmd_forget)


def cmd_show(args) -> int:
    from assistant.commands.events import _engine_and_catalog

    engine, catalog = _engine_and_catalog(args)
    print(json.dumps(engine.service(catalog.name).profile(args.user_id), indent=1, ensure_ascii=False))
    return 0


def cmd_forget(args) -> int:
    from assistant.errors import CLIError
    from assistant.commands import settings_from_args
    from assistant.privacy import forget_user

    if not args.user_id.strip():
        raise CLIError("Expected a non-empty USER_ID")
    settings = settings_from_args(args)
    counts = forget_user(args.user_id, home=settings.home)
    print(f"forgot user {args.user_id}: {counts['events']} events and {counts['chat_messages']} chat messages "
          "erased (overwritten on disk).")
    print("Model state: saved models keep no per-user rows (a shopper's ALS factor and session are computed "
          "from their events at request time), so nothing user-specific remains; running apps drop the live "
          "profile on their next request. The aggregate models (item similarities, popularity) still include "
          "the old events until the next `shopassist train`.")
    return 0
