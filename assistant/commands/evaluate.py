"""`shopassist eval`: offline leave-one-out evaluation, full ranking over all items.

    shopassist eval --sequences FILE [--items FILE [--item-meta FILE]] [--models pop,itemknn,als,content,sasrec,sasrec_ids,fusion,rerank]
                    [--k 5,10,20] [--json OUT] [--max-minutes 12] [--epochs N] [--seed 42] [--seeds N]

FILE: one user a line, `<user> <item> <item> ...` in time order (gzip ok). --items: `id<TAB>title`
lines, used by the content model and the text-enriched SASRec (skipped with a note without it).
--item-meta: `id<TAB>brand<TAB>category<TAB>all_categories` with a header (data/beauty/item_meta.tsv.gz):
each item's text becomes the catalog's product text (title, brand, category path), as the app embeds it. --seeds N refits everything
with seeds seed..seed+N-1 and reports mean +- std with the per-seed rows. sasrec_ids is the same-run
ids-only SASRec-CE baseline; every model is also reported as a ratio against it. --live adds the
live replay through the Engine (assistant/live_eval.py): live vs offline NDCG@10 on the same users,
per-event latency, and a cold-start table.
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
    p.add_argument("--item-meta", metavar="FILE",
                   help="`id<TAB>brand<TAB>category<TAB>all_categories` file with a header: brand and category "
                        "join the titles in the embedded product text (as the demo import does); needs --items")
    p.add_argument("--models", type=_csv(str), default=None,
                   help="comma-separated: pop,itemknn,als,content,sasrec,sasrec_ids,fusion,rerank (default all; "
                        "sasrec_ids = the ids-only SASRec-CE baseline)")
    p.add_argument("--k", type=_csv(int), default=(5, 10, 20), help="cut-offs, e.g. 5,10,20 (default)")
    p.add_argument("--json", metavar="OUT", help="write the full report as JSON to OUT")
    p.add_argument("--max-minutes", type=float, default=12.0,
                   help="wall-clock training budget of each SASRec (sasrec, sasrec_ids), best validated epoch kept "
                        "(default 12: both fit the whole Beauty evaluation in 30 min on a 2-core CPU)")
    p.add_argument("--epochs", type=int, help="SASRec max epochs (default: early stopping decides)")
    p.add_argument("--text", choices=["auto", "add", "none"], default="auto",
                   help="SASRec product-text features (default auto: on when --items is given)")
    p.add_argument("--fusion-users", type=int, default=25_000,
                   help="validation users for the fusion weights (default 25,000, a fixed random subset "
                        "when there are more; 0 = all)")
    p.add_argument("--seed", type=int, default=42, help="seed of every model and split (default 42)")
    p.add_argument("--seeds", type=int, default=1, metavar="N",
                   help="independent runs with seeds SEED..SEED+N-1: mean +- std and per-seed rows (default 1)")
    p.add_argument("--threads", type=int, default=2, help="torch threads for SASRec (default 2)")
    live = p.add_argument_group("live replay (--live)")
    live.add_argument("--live", action="store_true",
                      help="also replay sampled users' histories through Engine.record_event / Engine.recommend "
                           "(one seed; models and fusion weights from this run) and score the test item")
    live.add_argument("--users", type=int, default=2000, help="users replayed (default 2,000; fixed random sample)")
    live.add_argument("--latency-users", type=int, default=200,
                      help="of those, users with a recommend timed after every event (default 200)")
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
    if args.seeds < 1:
        raise CLIError(f"Expected --seeds to be a number of runs >= 1, got {args.seeds}")
    if args.live and args.seeds != 1:
        raise CLIError(f"--live replays one seed's models; got --seeds {args.seeds} (run the seeds without --live)")
    if args.live and (args.users <= 0 or args.latency_users < 0):
        raise CLIError(f"Expected --users > 0 and --latency-users >= 0, got {args.users} and {args.latency_users}")
    if args.item_meta and not args.items:
        raise CLIError("--item-meta adds brands and categories to the --items titles; give --items FILE too")
    settings = settings_from_args(args)
    base = TrainConfig()
    sasrec = replace(base.sasrec, max_minutes=args.max_minutes, seed=args.seed, text_mode=args.text,
                     threads=args.threads, **({"max_epochs": args.epochs} if args.epochs else {}))
    train = replace(base, sasrec=sasrec, als=replace(base.als, seed=args.seed), seed=args.seed)
    config = EvalConfig(models=tuple(models), ks=tuple(args.k), train=train, embedder=settings.embedder,
                        embed_cache=settings.cache_dir, fusion_users=args.fusion_users, seed=args.seed,
                        seeds=args.seeds)
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if args.live:
        from assistant.live_eval import format_live, run_live

        report = run_live(args.sequences, args.items, config, users=args.users, latency_users=args.latency_users,
                          progress=say, item_meta=args.item_meta)
    else:
        report = run_evaluation(args.sequences, args.items, config, progress=say, item_meta=args.item_meta)
    print(format_table(report, ks=args.k))
    if args.live:
        print(format_live(report["live"]))
    if args.json:
        write_json(report, args.json)
        print(f"report written to {args.json}")
    return 0
