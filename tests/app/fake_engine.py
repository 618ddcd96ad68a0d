"""A tiny in-memory stand-in for assistant.engine.Engine (same public methods, same JSON shapes).

Used by the handler unit tests and the fast UI tests; the end-to-end tests use the real Engine.
tests/app/test_fake_engine.py keeps its signatures equal to Engine's for every method the app calls.
"""
from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

from assistant.errors import UserError
from assistant.insights import LatencyLog

EVENT_TYPES = ("view", "click", "cart", "purchase", "rating", "search")

PRODUCTS = [
    {"id": "p1", "title": "Gentle Foaming Cleanser", "price": 12.5, "currency": "USD",
     "brand": "CeraVe", "category": "cleanser"},
    {"id": "p2", "title": "Hydrating Face Cream", "price": 24.0, "currency": "USD",
     "brand": "Neutrogena", "category": "moisturizer"},
    {"id": "p3", "title": "<b>Bold</b> **Serum** <script>alert(1)</script>", "price": None,
     "currency": None, "brand": "Evil & Co", "category": "serum"},
    {"id": "p4", "title": "Vitamin C Serum", "price": 30.0, "currency": "EUR",
     "brand": "TruSkin", "category": "serum"},
    {"id": "p5", "title": "Night Repair Cream", "price": 45.0, "currency": "USD",
     "brand": "Olay", "category": "moisturizer"},
]


@dataclass
class FakeChatResult:
    reply: str
    products: list = field(default_factory=list)
    intent: dict = field(default_factory=dict)
    timings_ms: dict = field(default_factory=dict)
    pending: bool = False   # issue 16b's contract: the engine is still refining this result


