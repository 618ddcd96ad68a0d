"""What the merchant lab shows and the demo's first screen offers, as plain data (no gradio, no pandas).

    LatencyLog                 in-memory ring buffer of endpoint latencies -> p50 / p99 per endpoint
    catalog_facets(catalog)    brands, colours, product types, attributes found in the products
    catalog_health(catalog)    products, share with price / brand / category / description, facets, duplicates
    example_requests(catalog)  clickable first requests that work on this catalog
    model_report(manifest)     NDCG@10 / HR@10 per model + fusion, anchors, fusion weights, when trained
    live_activity(events)      events per minute by type, active shoppers, latest events
    query_insights(messages)   top queries, zero / few-result queries, words the parser could not place

`catalog_facets` is the ONE place the lab and the examples read facet values from; when
retrieval/facets.py (issue 16a) stores facets with the catalog version, it becomes a call to that.
"""
from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Iterable, Sequence

from assistant import lexicon
from assistant.intent import DEFAULT_MIN_CONFIDENCE
from assistant.rules import parse_rules
from retrieval.facets import COLOURS

# ------------------------------------------------------------------------------ latency
ENDPOINTS = ("/chat", "chat (UI)", "/recommend", "/event", "/search")


class LatencyLog:
    """The last `capacity` request latencies in memory (thread-safe); nothing leaves the process."""

    def __init__(self, capacity: int = 20_000):
        self._items: deque[tuple[float, str, float]] = deque(maxlen=int(capacity))
        self._lock = threading.Lock()

    def record(self, endpoint: str, ms: float, at: float | None = None) -> None:
        with self._lock:
            self._items.append((time.time() if at is None else float(at), str(endpoint), float(ms)))

    def summary(self, minutes: float = 15, now: float | None = None) -> list[dict]:
        """[{endpoint, n, p50_ms, p99_ms}] over the last `minutes`, in ENDPOINTS order (others after)."""
        now = time.time() if now is None else now
        since = now - minutes * 60
        with self._lock:
            recent = [(e, ms) for t, e, ms in self._items if t >= since]
        by: dict[str, list[float]] = {}
        for endpoint, ms in recent:
            by.setdefault(endpoint, []).append(ms)
        order = [e for e in ENDPOINTS if e in by] + sorted(e for e in by if e not in ENDPOINTS)
        return [{"endpoint": e, "n": len(by[e]), "p50_ms": round(percentile(by[e], 50), 1),
                 "p99_ms": round(percentile(by[e], 99), 1)} for e in order]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    if not values:
        raise ValueError("Expected at least one value, got none")
    if not 0 <= q <= 100:
        raise ValueError(f"Expected q between 0 and 100, got {q}")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))          # ceil(n * q / 100), at least 1
    return float(ordered[int(rank) - 1])


