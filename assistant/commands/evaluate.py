"""`shopassist eval`: offline leave-one-out evaluation, full ranking over all items.

    shopassist eval --sequences FILE [--items FILE] [--models pop,itemknn,als,content,sasrec,fusion]
                    [--k 5,10,20] [--json OUT] [--max-minutes 25] [--epochs N] [--seed 42]

FILE: one user a line, `<user> <item> <item> ...` in time order (gzip ok). --items: `id<TAB>title`
lines, used by the content model and the text-enriched SASRec (skipped with a note without it).
"""
from __future__ import annotations

import sys


def _csv(kind):
    def parse(value: str):
        import argparse

        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"Expected a comma-separated list, got {value!r}")
        if kind is int:
            try:
                return tuple(int(p) for p in parts)
            except ValueError:
                raise argparse.ArgumentTypeError(f"Expected integers like 5,10,20, got {value!r}") from None
        return tuple(parts)

    return parse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval", help="leave-one-out full-ranking evaluation of the recommenders on a sequences file",
        description="Fit every model on the training part of FILE, early-stop / fit fusion weights on the "
                    "validation item, report HR@K, NDCG@K, coverage, diversity and novelty on the last item.")
    p.add_argument("--sequences", required=True, metavar="FILE", help="`user item item ...` lines, time ordered")
    p.add_argument("--items", metavar="FILE", help="`id<TAB>title` lines (content model, SASRec text features)")
    p.add_argument("--models", type=_csv(str), default=None,
                   help="comma-separated: pop,itemknn,als,content,sasrec,fusion (default all)")
    p.add_argument("--k", type=_csv(int), default=(5, 10, 20), help="cut-offs, e.g. 5,10,20 (default)")
    p.add_argument("--json", metavar="OUT", help="write the full report as JSON to OUT")
    p.add_argument("--max-minutes", type=float, default=25.0, help="SASRec training budget (default 25)")
    p.add_argument("--epochs", type=int, help="SASRec max epochs (default: early stopping decides)")
    p.add_argument("--text", choices=["auto", "add", "none"], default="auto",
                   help="SASRec product-text features (default auto: on when --items is given)")
    p.add_argument("--fusion-users", type=int, default=25_000,
                   help="validation users for the fusion weights (default 25,000, a fixed random subset "
                        "when there are more; 0 = all)")
    p.add_argument("--seed", type=int, default=42, help="seed of every model and split (default 42)")
    p.add_argument("--threads", type=int, default=2, help="torch threads for SASRec (default 2)")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from dataclasses import replace

    from assistant.errors import CLIError

    from assistant.commands import settings_from_args
    from ranking.evaluate import EVAL_MODELS, EvalConfig, format_table, run_evaluation, write_json
    from ranking.train import TrainConfig

    models = args.models or EVAL_MODELS
    bad = [m for m in models if m not in EVAL_MODELS]
    if bad:
        raise CLIError(f"Expected --models among {', '.join(EVAL_MODELS)}, got {', '.join(bad)}")
    if any(k <= 0 for k in args.k):
        raise CLIError(f"Expected positive --k cut-offs, got {args.k}")
    settings = settings_from_args(args)
    base = TrainConfig()
    sasrec = replace(base.sasrec, max_minutes=args.max_minutes, seed=args.seed, text_mode=args.text,
                     threads=args.threads, **({"max_epochs": args.epochs} if args.epochs else {}))
    train = replace(base, sasrec=sasrec, als=replace(base.als, seed=args.seed), seed=args.seed)
    config = EvalConfig(models=tuple(models), ks=tuple(args.k), train=train, embedder=settings.embedder,
                        embed_cache=settings.cache_dir, fusion_users=args.fusion_users, seed=args.seed)
    report = run_evaluation(args.sequences, args.items, config, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(format_table(report, ks=args.k))
    if args.json:
        write_json(report, args.json)
        print(f"report written to {args.json}")
    return 0
