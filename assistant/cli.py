"""`shopassist` console script: argparse, one module per command group in assistant/commands/.

Each command module exposes `register(subparsers)` and must not import heavy libraries at import
time (torch, chromadb, gradio, transformers ...): do that inside the handler, so `--help` is instant.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from assistant.commands import serve, settings_from_args
from assistant.errors import CLIError
from ranking.servers import ServerUnavailable

# Command modules, in the order they appear in --help. Each registers one or more subcommands.
COMMAND_MODULES = (
    "catalog", "search",          # retrieval (catalog import, hybrid search)
    "events", "recommend", "train", "evaluate", "user",  # ranking
    "parse", "chat", "model",     # assistant
    "serve",                      # Gradio app
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopassist",
        description="Offline LLM shopping assistant with real-time personalised recommendations.",
    )
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"assistant.commands.{name}")
        except ModuleNotFoundError as exc:  # a command group not written yet
            if exc.name == f"assistant.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """Options every command reads (through settings_from_args)."""
    parser.add_argument("--home", help="data directory (env SHOPASSIST_HOME, default ./.shopassist)")
    parser.add_argument("--chroma-url", help="Chroma server URL (env SHOPASSIST_CHROMA_URL); default embedded")
    parser.add_argument("--database-url", help="PostgreSQL URL for events + chat log (env SHOPASSIST_DATABASE_URL); "
                        "default SQLite under --home")
    parser.add_argument("--redis-url", help="Redis URL for sessions + live profiles (env SHOPASSIST_REDIS_URL); "
                        "default in-process")
    parser.add_argument("--embedder", choices=["minilm", "hashing"], help="sentence embedder (default minilm)")


def serve_parser(prog: str = "app.py") -> argparse.ArgumentParser:
    """`python app.py [flags]`: the flags of `shopassist [--home ...] serve [...]` in one parser, so
    both accept the same ones and an unknown flag is refused (argparse names it, exit status 2)."""
    parser = argparse.ArgumentParser(prog=prog, description=serve.DESCRIPTION + " Same as `shopassist serve`.")
    add_global_options(parser)
    serve.add_arguments(parser)
    return parser


def _configure_logging(args) -> None:
    """Root log handler with user ids pseudonymised and PII redacted (assistant.privacy).
    Level from SHOPASSIST_LOG_LEVEL (default WARNING)."""
    import os

    from assistant.privacy import configure_logging

    configure_logging(settings_from_args(args), level=os.environ.get("SHOPASSIST_LOG_LEVEL", "WARNING"))


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        _configure_logging(args)
        return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ServerUnavailable as exc:  # a shared server that does not answer: its message says what to start
        print(f"error: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
