"""Intent parsing quality and latency on tests/data/intents.jsonl (or another annotated set).

    python benchmarks/bench_intent.py --llm none                       # deterministic parser only
    python benchmarks/bench_intent.py --llm qwen-0.5b --backend llamacpp --threads 1
    python benchmarks/bench_intent.py --llm qwen-1.5b --backend transformers --quant nf4   # on a GPU
    python benchmarks/bench_intent.py --llm qwen-1.5b --limit 12 --backend transformers --quant bf16

Modes (--modes, default: all that apply):
  rules     the deterministic parser alone (what `--llm none` ships)
  pipeline  what the product does: rules, and the LLM only where the rules are not confident
  llm       the LLM asked on every message, its answer merged with the rules and checked
  llm-raw   the LLM's own validated intent on every message, no rules (shows the model alone)
Multi-turn rows are resolved through dialogue.resolve in every mode.

Reports field accuracy (every field of every message; unannotated fields must keep their
default), accuracy on the non-default fields only, exact-match rate, per-field accuracy and
parse latency p50/p95 (ms per message, the whole parse including the LLM). --json OUT writes
everything, including every parsed intent.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class CachingLLM:
    """Memoises completions so that the llm-raw mode reuses the llm mode's model calls."""

    def __init__(self, llm, path: Path | None = None):
        self.llm, self.name, self.cache, self.calls, self.path = llm, getattr(llm, "name", "llm"), {}, 0, path
        if path is not None and path.is_file():
            self.cache = json.loads(path.read_text())

    def save(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.cache, ensure_ascii=False))

    def complete(self, messages, *, json_schema=None, max_tokens=256):
        key = json.dumps([messages, json_schema, max_tokens], sort_keys=True, ensure_ascii=False)
        if key not in self.cache:
            self.calls += 1
            self.cache[key] = self.llm.complete(messages, json_schema=json_schema, max_tokens=max_tokens)
        return self.cache[key]


class _CacheMiss:
    def __init__(self, name):
        self.name = name

    def complete(self, messages, *, json_schema=None, max_tokens=256):
        from assistant.llm import LLMError

        raise LLMError("not in the --llm-cache file (--cache-only)")