# ------------------------------------------------------------------------------ facets
def _phrase_re(terms: Iterable[str]) -> re.Pattern:
    alts = sorted({t.lower() for t in terms if t}, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(" + "|".join(map(re.escape, alts)) + r")(?![a-z0-9])")


_TYPES_RE = _phrase_re(lexicon.PRODUCTS_EN)
_COLORS_RE = _phrase_re(COLOURS)   # title words, as retrieval.facets reads them
_ATTRS_RE = _phrase_re(lexicon.ATTRIBUTES_EN)
# ingredients / features a shopper plausibly asks to leave out ("shampoo without sulfate")
EXCLUDABLE = ("fragrance", "sulfate", "paraben", "alcohol", "silicone", "glitter", "fluoride", "gluten",
              "leather", "wool", "plastic")
_EXCLUDABLE_RE = re.compile(r"(?<![a-z])(" + "|".join(EXCLUDABLE) + r")s?(?![a-z])")


@dataclass
class Facets:
    brands: Counter          # brand -> products
    types: Counter           # canonical product type (lexicon) -> products whose title names it
    colors: Counter          # canonical colour -> products
    attributes: Counter      # canonical attribute -> products
    type_terms: dict         # type -> Counter of (kind, term) among its products: colours, excludable words
    brand_types: dict        # brand -> Counter of types


_FACETS_CACHE: dict[tuple, Facets] = {}


def catalog_facets(catalog) -> Facets:
    """Facet values found in the products (cached per catalog object and size)."""
    key = (getattr(catalog, "name", None), id(catalog), len(catalog.products))
    cached = _FACETS_CACHE.get(key)
    if cached is not None:
        return cached
    brands, types, colors, attrs = Counter(), Counter(), Counter(), Counter()
    type_terms: dict[str, Counter] = {}
    brand_types: dict[str, Counter] = {}
    for p in catalog.products:
        title = (p.title or "").lower()
        text = f"{title} {(p.description or '')[:300].lower()}"
        ptypes = {lexicon.PRODUCTS_EN[m] for m in _TYPES_RE.findall(title)}
        if not ptypes and p.category:
            ptypes = {lexicon.PRODUCTS_EN[m] for m in _TYPES_RE.findall(p.category.lower())}
        pcolors = {COLOURS[m] for m in _COLORS_RE.findall(title)}
        pattrs = {lexicon.ATTRIBUTES_EN[m] for m in _ATTRS_RE.findall(text)}
        pfree = set(_EXCLUDABLE_RE.findall(text))
        types.update(ptypes)
        colors.update(pcolors)
        attrs.update(pattrs)
        for t in ptypes:
            type_terms.setdefault(t, Counter()).update({("color", c) for c in pcolors} |
                                                       {("ingredient", x) for x in pfree})
        if p.brand:
            brands[p.brand] += 1
            brand_types.setdefault(p.brand, Counter()).update(ptypes)
    facets = Facets(brands, types, colors, attrs, type_terms, brand_types)
    if len(_FACETS_CACHE) > 32:
        _FACETS_CACHE.clear()
    _FACETS_CACHE[key] = facets
    return facets


def _norm_title(title: str) -> str:
    return " ".join(re.findall(r"\w+", (title or "").lower()))


def catalog_health(catalog, top: int = 15) -> dict:
    """Counts and shares for one catalog; every list is sorted by count, most first."""
    products = list(catalog.products)
    n = len(products)

    def share(pred) -> float:
        return round(sum(1 for p in products if pred(p)) / n, 4) if n else 0.0

    shares = {"price": share(lambda p: p.price is not None), "brand": share(lambda p: bool(p.brand)),
              "category": share(lambda p: bool(p.category)),
              "description": share(lambda p: bool((p.description or "").strip()))}
    titles = Counter(_norm_title(p.title) for p in products)
    dupes = [(t, c) for t, c in titles.most_common() if c > 1 and t]
    f = catalog_facets(catalog)
    return {"catalog": getattr(catalog, "name", ""), "products": n, "shares": shares,
            "brands": f.brands.most_common(top), "n_brands": len(f.brands),
            "colors": f.colors.most_common(top), "types": f.types.most_common(top),
            "attributes": f.attributes.most_common(top),
            "categories": Counter(p.category for p in products if p.category).most_common(top),
            "duplicate_titles": dupes[:top], "n_duplicate_titles": sum(c - 1 for _, c in dupes)}


# ------------------------------------------------------------------------------ first requests
_ZH_TYPES: dict[str, str] = {}
for _zh, _en in lexicon.PRODUCTS_ZH.items():
    _ZH_TYPES.setdefault(_en, _zh)
EXAMPLE_KINDS = ("type", "brand", "exclusion", "follow-up", "Chinese")


def _with_article(product_type: str) -> str:
    """ "a lipstick", "an eyeliner", "shoes" (plurals and mass nouns ending in -s take none)."""
    if product_type.endswith("s") and not product_type.endswith("ss"):
        return product_type
    return ("an " if product_type[:1] in "aeiou" else "a ") + product_type


def example_requests(catalog, priced_share: float | None = None) -> list[tuple[str, str]]:
    """[(kind, message)]: one request per kind that this catalog can answer (kinds it cannot are
    left out: no brand example without brands). The follow-up is meant after one of the others."""
    f = catalog_facets(catalog)
    if priced_share is None:
        products = list(catalog.products)
        priced_share = sum(p.price is not None for p in products) / max(1, len(products))
    out: list[tuple[str, str]] = []
    types = [t for t, c in f.types.most_common(12) if c >= 2]
    # a kind of product first ("a moisturizer"), departments ("skin care") only when there is nothing else
    types = [t for t in types if t not in lexicon.BROAD_PRODUCTS] + [t for t in types if t in lexicon.BROAD_PRODUCTS]
    if types:
        top = types[0]
        out.append(("type", _with_article(top)))
    brand = next(((b, bt.most_common(1)[0][0]) for b, _ in f.brands.most_common(20)
                  if (bt := f.brand_types.get(b)) and bt), None)
    if brand:
        out.append(("brand", f"{brand[0]} {brand[1]}"))
    exclusion = None
    for t in types:   # a brand exclusion where a type has several brands ("lipstick, not Maybelline")
        type_brands = Counter({b: bt[t] for b, bt in f.brand_types.items() if bt.get(t)})
        if len(type_brands) >= 2:
            exclusion = f"{t}, not {type_brands.most_common(1)[0][0]}"
            break
    for t in types if exclusion is None else ():
        n_type = f.types[t]
        # a colour (or ingredient) some but not most of this type's products have: excluding it leaves a choice
        term = next(((kind, x) for (kind, x), c in f.type_terms.get(t, Counter()).most_common()
                     if 1 <= c <= 0.6 * n_type), None)
        if term:
            exclusion = f"{t}, not {term[1]}" if term[0] == "color" else f"{t} without {term[1]}"
            break
    if exclusion:
        out.append(("exclusion", exclusion))
    if out:
        out.append(("follow-up", "something cheaper" if priced_share >= 0.5 else "more like the second one"))
    zh = next(((t, _ZH_TYPES[t]) for t in types if t in _ZH_TYPES), None)
    if zh:
        out.append(("Chinese", f"推荐一款{zh[1]}"))
    return out


# ------------------------------------------------------------------------------ model report
def model_report(manifest: dict | None, anchors: dict | None = None) -> dict:
    """The live bundle's manifest -> plot rows. anchors: {label: (HR@10, NDCG@10)} drawn as
    reference values (published figures for the same dataset), or None."""
    if not manifest:
        return {"trained": False, "metrics": [], "weights": [], "anchors": []}
    metrics = []
    for name, entry in (manifest.get("validation") or {}).items():
        for metric, key in (("NDCG@10", "val_ndcg@10"), ("HR@10", "val_hr@10")):
            if entry.get(key) is not None:
                metrics.append({"model": name, "metric": metric, "value": float(entry[key]),
                                "source": "this bundle (validation)"})
    if manifest.get("fusion_val_ndcg@10") is not None:
        metrics.append({"model": "fusion", "metric": "NDCG@10", "value": float(manifest["fusion_val_ndcg@10"]),
                        "source": "this bundle (validation)"})
    anchor_rows = []
    for label, (hr, nd) in (anchors or {}).items():
        short = label.replace(", published", "")
        anchor_rows.append({"model": short, "metric": "NDCG@10", "value": float(nd), "source": "published anchor"})
        anchor_rows.append({"model": short, "metric": "HR@10", "value": float(hr), "source": "published anchor"})
    weights = [{"model": k, "weight": float(v)} for k, v in (manifest.get("weights") or {}).items()]
    trained_at = manifest.get("trained_at")
    return {"trained": True, "metrics": metrics, "anchors": anchor_rows, "weights": weights,
            "version": manifest.get("version", ""),
            "trained_at": (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(trained_at)) if trained_at is not None else None),
            "n_events": manifest.get("n_events"), "n_users": manifest.get("n_users"),
            "n_items": manifest.get("n_items"), "models": list(manifest.get("models") or [])}


