"""`shopassist chat`: a terminal chat with the same Engine as the app.

    shopassist chat [--user U] [--session S] [--catalog NAME]

Type a message; /reset starts a new conversation, /quit (or Ctrl-D) leaves.
"""
from __future__ import annotations

import sys
import uuid


def register(subparsers) -> None:
    p = subparsers.add_parser("chat", help="chat with the shopping assistant in the terminal",
                              description="Terminal chat with the same engine as the app.")
    p.add_argument("--user", help="shopper id (personalises results with their history)")
    p.add_argument("--session", help="conversation id (default: a new one)")
    p.add_argument("--catalog", help="catalog name (default: settings default_catalog)")
    p.add_argument("--llm", choices=("qwen-1.5b", "qwen-0.5b", "auto", "none"), help="intent LLM (default: settings)")
    p.set_defaults(func=cmd_chat)


def format_result(result) -> str:
    """The reply plus one line per product: position, title, price, why."""
    from retrieval.catalog import format_price

    lines = [result.reply]
    for i, product in enumerate(getattr(result, "products", None) or [], start=1):
        price = format_price(product.get("price"), product.get("currency"))
        price_text = f"  {price}" if price else ""
        lines.append(f"  {i}. {product.get('title', '')}{price_text}")
        if product.get("why"):
            lines.append(f"     why: {product['why']}")
    return "\n".join(lines)


def cmd_chat(args) -> int:
    from assistant.errors import CLIError
    from assistant.commands import settings_from_args

    settings = settings_from_args(args)
    if args.llm:
        settings = settings.with_(llm=args.llm)
    try:
        from assistant.engine import Engine
    except ImportError as exc:
        raise CLIError(f"the chat engine is not available: {exc}") from None
    engine = Engine(settings)
    if hasattr(engine, "prepare"):
        engine.prepare(progress=lambda msg: print(f".. {msg}", file=sys.stderr))
    session_id = args.session or uuid.uuid4().hex[:12]
    interactive = sys.stdin.isatty()
    if interactive:
        who = f" as {args.user}" if args.user else ""
        print(f"Shopping assistant{who}. Type what you are looking for; /reset, /quit.")
    while True:
        try:
            message = input("you> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            if interactive:
                print()
            return 0
        message = message.strip()
        if not message:
            continue
        if message in ("/quit", "/exit", "/q"):
            return 0
        if message == "/reset":
            session_id = uuid.uuid4().hex[:12]
            print("(new conversation)")
            continue
        kwargs = {"user_id": args.user, "session_id": session_id}
        if args.catalog:
            kwargs["catalog"] = args.catalog
        result = engine.chat(message, **kwargs)
        print(format_result(result))
        sys.stdout.flush()
