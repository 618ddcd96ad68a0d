"""ShopAssist web app: `python app.py [flags]` = `shopassist serve [flags]`. Wiring lives in assistant/ui.py."""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def create_app(settings=None):
    """Build the prepared Engine and its Gradio Blocks (nothing is launched)."""
    from assistant.commands.serve import build
    from assistant.settings import Settings

    _, demo = build(settings or Settings.from_env())
    return demo


if __name__ == "__main__":
    import sys

    from assistant.cli import main, serve_parser

    # the flags of `shopassist serve` (--host, --port, --catalog, --llm, --home ...); unknown ones are refused
    sys.exit(main(sys.argv[1:], parser=serve_parser("app.py")))
