"""Lists worth reading: intra-list diversity and repeated products in chat answers, before / after.

    python benchmarks/bench_lists.py --home DIR --catalog beauty-demo [--json OUT]

Broad shopper requests (below; one set per catalog kind, chosen by --queries) go through
`Engine.chat` (anonymous, or as each of the --users shoppers with the longest history; a fresh
session each) twice: with today's list policy switched off
(`ListPolicy(collapse_variants=False, diversity=0.0)`: the ranked top 5 as it was) and with the
default policy (sizes collapsed into one card, MMR over brand / type / embedding similarity).
Over the 5 shown products of every answer it reports:
  ild              intra-list diversity: 1 - mean pairwise cosine of the catalog embeddings
  brands / types   distinct brands / product types per list (share of the shown products;
                   a product without one counts as its own)
  repeated         share of answers showing one product twice or more (sizes / pack counts,
                   `retrieval.variants`)
  dense            mean query-product similarity of the shown products (relevance kept)
  kept             mean share of the plain top 5 still shown
No timing: run it under `nice -n 19`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from benchmarks.common import write_json  # noqa: E402

QUERIES = {
    "beauty": ["gentle cleanser", "moisturizer", "shampoo", "something for dry skin", "a gift for my mom",
               "nail polish", "perfume", "lipstick", "face mask", "eye cream", "hair oil", "sunscreen",
               "body lotion", "makeup brushes", "anti aging serum", "conditioner", "foundation", "mascara",
               "hand cream", "bath bombs", "acne treatment", "dry shampoo", "lip balm", "eyeliner",
               "face wash for oily skin"],
    "fashion": ["running shoes", "shorts", "hoodie", "socks", "training pants", "backpack", "a gift for a runner",
                "soccer cleats", "t-shirt", "jacket", "shoes for kids", "track suit", "sandals", "cap",
                "leggings", "sneakers for women", "a sports bra", "windbreaker", "gym bag", "slides"],
}


def measure(engine, catalog: str, queries: list[str], policy, users=(None,)) -> list[dict]:
    from retrieval.variants import variant_groups

    from assistant.engine import _DISTINCT_WORDS

    engine.lists = policy
    cat = engine.catalog(catalog)
    rows = []
    for i, (user, q) in enumerate((u, q) for u in users for q in queries):
        products = engine.chat(q, user_id=user, session_id=f"{id(policy)}-{i}", catalog=catalog).products
        items = [cat.get(p["id"]) for p in products]
        rows.append({"query": q, "user": user, "ids": [p["id"] for p in products],
                     "brands": [x.brand for x in items], "types": [x.category for x in items],
                     "repeated": len(variant_groups(items, _DISTINCT_WORDS)) < len(items),
                     "dense": [p["components"].get("dense", 0.0) for p in products]})
    return rows


def report(rows: list[dict], cat, plain: list[dict] | None = None) -> dict:
    import numpy as np

    from ranking.metrics import distinct_label_share, intra_list_diversity

    full = [r for r in rows if len(r["ids"]) >= 2]
    k = min(len(r["ids"]) for r in full)
    topk = np.array([[cat.index[i] for i in r["ids"][:k]] for r in full])
    out = {"answers": len(rows), "k": k,
           "ild": round(intra_list_diversity(topk, cat.embeddings), 3),
           "brands": round(distinct_label_share([r["brands"] for r in rows]), 3),
           "types": round(distinct_label_share([r["types"] for r in rows]), 3),
           "repeated": round(sum(r["repeated"] for r in rows) / len(rows), 3),
           "dense": round(float(np.mean([np.mean(r["dense"]) for r in rows if r["dense"]])), 3)}
    if plain is not None:
        out["kept"] = round(float(np.mean([len(set(a["ids"]) & set(b["ids"])) / max(1, len(b["ids"]))
                                           for a, b in zip(rows, plain)])), 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True)
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--queries", choices=sorted(QUERIES), default="beauty")
    ap.add_argument("--embedder", default="minilm", choices=["minilm", "hashing"])
    ap.add_argument("--users", type=int, default=0,
                    help="shoppers with the longest history to ask as (0: anonymous)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from assistant.engine import Engine, ListPolicy
    from assistant.settings import Settings

    engine = Engine(Settings(home=Path(args.home), llm="none", embedder=args.embedder,
                             default_catalog=args.catalog))
    cat = engine.catalog(args.catalog)
    queries = QUERIES[args.queries]
    users = [u for u, _ in engine.events.top_users(args.users)] if args.users else [None]
    before = measure(engine, args.catalog, queries, ListPolicy(collapse_variants=False, diversity=0.0), users)
    after = measure(engine, args.catalog, queries, ListPolicy(), users)
    out = {"catalog": args.catalog, "n_products": len(cat.products), "queries": args.queries, "users": users,
           "before": report(before, cat), "after": report(after, cat, before),
           "answers": {"before": before, "after": after}}
    for name in ("before", "after"):
        print(f"{name:6s} {json.dumps(out[name])}")
    write_json(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
