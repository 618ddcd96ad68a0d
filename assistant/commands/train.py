"""`shopassist train`: train every recommender on the events in the store and swap the new
models in atomically (a running app picks them up by itself).

    shopassist train [--catalog NAME] [--models pop,itemknn,als,content,sasrec] [--max-minutes 25]
"""
from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train the recommendation models on the stored events",
                              description="Train popularity, item-kNN, ALS, content and SASRec on the event "
                                          "store, fit fusion weights on each shopper's last event, save a new "
                                          "model version and switch to it atomically. Fixed seed.")
    p.add_argument("--catalog", help="catalog name (default: settings default_catalog)")
    p.add_argument("--models", default="pop,itemknn,als,content,sasrec",
                   help="comma-separated subset of pop,itemknn,als,content,sasrec (default all)")
    p.add_argument("--max-minutes", type=float, default=25.0, help="SASRec training budget (default 25)")
    p.add_argument("--epochs", type=int, help="SASRec max epochs (default: early stopping decides)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--threads", type=int, default=2, help="torch threads for SASRec (default 2)")
    p.set_defaults(func=cmd_train)


def cmd_train(args) -> int:
    from dataclasses import replace

    from assistant.errors import CLIError
    from assistant.commands.events import _engine_and_catalog
    from ranking.train import MODEL_NAMES, TrainConfig, train_all

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    bad = [m for m in models if m not in MODEL_NAMES]
    if bad or not models:
        raise CLIError(f"Expected --models among {', '.join(MODEL_NAMES)}, got {args.models!r}")
    engine, catalog = _engine_and_catalog(args)
    if engine.events.count() == 0:
        raise CLIError("The event store is empty: import history first, e.g. "
                       "`shopassist events import data/beauty/sequences.txt.gz`")
    base = TrainConfig()
    sasrec = replace(base.sasrec, max_minutes=args.max_minutes, seed=args.seed, threads=args.threads,
                     **({"max_epochs": args.epochs} if args.epochs else {}))
    config = replace(base, models=models, sasrec=sasrec, als=replace(base.als, seed=args.seed), seed=args.seed)
    report = train_all(catalog, engine.events, engine.settings.models_dir, config, progress=print)
    print(f"trained {', '.join(report.models)} on {report.n_events:,} events of {report.n_users:,} users "
          f"in {report.seconds:.0f}s -> {report.path}")
    return 0
