"""Behaviour events: bulk import and single events.

    shopassist events import PATH [PATH ...] [--catalog NAME] [--format auto|sequences|csv]
                             [--type purchase] [--skip-invalid]
    shopassist events show --user U [--n 20] [--json]
    shopassist event --user U --item I --type click [--value V] [--id EVENT_ID] [--timestamp T] [--json]

Sequence files (`user item item ...`) get synthetic increasing timestamps and ids
`<file>:<user>:<position>`; CSV logs (user_id, parent_asin/item_id, rating, timestamp in s or ms)
get ids `<file>:<row>`: importing the same file twice adds nothing. Every event must name a
product of the catalog; the demo catalog (beauty) is imported on first use.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("events", help="import or inspect behaviour events",
                              description="Bulk-load behaviour history or inspect a shopper's events.")
    sub = p.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="load sequence files or CSV event logs into the event store")
    imp.add_argument("paths", nargs="+", metavar="PATH", help="`user item item ...` file or CSV log (gzip ok)")
    imp.add_argument("--catalog", help="catalog the items belong to (default: settings default_catalog)")
    imp.add_argument("--format", choices=["auto", "sequences", "csv"], default="auto",
                     help="file format (default: sniffed from the first line)")
    imp.add_argument("--type", default=None,
                     help="event type for rows without one (default: purchase for sequences; "
                          "rating for CSV logs with a rating column)")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="skip rejected rows (unknown items ...) and report them; default: reject the whole "
                          "file and write nothing")
    imp.set_defaults(func=cmd_import)

    show = sub.add_parser("show", help="a shopper's events, oldest first")
    show.add_argument("--user", required=True, help="user id")
    show.add_argument("--n", type=int, default=20, help="most recent events to show (default 20)")
    show.add_argument("--json", action="store_true", help="print JSON lines")
    show.set_defaults(func=cmd_show)

    ev = subparsers.add_parser("event", help="record one behaviour event (durable, idempotent on --id)",
                               description="Record one event; the shopper's next recommendations reflect it.")
    ev.add_argument("--user", required=True, help="user id")
    ev.add_argument("--item", help="product id (required except for --type search)")
    ev.add_argument("--type", required=True, help="view, click, cart, purchase, rating or search")
    ev.add_argument("--value", help="rating 0-5 (rating) or the query text (search)")
    ev.add_argument("--id", dest="event_id", help="idempotency key: the same id is stored once")
    ev.add_argument("--timestamp", help="unix seconds / ms or ISO-8601 (default: now)")
    ev.add_argument("--catalog", help="catalog of the product (default: settings default_catalog)")
    ev.add_argument("--json", action="store_true", help="print the acknowledgement as JSON")
    ev.set_defaults(func=cmd_event)


def _engine_and_catalog(args):
    """(engine, catalog): the catalog is loaded so the event store can check item ids; the demo
    catalog is imported on first use."""
    from assistant.commands import settings_from_args
    from assistant.engine import Engine

    engine = Engine(settings_from_args(args), llm=False)
    name = getattr(args, "catalog", None) or engine.settings.default_catalog
    try:
        from retrieval.registry import DEMO_NAME, ensure_demo_catalog

        if name == DEMO_NAME:
            from assistant.settings import DATA_DIR

            ensure_demo_catalog(engine.registry, DATA_DIR, progress=lambda m: print(m, file=sys.stderr))
    except ImportError:  # pragma: no cover - retrieval is part of the package
        pass
    return engine, engine.catalog(name)


def cmd_import(args) -> int:
    from assistant.errors import CLIError
    from ranking.data import read_event_csv, read_sequences, sequences_to_events, sniff_format
    from ranking.events import EventValidationError

    paths = [Path(p) for p in args.paths]
    for path in paths:
        if not path.is_file():
            raise CLIError(f"No such file: {path}")
    engine, catalog = _engine_and_catalog(args)
    store = engine.events
    total = 0
    for path in paths:
        fmt = sniff_format(path) if args.format == "auto" else args.format
        source = path.name
        if fmt == "sequences":
            seqs = read_sequences(path)
            events = sequences_to_events(seqs, type=args.type or "purchase", source=source)
        else:
            events = read_event_csv(path, default_type=args.type, source=source)
        try:
            result = store.add_many(events, skip_invalid=args.skip_invalid,
                                    progress=lambda m: print(m, file=sys.stderr))
        except EventValidationError as exc:
            raise CLIError(f"{path}: {exc}; nothing was imported from this file "
                           "(use --skip-invalid to import the valid rows)") from None
        total += result.inserted
        print(f"{path}: {result.inserted:,} events imported, {result.duplicates:,} already present"
              + (f", {result.rejected:,} rejected" if result.rejected else "") + f" ({fmt}, catalog {catalog.name})")
        for err in result.errors[:5]:
            print(f"  rejected: {err}")
    print(f"event store: {store.count():,} events, {store.n_users():,} users")
    return 0


def cmd_show(args) -> int:
    from assistant.commands import settings_from_args
    from ranking.events import EventStore

    settings = settings_from_args(args)
    if not settings.events_db.exists():
        print("no events recorded yet")
        return 0
    with EventStore(settings.events_db) as store:
        events = store.user_events(args.user)[-max(args.n, 0):] if args.n else []
    if not events:
        print(f"no events for user {args.user!r}")
    for e in events:
        if args.json:
            print(json.dumps(e.model_dump()))
        else:
            print(f"{e.timestamp:14.0f}  {e.type:<8}  {e.item_id or '-':<14}  {'' if e.value is None else e.value}")
    return 0


def cmd_event(args) -> int:
    from assistant.errors import CLIError
    from ranking.events import EventValidationError

    engine, catalog = _engine_and_catalog(args)
    if args.item and args.item not in catalog.index:
        raise CLIError(f"Unknown item {args.item!r} in catalog {catalog.name!r}: expected the id of a catalog "
                       "product (see `shopassist search`)")
    try:
        ack = engine.events.add({"user_id": args.user, "item_id": args.item, "type": args.type,
                                 "value": args.value, "event_id": args.event_id, "timestamp": args.timestamp})
    except EventValidationError as exc:
        raise CLIError(str(exc)) from None
    out = {"ok": True, "event_id": ack.event_id, "seq": ack.seq, "duplicate": ack.duplicate,
           "user_id": args.user, "item_id": args.item, "type": args.type}
    if args.json:
        print(json.dumps(out))
    else:
        print(("duplicate (already stored)" if ack.duplicate else "recorded") + f": event {ack.event_id} "
              f"({args.type} {args.item or args.value} by {args.user})")
    return 0
