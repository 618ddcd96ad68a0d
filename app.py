"""ShopAssist web app: `python app.py` (same as `shopassist serve`). Wiring lives in assistant/ui.py."""
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
    from assistant.ui import launch

    launch(create_app(), host=os.environ.get("SHOPASSIST_HOST", "127.0.0.1"),
           port=int(os.environ.get("SHOPASSIST_PORT", "7860")))
