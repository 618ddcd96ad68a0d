"""`shopassist parse`: the shopper's message -> validated intent, one message or a JSONL batch.

    shopassist parse "MESSAGE" [--llm NAME|none] [--backend B] [--json]
    shopassist parse --messages IN.jsonl --out OUT.jsonl [--llm NAME]

Batch input lines: {"id": ..., "message": "...", optional "session": ...}; lines sharing a
"session" are resolved in file order as one conversation ("cheaper", "the second one").
Output lines: {"id": ..., "intent": {...}, "ms": ..., "source": "rules" | "llm" | "fallback"}.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

LLM_CHOICES = ("qwen-1.5b", "qwen-0.5b", "auto", "none")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "parse", help="parse a shopping message into a validated intent (rules, then the LLM)",
        description="Parse one MESSAGE, or a batch with --messages IN.jsonl --out OUT.jsonl.")
    p.add_argument("message", nargs="?", help="the shopper's message")
    p.add_argument("--messages", metavar="IN.jsonl", help='batch input, one {"id": ..., "message": ...} per line')
    p.add_argument("--out", metavar="OUT.jsonl", help="batch output (with --messages); '-' for stdout")
    p.add_argument("--llm", choices=LLM_CHOICES,
                   help="LLM for messages the rules are unsure about (default: settings, auto = qwen-0.5b on a CPU, qwen-1.5b on a GPU); none = rules only")
    p.add_argument("--backend", choices=("auto", "llamacpp", "transformers"),
                   help="LLM backend (default auto: llama.cpp on CPU when installed)")
    p.add_argument("--quant", choices=("nf4", "bf16", "fp32"), help="transformers weights (default: nf4 on CUDA, bf16 on CPU)")
    p.add_argument("--threads", type=int, help="CPU threads for the LLM (default: settings.threads)")
    p.add_argument("--budget-ms", type=float, help="LLM time budget per message before the rules' parse is used")
    p.add_argument("--force-llm", action="store_true", help="ask the LLM even when the rules are confident")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_parse)


def _read_messages(path: Path) -> list[dict]:
    from assistant.errors import CLIError
    from assistant.jsontext import read_jsonl

    rows = []
    for lineno, rec in read_jsonl(path, '{"id": ..., "message": "..."}'):
        if not isinstance(rec.get("message"), str):
            raise CLIError(f"file {path}, line {lineno}: expected a text field \"message\", got {rec.get('message')!r}")
        rec.setdefault("id", lineno)
        rows.append(rec)
    return rows


def make_llm(args, settings, strict: bool):
    """The LLM the flags ask for (None for rules only); a missing model is a CLIError naming pip."""
    from assistant.assets import ModelAssetsMissing
    from assistant.errors import CLIError
    from assistant.llm import LLMUnavailable, get_llm

    try:
        return get_llm(settings, backend=args.backend, quant=args.quant, threads=args.threads,
                       strict=strict, progress=True)
    except (ModelAssetsMissing, LLMUnavailable) as exc:
        raise CLIError(str(exc)) from None


def _human(result) -> str:
    intent = result.intent
    lines = [f"action      {intent.action}"]
    if intent.search_text:
        lines.append(f"search      {intent.search_text}")
    for name in ("category", "brand", "recipient", "occasion"):
        if getattr(intent, name):
            lines.append(f"{name:<11} {getattr(intent, name)}")
    if intent.price_min is not None or intent.price_max is not None:
        lo = "" if intent.price_min is None else f"{intent.price_min:g}"
        hi = "" if intent.price_max is None else f"{intent.price_max:g}"
        lines.append(f"price       {lo}..{hi} {intent.currency or ''}".rstrip())
    if intent.must_have:
        lines.append(f"must_have   {', '.join(intent.must_have)}")
    if intent.exclude:
        lines.append(f"exclude     {', '.join(intent.exclude)}")
    if intent.sort != "relevance":
        lines.append(f"sort        {intent.sort}")
    if intent.refers_to:
        lines.append(f"refers_to   {', '.join(map(str, intent.refers_to))}")
    lines.append(f"language    {intent.language}")
    note = f" ({result.error})" if result.error else ""
    lines.append(f".. {result.source} in {result.ms:.0f} ms, rules confidence {result.confidence:.2f}{note}")
    return "\n".join(lines)


def cmd_parse(args) -> int:
    from assistant.errors import CLIError
    from assistant.commands import settings_from_args
    from assistant.dialogue import Session, make_parser, resolve

    if args.message is None and not args.messages:
        raise CLIError('give a MESSAGE, or --messages IN.jsonl --out OUT.jsonl')
    if args.message is not None and args.messages:
        raise CLIError("give either a MESSAGE or --messages IN.jsonl, not both")
    if args.messages and not args.out:
        raise CLIError("--messages needs --out OUT.jsonl (or --out - for stdout)")
    if args.out and not args.messages:
        raise CLIError("--out is for batch mode; use it with --messages IN.jsonl")
    if args.budget_ms is not None and args.budget_ms <= 0:
        raise CLIError(f"Expected --budget-ms > 0, got {args.budget_ms:g}")
    rows = _read_messages(Path(args.messages)) if args.messages else None

    settings = settings_from_args(args)
    if args.llm:
        settings = settings.with_(llm=args.llm)
    if args.threads:
        settings = settings.with_(threads=args.threads)
    llm = make_llm(args, settings, strict=bool(args.llm) and args.llm not in ("auto", "none"))
    budget = args.budget_ms if args.budget_ms is not None else settings.llm_budget_ms
    parser = make_parser(llm, budget, force_llm=args.force_llm)

    if rows is None:
        session = Session()
        resolve(args.message, session, parser)
        result = session.last_parse
        if args.json:
            print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        else:
            print(_human(result))
        return 0

    sessions: dict = {}
    lines = []
    counts: dict[str, int] = {}
    for row in rows:
        sid = row.get("session")
        session = sessions.setdefault(sid, Session(session_id=str(sid))) if sid is not None else Session()
        intent = resolve(row["message"], session, parser)
        session.record(row["message"], intent, row.get("shown"))
        result = session.last_parse
        counts[result.source] = counts.get(result.source, 0) + 1
        lines.append(json.dumps({"id": row["id"], "intent": intent.model_dump(), "ms": round(result.ms, 1),
                                 "source": result.source}, ensure_ascii=False) + "\n")
    if args.out == "-":
        sys.stdout.write("".join(lines))
    else:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        tmp.write_text("".join(lines), encoding="utf-8")
        os.replace(tmp, out)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    print(f".. parsed {len(rows)} messages ({summary})", file=sys.stderr)
    return 0
