"""Tiny fixtures for ranking tests: a 'checkerboard' whose right answer is known, and catalogs.

Checkerboard: 24 items in two groups, A = rows 0..11 ("lipsticks") and B = rows 12..23
("shampoos"). Every user stays in one group and walks it in order (item i is followed by i+1,
wrapping inside the group). So for a history in group A, a good recommender ranks group A
first, and a sequential model predicts the next item of the walk.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from ranking.data import Interactions

GROUP = 12
N_ITEMS = 2 * GROUP


def walk(group: int, start: int, length: int) -> list[int]:
    return [group * GROUP + (start + j) % GROUP for j in range(length)]


def checkerboard_interactions(users_per_group: int = 30, length: int = 8, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    seqs = []
    for g in (0, 1):
        for _ in range(users_per_group):
            seqs.append(walk(g, int(rng.integers(GROUP)), length))
    # Item 0 is the best seller: extra single-event users in group A.
    seqs += [[0] for _ in range(8)]
    return Interactions(N_ITEMS, seqs, user_ids=[f"u{i}" for i in range(len(seqs))])


def group_embeddings(seed: int = 0, dim: int = 8) -> np.ndarray:
    """Items of a group share a direction (plus small noise); L2-normalised float32."""
    rng = np.random.default_rng(seed)
    e = rng.normal(scale=0.15, size=(N_ITEMS, dim))
    e[:GROUP, 0] += 1.0
    e[GROUP:, 1] += 1.0
    return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)


class TinyCatalog:
    """The minimal catalog protocol ranking needs (retrieval.catalog.Catalog satisfies it)."""

    def __init__(self, name: str, products: list, embeddings: np.ndarray | None):
        self.name = name
        self.products = products
        self.ids = [p.id for p in products]
        self.index = {x: r for r, x in enumerate(self.ids)}
        self.embeddings = embeddings

    def get(self, item_id):
        return self.products[self.index[item_id]]


def make_product(i: int) -> SimpleNamespace:
    lipstick = i < GROUP
    kind = "Lipstick" if lipstick else "Shampoo"
    return SimpleNamespace(
        id=f"{'lip' if lipstick else 'sha'}{i:02d}", title=f"{kind} number {i}", description="",
        brand="Rouge" if lipstick else "Clean", category=kind, price=8.0 + i, currency="USD",
        search_text=lambda kind=kind, i=i: f"{kind} number {i}",
    )


def load_checkerboard_events(store, catalog: TinyCatalog, interactions: Interactions | None = None) -> None:
    """Write the checkerboard users as purchase events (one second apart)."""
    data = interactions or checkerboard_interactions()
    t = 1_700_000_000.0
    events = []
    for u, seq in enumerate(data.sequences):
        for pos, row in enumerate(seq):
            events.append({"event_id": f"cb:{u}:{pos}", "user_id": f"u{u}", "item_id": catalog.ids[int(row)],
                           "type": "purchase", "timestamp": t})
            t += 1.0
    store.add_many(events)
