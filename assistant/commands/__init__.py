"""The `shopassist` command groups (one module each, registered by assistant/cli.py) and what they share.

A command module imports only this package, argparse and the standard library at import time;
everything else inside its handler, so `shopassist --help` stays instant.
"""
from __future__ import annotations

from assistant.settings import Settings


def settings_from_args(args) -> Settings:
    """The settings for the global flags (--home, --chroma-url, --embedder) over the environment."""
    return Settings.from_env(home=args.home, chroma_url=args.chroma_url, embedder=args.embedder)
