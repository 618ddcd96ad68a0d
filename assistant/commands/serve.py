"""`shopassist serve`: prepare the Engine (first run: demo catalog, shoppers, models) and launch the app.

Only argparse at import time; gradio and the Engine are imported inside the handler.
"""
from __future__ import annotations

import os


DESCRIPTION = "Start the Gradio app. Binds 127.0.0.1 unless --host says otherwise."


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the web app (shopper chat, merchant lab, HTTP API)",
                       description=DESCRIPTION)
    add_arguments(p)


def add_arguments(p) -> None:
    """The serve flags: `shopassist serve` and `python app.py` share them (assistant.cli.serve_parser)."""
    p.add_argument("--host", default=os.environ.get("SHOPASSIST_HOST", "127.0.0.1"),
                   help="interface to bind (env SHOPASSIST_HOST, default 127.0.0.1; 0.0.0.0 exposes it "
                        "on the network)")
    # a string default goes through type=int like a typed value: a bad SHOPASSIST_PORT is refused
    p.add_argument("--port", type=int, default=os.environ.get("SHOPASSIST_PORT", "7860"),
                   help="port (env SHOPASSIST_PORT, default 7860)")
    p.add_argument("--catalog", help="catalog selected when the page opens (default: the demo catalog)")
    p.add_argument("--llm", choices=["qwen-1.5b", "qwen-0.5b", "none", "auto"],
                   help="intent LLM (env SHOPASSIST_LLM; default auto: qwen-0.5b on a CPU, qwen-1.5b on a GPU; none = rules only)")
    p.set_defaults(func=run)


def say(message: str) -> None:
    """Progress lines, flushed at once (stdout is block-buffered under docker / CI / a pipe)."""
    print(message, flush=True)


def build(settings, *, progress=say):
    """Engine + prepared stores + Blocks (shared by `serve`, app.py and the tests)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from assistant.engine import Engine
    from assistant.ui import build_app

    engine = Engine(settings)
    progress("Preparing ShopAssist (the first run imports the demo catalog, loads the demo shoppers "
             "and trains the recommenders; this takes a few minutes once, later starts are quick) ...")
    engine.prepare(progress=progress)
    return engine, build_app(engine)


def run(args) -> int:
    from assistant.errors import CLIError
    from assistant.commands import settings_from_args

    if not 0 < args.port < 65536:
        raise CLIError(f"Expected --port between 1 and 65535, got {args.port}")
    settings = settings_from_args(args)
    overrides = {k: v for k, v in (("llm", args.llm), ("default_catalog", args.catalog)) if v}
    if overrides:
        settings = settings.with_(**overrides)
    engine, demo = build(settings)
    if args.catalog and args.catalog not in engine.catalogs():
        raise CLIError(f"Unknown catalog {args.catalog!r}; available: {', '.join(engine.catalogs())}")
    from assistant.ui import launch

    say(f"ShopAssist on http://{args.host}:{args.port}  (Ctrl+C to stop; API docs at /?view=api)")
    launch(demo, host=args.host, port=args.port)
    return 0