class FakeEngine:
    def __init__(self, products=None):
        self.products = {p["id"]: dict(p) for p in (products or PRODUCTS)}
        self.events: list[dict] = []
        self._ids = itertools.count(1)
        self.imported: list[dict] = []
        self._catalogs = ["beauty"]
        self.chat_calls: list[tuple] = []   # (user_id, session_id) of every chat turn
        self.latency = LatencyLog()
        self.manifest: dict | None = None    # what model_manifest returns (None = never trained)
        self.chat_messages: list = []         # what recent_chat returns (ChatMessage-like objects)

    class settings:  # noqa: N801 - mimics Settings.default_catalog
        default_catalog = "beauty"

    # ---------------------------------------------------------------- helpers
    def _check_catalog(self, catalog):
        if catalog is not None and catalog not in self._catalogs:
            raise UserError(f"Unknown catalog {catalog!r}; available: {', '.join(self._catalogs)}")

    def _product(self, p, score, comps, why):
        return {"id": p["id"], "title": p["title"], "price": p["price"], "currency": p["currency"],
                "brand": p["brand"], "score": score, "components": comps, "why": why}

    def _search(self, query, k):
        terms = set(re.findall(r"\w+", query.lower()))
        scored = []
        for p in self.products.values():
            words = set(re.findall(r"\w+", (p["title"] + " " + p["category"]).lower()))
            overlap = len(terms & words)
            if overlap:
                scored.append((overlap, p))
        scored.sort(key=lambda x: (-x[0], x[1]["id"]))
        return [self._product(p, float(s), {"lexical": float(s)}, f"matches '{query}'")
                for s, p in scored[:k]]

    # ---------------------------------------------------------------- Engine API
    def prepare(self, progress=print, train=True, warm=True):
        progress("fake prepare")

    def catalogs(self):
        return list(self._catalogs)

    def catalog(self, name=None):
        self._check_catalog(name)
        products = [SimpleNamespace(description="", **{k: p.get(k) for k in
                                                       ("id", "title", "brand", "category", "price")})
                    for p in self.products.values()]
        return SimpleNamespace(name=name or "beauty", products=products)

    def model_manifest(self, catalog=None):
        self._check_catalog(catalog)
        return self.manifest

    def model_anchors(self, catalog=None):
        return None

    def recent_events(self, limit=5000):
        return [SimpleNamespace(user_id=e["user_id"], item_id=e["item_id"], type=e["type"], timestamp=e["ts"],
                                value=e["value"]) for e in reversed(self.events)][:limit]

    def recent_chat(self, limit=2000):
        return list(self.chat_messages)[-limit:]

    def demo_users(self, n=20, catalog=None):
        return [{"user_id": "A1DEMO", "n_events": 3, "recent": ["Hydrating Face Cream", "Olay <cream>"]}][:n]

    def chat_stream(self, message, user_id=None, session_id=None, catalog=None):
        self._check_catalog(catalog)
        self.chat_calls.append((user_id, session_id))
        if not message or not message.strip():
            raise UserError("Expected a non-empty message")
        products = self._search(message, 3)
        reply = f"Here are {len(products)} options." if products else "Sorry, nothing matched."
        words = reply.split(" ")
        for i in range(1, len(words)):
            yield FakeChatResult(" ".join(words[:i]))
        yield FakeChatResult(reply, products, {"action": "search", "search_text": message},
                             {"parse": 1.0, "retrieval": 2.0})

    def chat(self, message, user_id=None, session_id=None, catalog=None):
        *_, last = self.chat_stream(message, user_id, session_id, catalog)
        return last

    def recommend(self, user_id=None, query=None, k=10, catalog=None, filters=None):
        self._check_catalog(catalog)
        if not 1 <= k <= 100:
            raise UserError(f"Expected k to be an integer between 1 and 100, got {k}")
        mine = [e for e in self.events if e["user_id"] == user_id]
        cats = {self.products[e["item_id"]]["category"] for e in mine}
        seen = {e["item_id"] for e in mine}
        out = []
        for p in self.products.values():
            if p["id"] in seen:
                continue
            affinity = 1.0 if p["category"] in cats else 0.0
            pop = 0.1 * sum(e["item_id"] == p["id"] for e in self.events)
            out.append(self._product(p, affinity + pop, {"affinity": affinity, "popularity": pop},
                                     "similar to what you liked" if affinity else "popular"))
        out.sort(key=lambda d: (-d["score"], d["id"]))
        return out[:k]

    def search(self, query, k=10, filters=None, catalog=None):
        self._check_catalog(catalog)
        return self._search(query, k)

    def record_event(self, user_id, item_id, type, event_id=None, value=None, catalog=None):
        self._check_catalog(catalog)
        if type not in EVENT_TYPES:
            raise UserError(f"Unknown event type {type!r}; accepted: {', '.join(EVENT_TYPES)}")
        if item_id not in self.products:
            raise UserError(f"Unknown item {item_id!r} in catalog 'beauty'")
        duplicate = event_id is not None and any(e["event_id"] == event_id for e in self.events)
        event_id = event_id or f"e{next(self._ids)}"
        if not duplicate:
            self.events.append({"user_id": user_id, "item_id": item_id, "type": type,
                                "event_id": event_id, "value": value, "ts": time.time()})
        return {"ok": True, "event_id": event_id, "duplicate": duplicate, "user_id": user_id,
                "item_id": item_id, "type": type}

    def lab(self, query, user_id=None, k=10, catalog=None):
        self._check_catalog(catalog)
        plain = self._search(query, k)
        pers = self.recommend(user_id, k=k) if user_id else plain
        return {"intent": {"action": "search", "search_text": query}, "personalised": pers,
                "plain": plain, "timings_ms": {"parse": 0.5, "retrieval": 1.5, "ranking": 0.7}}

    def import_catalog(self, path, name, mapping=None, skip_bad_rows=False, progress=None):
        if progress:
            progress("reading")
            progress(1, 2)
            progress(2, 2)
        self.imported.append({"path": path, "name": name, "mapping": mapping})
        if name not in self._catalogs:
            self._catalogs.append(name)
        return {"name": name, "n_imported": 2, "n_duplicates": 1,
                "errors": ["row 3: price 'abc' is not a number"]}
