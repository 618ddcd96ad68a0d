"""Hallucination audit of LLM summaries: does anything unshown survive `explain.ground`?

For every message of the intent set, the bundled demo catalog (Amazon Beauty titles) is searched
with a tiny keyword-overlap ranker for the parsed search text (3 products "shown"), the LLM writes
its short summary (prompts/answer_summary.txt), and `explain.ground` validates it against the
shown products, with the whole catalog's titles and the known brands as the list of things that
must not appear unless shown. Counts: summaries, sentences removed by the validator, and - the
figure that must be zero - final replies that still name an unshown catalog product or brand or
contain a price no shown product has.

    python benchmarks/bench_grounding.py --llm qwen-0.5b --threads 1 --json benchmarks/out/grounding.json
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def load_titles() -> list[dict]:
    rows = []
    with gzip.open(REPO / "data" / "beauty" / "items.tsv.gz", "rt", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            asin, _, title = line.rstrip("\n").partition("\t")
            if title:
                rows.append({"id": asin, "title": title, "price": None})
    return rows


def shown_for(query: str, catalog: list[dict], index: dict[str, set[int]], k: int = 3) -> list[dict]:
    words = [w for w in re.findall(r"[a-z]+", query.lower()) if len(w) > 2]
    scores: dict[int, int] = {}
    for w in words:
        for i in index.get(w, ()):
            scores[i] = scores.get(i, 0) + 1
    best = sorted(scores, key=lambda i: (-scores[i], i))[:k]
    return [catalog[i] for i in best] or catalog[:k]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llm", default="qwen-0.5b", choices=("qwen-0.5b", "qwen-1.5b"))
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--home", default=str(REPO / ".shopassist"))
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)

    from assistant import lexicon
    from assistant.explain import ground_report
    from assistant.intent import parse_intent
    from assistant.intent_eval import load_rows
    from assistant.llm import get_llm
    from assistant.prompts import load_prompt
    from assistant.settings import Settings

    catalog = load_titles()
    index: dict[str, set[int]] = {}
    for i, p in enumerate(catalog):
        for w in set(re.findall(r"[a-z]+", p["title"].lower())):
            if len(w) > 2:
                index.setdefault(w, set()).add(i)
    all_titles = [p["title"] for p in catalog]
    llm = get_llm(Settings(home=Path(args.home), llm=args.llm, llm_backend=args.backend, threads=args.threads),
                  strict=True)
    llm.load()
    rows = load_rows(REPO / "tests" / "data" / "intents.jsonl")
    rows = [r for r in rows if parse_intent(r["message"], None).intent.action in ("search", "refine")]
    if args.limit:
        rows = rows[: args.limit]
    removed_sentences = replies_with_removals = leaks = 0
    examples, ms = [], []
    for row in rows:
        intent = parse_intent(row["message"], None).intent
        shown = shown_for(intent.search_text or row["message"], catalog, index)
        listing = "\n".join(f"{i}. {p['title']} — price not listed" for i, p in enumerate(shown, 1))
        messages = [{"role": "user", "content": load_prompt("answer_summary").render(
            request=intent.search_text or row["message"], products=listing,
            language="Chinese" if intent.language == "zh" else "English")}]
        started = time.perf_counter()
        raw = llm.complete(messages, max_tokens=120)
        ms.append((time.perf_counter() - started) * 1000)
        report = ground_report(raw, shown, catalog_titles=all_titles)
        removed_sentences += len(report.removed)
        replies_with_removals += bool(report.removed)
        # audit of the FINAL text, independent of the validator's own heuristics
        final = report.text.lower()
        shown_titles = {p["title"].lower() for p in shown}
        shown_text = " ".join(shown_titles)
        leaked = [t for t in all_titles if len(t) >= 12 and t.lower() in final and t.lower() not in shown_titles]
        leaked += [b for b in lexicon.BRANDS if re.search(rf"(?<!\w){re.escape(b)}(?!\w)", final)
                   and b not in shown_text]
        leaked += re.findall(r"[$€£¥]\s?\d[\d,.]*|\d+(?:\.\d+)?\s?(?:dollars|usd|euros|元)", final)
        leaks += bool(leaked)
        if report.removed and len(examples) < 8:
            examples.append({"id": row["id"], "raw": raw, "final": report.text, "removed": report.removed,
                             "reasons": report.reasons})
    ms.sort()
    result = {"llm": llm.name, "n_summaries": len(rows), "sentences_removed": removed_sentences,
              "replies_with_removals": replies_with_removals, "final_replies_with_unshown_products": leaks,
              "summary_ms_p50": round(ms[len(ms) // 2], 1) if ms else None, "examples": examples,
              "command": " ".join(["python"] + sys.argv)}
    print(json.dumps({k: v for k, v in result.items() if k != "examples"}, indent=1))
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
