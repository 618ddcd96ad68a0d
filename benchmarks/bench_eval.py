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
    """Test metrics per model; with several seeds the cells are mean +- sample std, and a second
    table gives the per-seed NDCG@10; the ids-only SASRec-CE baseline ratio is a column."""
    from ranking.evaluate import ANCHORS, BASELINE, is_beauty

    seeds = report.get("seeds") or []
    many = len(seeds) > 1
    ratios = report.get("vs_baseline") or {}

    def cell(m, metric, digits=4):
        v = m["test"].get(metric)
        if v is None:
            return ""
        sd = m.get("test_std", {}).get(metric)
        return f"{v:.{digits}f} ± {sd:.{digits}f}" if many and sd is not None else f"{v:.{digits}f}"

    head = "| model | HR@10 | NDCG@10 | HR@20 | NDCG@20 | coverage@10 | diversity@10 | novelty@10 | train (s) |"
    if ratios:
        head += f" NDCG@10 / {BASELINE} |"
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, m in report["models"].items():
        label = name
        if "text_features" in m:
            label += f" (best epoch {m.get('best_epoch')}, {'+ text' if m.get('text_features') else 'ids only'})"
        t = m["test"]
        line = (f"| {label} | {cell(m, 'HR@10')} | {cell(m, 'NDCG@10')} | {cell(m, 'HR@20')} | {cell(m, 'NDCG@20')} | "
                f"{t['coverage@10']:.3f} | {t['diversity@10']:.3f} | {t['novelty@10']:.2f} | "
                f"{'(weights only)' if name == 'fusion' else round(m.get('train_seconds', 0))} |")
        if ratios:
            line += f" {ratios.get(name, {}).get('NDCG@10') or 0:.3f} |"
        rows.append(line)
    if is_beauty(report):
        for label, (hr, nd) in ANCHORS.items():
            rows.append(f"| *{label}* | {hr:.4f} | {nd:.4f} | | | | | | |" + (" |" if ratios else ""))
    if many:
        rows += ["", f"Per seed, test NDCG@10 (seeds {', '.join(map(str, seeds))}; ± above = sample std, ddof 1):", "",
                 "| model | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---|" * len(seeds)]
        for name, m in report["models"].items():
            rows.append(f"| {name} | " + " | ".join(f"{r['test']['NDCG@10']:.4f}" for r in m["per_seed"]) + " |")
    if "fusion" in report["models"]:
        w = report["models"]["fusion"].get("weights") or {}
        rows.append("")
        for one in (w if isinstance(w, list) else [w]):
            rows.append("Fusion weights (fitted on validation): " + ", ".join(f"{k} {v:g}" for k, v in one.items()))
    return "\n".join(rows)


def _show(report: dict, json_path: str | None) -> None:
    """The plain table and the markdown table of a report, and the JSON file when asked."""
    from ranking.evaluate import format_table, write_json

    print(format_table(report))
    print()
    print(markdown(report))
    if json_path:
        write_json(report, json_path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="full-ranking leave-one-out evaluation -> JSON + markdown")
    ap.add_argument("--sequences", help="`user item item ...` file")
    ap.add_argument("--items", help="`id<TAB>title` file (content model, SASRec text features)")
    ap.add_argument("--models", default="pop,itemknn,als,content,sasrec,sasrec_ids,fusion,rerank")
    ap.add_argument("--json", help="write the report here")
    ap.add_argument("--item-meta", help="`id<TAB>brand<TAB>category<TAB>all_categories` file (product text)")
    ap.add_argument("--max-minutes", type=float, default=12.0, help="budget of each SASRec (default 12)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--seeds", type=int, default=1, help="runs with seeds SEED..SEED+N-1 (mean ± std)")
    ap.add_argument("--embedder", default="minilm", help="title embedder: minilm (default) or hashing")
    ap.add_argument("--markdown", metavar="REPORT.json", help="only render an existing report as markdown")
    ap.add_argument("--merge", nargs="+", metavar="REPORT.json",
                    help="merge single-seed reports of the same evaluation (one process per seed) into one "
                         "mean +- std report, written to --json")
    args = ap.parse_args(argv)
    if args.merge:
        from ranking.evaluate import merge_reports

        _show(merge_reports([json.loads(Path(p).read_text()) for p in args.merge]), args.json)
        return 0
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    if not args.sequences:
        ap.error("--sequences is required (or --markdown REPORT.json)")
    from dataclasses import replace

    from ranking.evaluate import EvalConfig, run_evaluation
    from ranking.train import TrainConfig

    base = TrainConfig()
    train = replace(base, sasrec=replace(base.sasrec, max_minutes=args.max_minutes))
    config = EvalConfig(models=tuple(args.models.split(",")), train=train, embedder=args.embedder,
                        embed_cache=Path(".shopassist/cache"), seed=args.seed, seeds=args.seeds)
    report = run_evaluation(args.sequences, args.items, config, progress=lambda m: print(m, file=sys.stderr, flush=True),
                            item_meta=args.item_meta)
    report["command"] = "python benchmarks/bench_eval.py " + " ".join(argv if argv is not None else sys.argv[1:])
    _show(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
