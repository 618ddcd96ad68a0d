"""Amazon Beauty (or any `user item item ...` file): every recommender's full-ranking
leave-one-out metrics next to the published anchors, as JSON and a markdown table.

Same code path as `shopassist eval` (ranking.evaluate.run_evaluation); this script adds the
markdown rendering used in benchmarks/README.md. A run over ~1 minute on the shared 2-core
machine goes through the CPU lock:

    flock /tmp/shopassist-cpu.lock python benchmarks/bench_eval.py \\
        --sequences data/beauty/sequences.txt.gz --items data/beauty/items.tsv.gz \\
        --json benchmarks/results/eval_beauty.json
    python benchmarks/bench_eval.py --markdown benchmarks/results/eval_beauty.json   # table only
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def markdown(report: dict) -> str:
    from ranking.evaluate import ANCHORS

    rows = ["| model | HR@10 | NDCG@10 | HR@20 | NDCG@20 | coverage@10 | diversity@10 | novelty@10 | train (s) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, m in report["models"].items():
        t = m["test"]
        label = name
        if name == "sasrec":
            label += f" (best epoch {m.get('best_epoch')}, {'+ text' if m.get('text_features') else 'ids only'})"
        rows.append(f"| {label} | {t['HR@10']:.4f} | {t['NDCG@10']:.4f} | {t.get('HR@20', float('nan')):.4f} | "
                    f"{t.get('NDCG@20', float('nan')):.4f} | {t['coverage@10']:.3f} | {t['diversity@10']:.3f} | "
                    f"{t['novelty@10']:.2f} | {'(weights only)' if name == 'fusion' else round(m.get('train_seconds', 0))} |")
    for label, (hr, nd) in ANCHORS.items():
        rows.append(f"| *{label}* | {hr:.4f} | {nd:.4f} | | | | | | |")
    if "fusion" in report["models"]:
        w = report["models"]["fusion"].get("weights") or {}
        rows.append("")
        rows.append("Fusion weights (fitted on validation): " + ", ".join(f"{k} {v:g}" for k, v in w.items()))
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="full-ranking leave-one-out evaluation -> JSON + markdown")
    ap.add_argument("--sequences", help="`user item item ...` file")
    ap.add_argument("--items", help="`id<TAB>title` file (content model, SASRec text features)")
    ap.add_argument("--models", default="pop,itemknn,als,content,sasrec,fusion")
    ap.add_argument("--json", help="write the report here")
    ap.add_argument("--max-minutes", type=float, default=25.0, help="SASRec budget (default 25)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--embedder", default="minilm", help="title embedder: minilm (default) or hashing")
    ap.add_argument("--markdown", metavar="REPORT.json", help="only render an existing report as markdown")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    if not args.sequences:
        ap.error("--sequences is required (or --markdown REPORT.json)")
    from dataclasses import replace

    from ranking.evaluate import EvalConfig, format_table, run_evaluation, write_json
    from ranking.train import TrainConfig

    base = TrainConfig()
    train = replace(base, sasrec=replace(base.sasrec, max_minutes=args.max_minutes, seed=args.seed),
                    als=replace(base.als, seed=args.seed), seed=args.seed)
    config = EvalConfig(models=tuple(args.models.split(",")), train=train, embedder=args.embedder,
                        embed_cache=Path(".shopassist/cache"), seed=args.seed)
    report = run_evaluation(args.sequences, args.items, config, progress=lambda m: print(m, file=sys.stderr, flush=True))
    report["command"] = "python benchmarks/bench_eval.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(format_table(report))
    print()
    print(markdown(report))
    if args.json:
        write_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