def machine() -> dict:
    from common import cpu_model

    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "cpu": cpu_model()}
    try:
        info["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def select_rows(rows: list[dict], limit: int | None) -> list[dict]:
    """Every row, or `limit` evenly spaced single-turn rows (deterministic)."""
    if not limit or limit >= len(rows):
        return rows
    single = [r for r in rows if not r.get("session")]
    step = len(single) / limit
    return [single[int(i * step)] for i in range(limit)]


def table(paths: list[str]) -> str:
    """A markdown table from --json outputs (one row per file and mode)."""
    lines = ["| set | model | backend | mode | n | field acc | non-default fields | exact match | p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        report = json.loads(Path(path).read_text())
        data = Path(report["data"]).stem
        for mode, s in report["modes"].items():
            lat = s.get("latency_ms", {})
            lines.append(f"| {data} | {report['llm']} | {report.get('backend', '-')} | {mode} | {s['n_messages']} | "
                         f"{s['field_accuracy']:.3f} | {s['non_default_field_accuracy']:.3f} | {s['exact_match']:.3f} | "
                         f"{lat.get('p50', '-')} | {lat.get('p95', '-')} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--table":
        print(table(sys.argv[2:]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(REPO / "tests" / "data" / "intents.jsonl"))
    ap.add_argument("--llm", default="none", choices=("none", "qwen-0.5b", "qwen-1.5b"))
    ap.add_argument("--backend", default="auto", choices=("auto", "llamacpp", "transformers"))
    ap.add_argument("--quant", choices=("nf4", "bf16", "fp32"), help="transformers only (default nf4 on CUDA, bf16 on CPU)")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for the LLM (default 1)")
    ap.add_argument("--limit", type=int, help="evaluate N evenly spaced single-turn messages only")
    ap.add_argument("--modes", default=None, help="comma-separated: rules,pipeline,llm,llm-raw")
    ap.add_argument("--budget-ms", type=float, default=600_000,
                    help="LLM budget per message (default 10 min: measure the model, not the timeout)")
    ap.add_argument("--home", default=os.environ.get("SHOPASSIST_HOME", str(REPO / ".shopassist")))
    ap.add_argument("--json", dest="json_out", metavar="OUT", help="write all results as JSON")
    ap.add_argument("--llm-cache", metavar="FILE", help="reuse / store model replies (re-score without re-running "
                    "the model; latency figures are then meaningless for the cached calls)")
    ap.add_argument("--cache-only", action="store_true",
                    help="with --llm-cache: never load the model (re-score only; a cache miss counts as an LLM failure)")
    args = ap.parse_args(argv)

    from assistant.intent import parse_intent
    from assistant.schema import Intent, ParseResult
    from assistant.intent_eval import load_rows, run, summarize

    rows = select_rows(load_rows(Path(args.data)), args.limit)
    modes = args.modes.split(",") if args.modes else (["rules"] if args.llm == "none" else
                                                       ["rules", "pipeline", "llm", "llm-raw"])
    report: dict = {"data": args.data, "n_rows": len(rows), "llm": args.llm, "machine": machine(),
                    "command": " ".join([Path(sys.executable).name] + sys.argv), "modes": {}}
    llm = None
    if args.llm != "none":
        from assistant.llm import get_llm, resolve_backend
        from assistant.settings import Settings

        settings = Settings(home=Path(args.home), llm=args.llm, llm_backend=args.backend, threads=args.threads)
        report["backend"] = resolve_backend(args.backend)
        if args.cache_only:
            if not args.llm_cache:
                ap.error("--cache-only needs --llm-cache FILE")
            base = _CacheMiss(f"{args.llm}/cache-only")
        else:
            base = get_llm(settings, quant=args.quant, strict=True, progress=True)
            started = time.perf_counter()
            base.load()
            report["load_s"] = round(time.perf_counter() - started, 2)
            started = time.perf_counter()
            base.warmup()
            report["warmup_s"] = round(time.perf_counter() - started, 2)
        report["llm_name"] = base.name
        llm = CachingLLM(base, Path(args.llm_cache) if args.llm_cache else None)
        report["llm_cache_entries_at_start"] = len(llm.cache)

    for mode in modes:
        if mode == "rules":
            parser = lambda m, h: parse_intent(m, None, history=h)  # noqa: E731
        elif mode == "pipeline":
            parser = lambda m, h: parse_intent(m, llm, args.budget_ms, history=h)  # noqa: E731
        elif mode == "llm":
            parser = lambda m, h: parse_intent(m, llm, args.budget_ms, history=h, force_llm=True)  # noqa: E731
        elif mode == "llm-raw":
            def parser(m, h):
                result = parse_intent(m, llm, args.budget_ms, history=h, force_llm=True)
                raw = result.llm_raw or Intent(language=result.intent.language, action="chitchat")
                return ParseResult(intent=raw, source=result.source, ms=result.ms, error=result.error)
        else:
            ap.error(f"unknown mode {mode!r}")
        if llm is None and mode != "rules":
            continue
        started = time.perf_counter()
        calls_before = llm.calls if llm else 0

        def progress(n, total, mode=mode):
            if n % 10 == 0 or n == total:
                print(f"  {mode}: {n}/{total} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)

        results = run(rows, parser, progress=progress)
        if llm is not None:
            llm.save()
        summary = summarize(results, rows)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        summary["llm_calls"] = (llm.calls - calls_before) if llm else 0
        if mode == "llm-raw":
            summary["latency_ms"] = {"note": "model calls reused from the llm mode; see its latency"}
        report["modes"][mode] = summary
        report["modes"][mode]["rows"] = [{"id": r.id, "intent": r.intent, "ms": round(r.ms, 1), "source": r.source,
                                          "wrong": [k for k, ok in r.checks.items() if not ok]} for r in results]
        lat = summary["latency_ms"]
        print(f"{args.llm:>10} {report.get('backend', '-'):>12} {mode:>9}: field acc {summary['field_accuracy']:.3f} "
              f"(non-default {summary['non_default_field_accuracy']:.3f}, exact {summary['exact_match']:.3f}) "
              f"p50 {lat.get('p50', '-')} ms p95 {lat.get('p95', '-')} ms  sources {summary['sources']}", flush=True)

    if args.json_out:
        out = Path(args.json_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