# ------------------------------------------------------------------------------ live activity
def live_activity(events: Sequence, minutes: int = 30, now: float | None = None, latest_n: int = 12) -> dict:
    """events: Event objects newest first (EventStore.latest). Only events of the last `minutes`."""
    now = time.time() if now is None else now
    since = now - minutes * 60
    recent = [e for e in events if float(e.timestamp) >= since]
    per_minute: Counter = Counter()
    for e in recent:
        per_minute[(int(float(e.timestamp) // 60) * 60, e.type)] += 1
    rows = [{"minute": m, "type": t, "events": c} for (m, t), c in sorted(per_minute.items())]
    latest = [{"time": time.strftime("%H:%M:%S", time.gmtime(float(e.timestamp))), "user": e.user_id,
               "type": e.type, "item": e.item_id or "", "value": "" if e.value is None else str(e.value)[:60]}
              for e in recent[:latest_n]]
    return {"minutes": minutes, "per_minute": rows, "n_events": len(recent),
            "active_shoppers": len({e.user_id for e in recent}),
            "by_type": Counter(e.type for e in recent).most_common(), "latest": latest}


# ------------------------------------------------------------------------------ query insights
_RESULT_LINE = re.compile(r"^\d+\. ", re.M)   # engine._reply_text numbers each product line


def query_insights(messages: Sequence, search_queries: Sequence[str] = (), brands: Iterable[str] | None = None,
                   few: int = 2, top: int = 15) -> dict:
    """messages: stored chat messages (ChatLog.recent, oldest first, redacted); search_queries: the
    text of stored `search` events. A chat query's result count is read from the stored reply
    (its numbered product lines); "needs the LLM" = the rules were not confident alone, which is when
    the engine calls the LLM (if one is configured)."""
    brands = list(brands or [])
    turns: list[tuple[str, int | None]] = []
    pending: dict[str, int] = {}
    for m in messages:
        if m.role == "user":
            pending[m.session_id] = len(turns)
            turns.append((m.text, None))
        elif m.role == "assistant" and m.session_id in pending:
            i = pending.pop(m.session_id)
            turns[i] = (turns[i][0], len(_RESULT_LINE.findall(m.text)))
    queries = [q for q, _ in turns] + list(search_queries)
    norm = Counter(" ".join(q.lower().split()) for q in queries if q and q.strip())
    results: dict[str, int] = {}
    for q, n in turns:
        if n is not None:
            results[" ".join(q.lower().split())] = n
    zero_few = [{"query": q, "results": n, "times": norm[q]} for q, n in results.items() if n <= few]
    zero_few.sort(key=lambda r: (r["results"], -r["times"], r["query"]))
    unplaced: Counter = Counter()
    needs_llm = 0
    for q in norm:
        parse = parse_rules(q, brands=brands)
        unplaced.update(set(parse.unknown))
        if parse.confidence < DEFAULT_MIN_CONFIDENCE:
            needs_llm += norm[q]
    total = sum(norm.values())
    return {"n_queries": total, "n_chat": len(turns), "n_search": len(search_queries),
            "top_queries": norm.most_common(top), "zero_or_few": zero_few[:top],
            "unplaced": unplaced.most_common(top),
            "llm_share": round(needs_llm / total, 4) if total else 0.0}


def component_bars(product: dict | None) -> list[dict]:
    """"Why this rank": one row per score component of a lab result (value as fused into its score)."""
    if not product:
        return []
    return [{"component": k, "value": float(v)} for k, v in (product.get("components") or {}).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)]


