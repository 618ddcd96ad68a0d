"""The one Engine: owns the stores and models, loads them once, and is what the app, the CLI,
the tests and the benchmarks call. Everything heavy is created lazily and shared between threads.

    chat(message)  ->  safety  ->  dialogue.resolve (rules -> LLM -> validate)  ->  search
                   ->  RecommendationService.recommend (fusion, rules)  ->  explain.why  ->  reply
"""
from __future__ import annotations

import logging
import queue
import statistics
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from assistant import safety
from assistant.arguments import MAX_K, MAX_TEXT_CHARS, check_filters, check_k, check_text, check_user
from assistant.dialogue import SessionStore, make_parser, resolve
from assistant.errors import UserError
from assistant.explain import answer_about, compare_products, summarize, why
from assistant.insights import LatencyLog
from assistant.intent import parse_intent
from assistant.llm import get_llm
from assistant.privacy import forget_user, open_chat_log, redact
from assistant.redis_sessions import RedisSessionStore
from assistant.settings import DATA_DIR, Settings
from ranking.bundle import bundle_root, current_version, read_manifest
from ranking.data import read_sequences, sequences_to_events
from ranking.evaluate import ANCHORS, BEAUTY_SHAPE
from ranking.events import EVENT_TYPES, EventValidationError
from ranking.fusion import mmr_order, same_label_similarity
from ranking.profile import RedisProfileStore
from ranking.stores import open_event_store
from ranking.service import RecommendationService
from ranking.train import TrainConfig, train_all
from retrieval.catalog import CatalogImportError, ColumnMapping, format_price
from retrieval.embedder import CJK, make_embedder, make_multilingual
from retrieval.facets import COLOURS, fold, resolve_type, type_key
from retrieval.filters import filter_index
from retrieval.registry import DEMO_NAME, CatalogNotFound, CatalogRegistry, ensure_demo_catalog
from retrieval.search import HybridSearcher, SearchFilters
from retrieval.store import make_chroma_client
from retrieval.variants import variant_groups

log = logging.getLogger(__name__)

MAX_SESSIONS = 10_000
CHAT_K = 5          # products per chat answer
HISTORY_SUPPORT = 0.2  # explain-view strength a behaviour component needs before "you bought X" is said
POOL = 200          # search candidates handed to the ranker
# A budget on a catalog where most products have no price: said once per conversation, then the
# answer goes on without the price limit.
NOTE_NO_PRICES = "no_prices"
NO_PRICE_NOTE = {"en": "(No prices in this catalog: budget ignored.) ",
                 "zh": "（此目录没有价格，已忽略预算。）"}
NO_PRICE_SORT_NOTE = {"en": "(No prices in this catalog: I can't order by price.) ",
                      "zh": "（此目录没有价格，无法按价格排序。）"}


@dataclass
class ListPolicy:
    """How a shown list is made worth reading (chat answers, recommend's new finds)."""
    # Collapse one product sold in several sizes / pack counts into one card with its variants.
    collapse_variants: bool = True
    # MMR trade-off for broad chat requests (no brand asked for, relevance order): 0 = none.
    diversity: float = 0.3
    # Weights of the pairwise similarity MMR penalises: same brand, same type, embedding cosine.
    same_brand: float = 0.4
    same_type: float = 0.3
    cosine: float = 0.3
    # Ranked items fetched per shown card, so that collapsing and re-ranking have room.
    pool_per_card: int = 4


@dataclass
class ChatResult:
    reply: str
    products: list[dict] = field(default_factory=list)
    intent: dict = field(default_factory=dict)
    timings_ms: dict = field(default_factory=dict)
    # True when the engine is still working on this turn after this result (the LLM is refining
    # the rules' fast reading): a later result replaces it. The last result of a turn has False.
    pending: bool = False

    def to_dict(self) -> dict:
        return {"reply": self.reply, "products": self.products, "intent": self.intent,
                "timings_ms": self.timings_ms, "pending": self.pending}


class Engine:
    def __init__(self, settings: Settings | None = None, *, llm=None, embedder=None):
        self.settings = settings or Settings.from_env()
        self._lock = threading.RLock()
        self._embedder = embedder
        self._llm = llm
        self._client = None
        self._registry = None
        self._events = None
        self._catalogs: dict[str, object] = {}
        self._searchers: dict[str, object] = {}
        self._services: dict[str, object] = {}
        self._brand_cache: dict[str, list[str]] = {}
        self._priced: dict[str, float] = {}
        self._chat_log = None
        self._prepare_lock = threading.Lock()
        self._prepared = False
        self.lists = ListPolicy()
        self._forgets_seen: int | None = None   # ChatLog.forgets() at the last chat turn
        if self.settings.redis_url:   # shared by every worker: any worker serves any turn
            self.sessions = RedisSessionStore(self.settings.redis_url)
        else:
            self.sessions = SessionStore(max_sessions=MAX_SESSIONS)
        self.latency = LatencyLog()   # per-endpoint latencies for the merchant lab (in memory only)

    # ---------------------------------------------------------------- lazy components
    @property
    def embedder(self):
        with self._lock:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings.embedder, self.settings.cache_dir)
            return self._embedder

    @property
    def registry(self):
        with self._lock:
            if self._registry is None:
                if self.settings.chroma_url:
                    try:
                        self._client = make_chroma_client(url=self.settings.chroma_url)
                    except Exception as exc:  # chromadb says "Could not connect" without the URL
                        raise UserError(
                            f"Could not reach the Chroma server at {self.settings.chroma_url} "
                            f"(--chroma-url / SHOPASSIST_CHROMA_URL): {exc}. Start it with "
                            f"`chroma run --path DIR --host 127.0.0.1 --port PORT`, or unset the URL to "
                            f"use the embedded store.") from None
                else:
                    self._client = make_chroma_client(path=self.settings.chroma_dir)
                self._registry = CatalogRegistry(self.settings.catalogs_dir, self._client, self.embedder)
            return self._registry

    @property
    def events(self):
        with self._lock:
            if self._events is None:
                self.settings.home.mkdir(parents=True, exist_ok=True)
                # an event must name a product of some loaded catalog (checked per catalog upstream)
                self._events = open_event_store(self.settings.events_db, known_items=self._known_item,
                                                database_url=self.settings.database_url)
            return self._events

    @property
    def llm(self):
        """The intent LLM (None = deterministic parser only). Loaded lazily on first use."""
        with self._lock:
            if self._llm is None:
                quant = None if self.settings.llm_quant == "auto" else self.settings.llm_quant
                self._llm = get_llm(self.settings, quant=quant) or False
            return self._llm or None

    @property
    def chat_log(self):
        with self._lock:
            if self._chat_log is None:
                self._chat_log = open_chat_log(self.settings.home, self.settings.database_url)
            return self._chat_log

    def _name(self, catalog: str | None) -> str:
        return check_text(catalog, "catalog", required=False) or self.settings.default_catalog

    def catalog(self, name: str | None = None):
        name = self._name(name)
        with self._lock:
            if name not in self._catalogs:
                try:
                    self._catalogs[name] = self.registry.load(name)
                except CatalogNotFound:
                    raise UserError(f"Unknown catalog {name!r}; available: "
                                    f"{', '.join(self.catalogs()) or 'none'}") from None
            return self._catalogs[name]

    def searcher(self, name: str | None = None):
        name = self._name(name)
        with self._lock:
            if name not in self._searchers:
                self._searchers[name] = self.registry.searcher(name, multilingual=self._multilingual()) \
                    if name not in self._catalogs else self._make_searcher(self._catalogs[name])
            return self._searchers[name]

    def _make_searcher(self, catalog):
        return HybridSearcher.for_catalog(catalog, self.embedder, self.registry, multilingual=self._multilingual())

    def _multilingual(self):
        """The multilingual encoder for CJK queries (None with the hashing fake or without its wheel)."""
        return make_multilingual(self.settings.embedder, self.settings.cache_dir)

    def service(self, name: str | None = None):
        name = self._name(name)
        with self._lock:
            if name not in self._services:
                # live profiles shared by every worker (Redis), else in this process
                profiles = (RedisProfileStore(self.settings.redis_url, name, store=self.events.location)
                            if self.settings.redis_url else None)
                self._services[name] = RecommendationService(self.catalog(name), self.events,
                                                             self.settings.models_dir, profiles=profiles)
            return self._services[name]

    def _known_item(self, item_id: str) -> bool:
        for catalog in list(self._catalogs.values()):   # called once per imported event: a plain loop
            if item_id in catalog.index:
                return True
        return False

    # ---------------------------------------------------------------- lifecycle
    def prepare(self, progress: Callable[[str], None] = print, train: bool = True, warm: bool = True) -> None:
        """First run: import the bundled demo catalog, load the demo shoppers' history and train
        the fast models (popularity, item-kNN, ALS, content). Quick when already done.
        The SASRec model is trained by `shopassist train` (minutes on a CPU); the running app
        picks up a newly trained bundle by itself. warm: load what the first request would load
        (searcher, embedding model, recommenders, intent LLM) in a background thread (`warm_up`)."""
        with self._prepare_lock:
            if self._prepared:
                return

            t0 = time.perf_counter()
            if not self.settings.demo:   # a deployment's own catalog: trained by `shopassist train`
                self.catalog(self.settings.default_catalog)
                self._prepared = True
                progress(f"Ready ({time.perf_counter() - t0:.0f} s; no demo catalog).")
                if warm:
                    self.warm_up()
                return
            summary = ensure_demo_catalog(self.registry, DATA_DIR, progress=progress)
            if summary is not None:
                progress(f"Demo catalog imported: {summary.n_imported:,} products "
                         f"in {time.perf_counter() - t0:.0f} s")
            catalog = self.catalog(DEMO_NAME)
            if not self._demo_events_loaded():
                progress("Loading the demo shoppers' history (Amazon Beauty, 198,502 events) ...")
                seqs = read_sequences(DATA_DIR / "beauty" / "sequences.txt.gz")
                result = self.events.add_many(sequences_to_events(seqs, source=DEMO_SOURCE), skip_invalid=True)
                # the marker, not a shopper's presence, says "loaded": forgetting any shopper of the
                # demo (the first one included) must never bring their events back at the next start
                self.events.set_marker(DEMO_MARKER, f"{result.inserted} events, {time.time():.0f}")
            if train:
                if current_version(bundle_root(self.settings.models_dir, DEMO_NAME)) is None:
                    progress("Training the recommendation models (first run only, about a minute) ...")
                    train_all(catalog, self.events, self.settings.models_dir,
                              TrainConfig(models=FAST_MODELS), progress=progress)
            self._prepared = True
            progress(f"Ready ({time.perf_counter() - t0:.0f} s).")
        if warm:
            self.warm_up()

    def warm_up(self) -> threading.Thread:
        """Load, in a background thread, what the first request would otherwise wait for.

        Measured on 2 CPU cores (benchmarks/README.md, "App performance"): the first chat turn after
        the app started took 8 s with `--llm none` (embedding model, BM25 index, recommenders), and
        13 s (qwen-0.5b) / 28 s (qwen-1.5b) more when it needed the LLM, past the parse budget, so
        that turn fell back to the rules. One thread, search first and the LLM after it: on 2 cores
        the embedder and llama.cpp slow each other down. Failures only log (the lazy load stays)."""
        def run() -> None:
            try:
                name = self._name(None)
                searcher = self.searcher(name)
                searcher.candidate_pool("warm up", 10)              # MiniLM, BM25 index, Chroma
                searcher.filter_index                               # filter arrays: ~100 ms at the first filtered query
                self.service(name).recommend(None, k=1)             # model bundle
                if searcher.multilingual is not None:               # CJK search: catalog texts through USE v3
                    searcher.multilingual_matrix()                  # (once per text, then the embedding cache)
            except Exception as exc:  # noqa: BLE001 - the first request reports it as before
                log.warning("warm-up of the catalog %r skipped: %s", self.settings.default_catalog, exc)
            if self._llm is None and self.settings.llm == "none":
                return
            try:
                llm = self.llm
                warmup = getattr(llm, "warmup", None)
                if llm is not None and callable(warmup) and not getattr(llm, "loaded", False):
                    warmup()
            except Exception as exc:  # noqa: BLE001
                log.warning("LLM warm-up failed: %s", exc)

        thread = threading.Thread(target=run, name="shopassist-warm-up", daemon=True)
        thread.start()
        return thread

    def _demo_events_loaded(self) -> bool:
        if self.events.marker(DEMO_MARKER) is not None:
            return True
        if self.events.has_event_id_prefix(f"{DEMO_SOURCE}:"):
            # a home from before the marker: the demo's own event ids say it was loaded
            self.events.set_marker(DEMO_MARKER, "found demo events")
            return True
        return False

    def catalogs(self) -> list[str]:
        return [info.name for info in self.registry.list()]

    def demo_users(self, n: int = 20, catalog: str | None = None) -> list[dict]:
        """Real shoppers of the bundled dataset with the most history, with a few recent items."""
        cat = self.catalog(catalog)
        out = []
        for user_id, count in self.events.top_users(n):
            recent = [e.item_id for e in self.events.user_events(user_id)[-3:]]
            titles = [cat.get(i).title for i in recent if i in cat.index]
            out.append({"user_id": user_id, "n_events": count, "recent": titles})
        return out

    # ---------------------------------------------------------------- product JSON
    def _product_json(self, catalog, item_id: str, score: float, components: dict, why: str = "",
                      variants: Sequence[str] = ()) -> dict:
        """A shown product; `variants`: ids of the same product in other sizes / pack counts."""
        p = catalog.get(item_id)
        return {"id": p.id, "title": p.title, "price": p.price, "currency": p.currency, "brand": p.brand,
                "category": p.category, "rating": p.rating, "url": p.url,
                "score": round(float(score), 4),
                "components": {k: round(float(v), 4) for k, v in components.items()}, "why": why,
                "variants": [{"id": v.id, "title": v.title, "price": v.price}
                             for v in (catalog.get(i) for i in variants)]}

    # ---------------------------------------------------------------- search
    def search(self, query: str, k: int = 10, filters: dict | None = None, catalog: str | None = None) -> list[dict]:
        """Hybrid (dense + BM25) search with hard filters; no personalisation."""
        k = check_k(k)
        query = check_text(query, "query", max_chars=MAX_TEXT_CHARS)
        filters = check_filters(filters)
        cat = self.catalog(catalog)
        hits = self.searcher(catalog).search(query, k=k, filters=filters)

        return [self._product_json(cat, h.id, h.score, h.components, why(h, cat))
                for h in hits]

    # ---------------------------------------------------------------- events
    def record_event(self, user_id, item_id, type, event_id=None, value=None, catalog: str | None = None) -> dict:
        """Durably store one behaviour event; the user's next recommendation reflects it."""
        user_id = check_user(user_id, required=True)

        if type not in EVENT_TYPES:
            raise UserError(f"Expected type to be one of {', '.join(EVENT_TYPES)}, got {type!r}")
        cat = self.catalog(catalog)
        if type != "search":
            if not isinstance(item_id, str) or item_id not in cat.index:
                raise UserError(f"Unknown item_id {item_id!r} in catalog {cat.name!r}: expected the id of a "
                                f"catalog product (see /search)")
        if type == "search" and isinstance(value, str):
            value = redact(value)   # search text is stored: no emails / phones / card numbers
        event = {"user_id": user_id, "item_id": item_id or None, "type": type, "timestamp": time.time(),
                 "value": value}
        if event_id not in (None, ""):
            event["event_id"] = str(event_id)
        try:
            ack = self.service(catalog).record(event)
        except EventValidationError as exc:
            raise UserError(str(exc)) from None
        return {"ok": True, "event_id": ack.event_id, "duplicate": ack.duplicate, "user_id": user_id,
                "item_id": item_id, "type": type}

    # ---------------------------------------------------------------- recommendations
    def recommend(self, user_id=None, query: str | None = None, k: int = 10, catalog: str | None = None,
                  filters: dict | None = None) -> list[dict]:
        """Personal top-k for the user (anonymous when None), optionally within a query's results."""
        k = check_k(k)
        user_id = check_user(user_id)
        filters = check_filters(filters)
        cat = self.catalog(catalog)
        intent = None
        candidates = None
        if query is not None and str(query).strip():
            candidates = self.searcher(catalog).candidate_pool(str(query), POOL, filters)
        owned = self._owned(user_id)
        n = k * self.lists.pool_per_card + len(owned)
        items = self.service(catalog).recommend(user_id, k=min(n, MAX_K * 2), candidates=candidates, filters=filters)
        # new finds: nothing the shopper has in the cart or bought, nor another size of it
        items = self._not_owned(cat, items, owned, with_variants=True)
        cards, variants = self._cards(cat, items, k)
        return self._explained(cat, cards, candidates, intent, variants=variants)

    def _owned(self, user_id) -> set[str]:
        """Items the shopper put in the cart or bought (recent history): never offered as new finds."""
        if not user_id:
            return set()
        return {e.item_id for e in self.events.user_events(user_id)[-MAX_K:]
                if e.type in ("cart", "purchase") and e.item_id}

    def _not_owned(self, cat, items, owned: set[str], with_variants: bool = False) -> list:
        items = [it for it in items if it.item_id not in owned]
        if not with_variants or not owned or not self.lists.collapse_variants:
            return items
        mine = [cat.get(i) for i in owned if i in cat.index]
        groups = variant_groups(mine + [cat.get(it.item_id) for it in items], _DISTINCT_WORDS)
        theirs = {j - len(mine) for g in groups if any(i < len(mine) for i in g) for j in g if j >= len(mine)}
        return [it for n, it in enumerate(items) if n not in theirs]

    def _cards(self, cat, items, k: int, varied: str = "") -> tuple[list, dict[str, list[str]]]:
        """The k cards of a ranked list: one card per product (its other sizes / pack counts become
        the card's variants, the best placed one leads), then for `varied` = "all" an MMR re-rank
        over brand, type and embedding similarity so that a broad request is not five of one
        thing; "brands" (the shopper named the product type): over brands only."""
        products = [cat.get(it.item_id) for it in items]
        if self.lists.collapse_variants:
                groups = variant_groups(products, _DISTINCT_WORDS)
        else:
            groups = [[i] for i in range(len(items))]
        variants = {items[g[0]].item_id: [items[j].item_id for j in g[1:]] for g in groups}
        heads = [g[0] for g in groups]
        if varied and self.lists.diversity > 0 and len(heads) > k:
            sim = self._list_similarity(cat, [products[i] for i in heads], brands_only=varied == "brands")
            off = sim[~np.eye(len(heads), dtype=bool)]
            if off.size and off.max() > off.min():   # one brand only (Adidas): nothing to vary, keep the order
                order = mmr_order(np.array([items[i].score for i in heads], dtype=np.float64), sim, k,
                                  self.lists.diversity)
                heads = [heads[int(i)] for i in order]
        return [items[i] for i in heads[:k]], variants

    def _list_similarity(self, cat, products, brands_only: bool = False) -> "np.ndarray":
        p = self.lists
        sim = p.same_brand * same_label_similarity([x.brand for x in products])
        if brands_only:
            return sim
        sim += p.same_type * same_label_similarity([x.category for x in products])
        emb = getattr(cat, "embeddings", None)
        if emb is not None and p.cosine:
            v = np.asarray(emb[[cat.index[x.id] for x in products]], dtype=np.float64)
            v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
            sim += p.cosine * np.clip(v @ v.T, 0.0, 1.0)
        return sim

    def _explained(self, cat, items, candidates, intent, price_max=None, variants: dict | None = None) -> list[dict]:
        hits = {h.id: h for h in (candidates or [])}
        out = []
        for it in items:
            hit = hits.get(it.item_id)
            shown = dict(it.components)
            view = _explain_view(it.components, hit, cat.get(it.item_id), price_max)
            matched = hit.matched_terms if hit is not None else []
            if hit is not None:
                shown.update({"dense": hit.components.get("dense", 0.0),
                              "lexical": hit.components.get("lexical", 0.0)})
            evidence = dict(it.evidence)
            if evidence.get("co_bought") == evidence.get("history_item"):
                evidence.pop("co_bought", None)   # "you bought X" already says it
            if not _history_lifted(it.components, view, evidence):
                # the history item did not itself lift this product: do not cite it
                evidence.pop("history_item", None)
                evidence.pop("co_bought", None)
            proxy = _WhyItem(it.item_id, view, evidence, matched)
            out.append(self._product_json(cat, it.item_id, it.score, shown, why(proxy, cat, intent),
                                          (variants or {}).get(it.item_id, ())))
        return out

    # ---------------------------------------------------------------- chat
    def chat(self, message, user_id=None, session_id=None, catalog: str | None = None) -> ChatResult:
        result = None
        for result in self._chat_turn(message, user_id, session_id, catalog):
            pass
        return result

    def chat_stream(self, message, user_id=None, session_id=None, catalog: str | None = None) -> Iterator[ChatResult]:
        """`_chat_turn`'s results, the turn itself run in one thread of its own: a consumer such as
        Gradio resumes a generator on whichever worker thread is free, and the turn holds its
        session's lock across its yields (a lock must be released by the thread that took it)."""
        out: queue.Queue = queue.Queue()

        def run() -> None:
            try:
                for result in self._chat_turn(message, user_id, session_id, catalog):
                    out.put(("result", result))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer's thread
                out.put(("error", exc))
            out.put(("done", None))

        threading.Thread(target=run, name="shopassist-chat-turn", daemon=True).start()
        while True:
            kind, value = out.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value

    def _chat_turn(self, message, user_id=None, session_id=None, catalog: str | None = None) -> Iterator[ChatResult]:
        """One chat turn. Yields the products first (with the summary line), then the full reply.

        When the intent LLM must run (the rules were not sure of their reading), the rules' fast
        reading is answered at once with its products, marked `pending=True` (the engine is still
        working), and the LLM's reading follows, searched again only when it differs. The last
        result yielded always has `pending=False`; `chat()` returns it.

        The rules parse the message once (in safety.check, with the catalog's brands); that parse
        goes on to the intent pipeline and the dialogue, and a product question reads its topic
        from the resolved intent."""
        if message is not None and not isinstance(message, str):
            raise UserError(f"Expected message to be a string, got {type(message).__name__}")
        user_id = check_user(user_id)
        sid = str(session_id) if session_id not in (None, "") else (f"user:{user_id}" if user_id else "anonymous")
        t0 = time.perf_counter()
        cat = self.catalog(catalog)
        verdict = safety.check(message, brands=self._brands(cat))
        if not verdict.ok:
            yield ChatResult(reply=verdict.reply or "", intent={"action": "chitchat", "safety": verdict.kind},
                             timings_ms={"total": _ms(t0)})
            return
        self._drop_forgotten_sessions()
        def lookup(item_id: str):   # a shared session remembers ids; a product gone from the catalog is left out
            return _ShownProduct(cat.products[cat.index[item_id]]) if item_id in cat.index else None

        with self.sessions.hold(sid, user_id, lookup) as session:
            # The shopper's message is stored with the reply in one transaction (one fsync a turn);
            # a turn without a stored reply (chitchat) stores it alone, and so does one that fails.
            asked = (sid, "user", verdict.message, user_id, time.time())
            logged = False
            try:
                timings: dict[str, float] = {}
                fast = turn = None
                for stage, intent in self._readings(verdict.message, session, cat, timings, verdict.parse):
                    if stage == "fast":
                        fast = self._respond(cat, intent, session, user_id, catalog, verdict.message)
                        timings["first_products"] = _ms(t0)
                        yield fast.result({**timings, **fast.timings}, pending=True)
                    else:
                        if fast is not None and fast.intent == intent:   # the LLM agreed: same answer
                            source = getattr(session.last_parse, "source", None)
                            turn = replace(fast, intent_json={**fast.intent_json, "_source": source})
                        else:
                            turn = self._respond(cat, intent, session, user_id, catalog, verdict.message)
                timings.update(turn.timings)
                if turn.kind == "search":
                    if turn.line.startswith(tuple(NO_PRICE_NOTE.values()) + tuple(NO_PRICE_SORT_NOTE.values())):
                        session.notes.add(NOTE_NO_PRICES)
                    session.record(verdict.message, turn.intent, turn.shown)
                    # a card's other sizes were shown with it: "more" does not offer them as new
                    session.shown_ids.update(v["id"] for p in turn.products for v in p.get("variants", ()))
                elif turn.kind == "about":
                    session.record(verdict.message, turn.intent, None)
                timings["total"] = _ms(t0)
                logged = True
                if turn.kind == "chitchat":
                    self.chat_log.add(*asked)   # the canned reply is not stored
                else:
                    self.chat_log.add_many([asked, (sid, "assistant", turn.reply, user_id)])
                if turn.kind == "search" and fast is None:
                    yield turn.result(dict(timings), pending=True, reply=turn.line)
                yield turn.result(timings, pending=False)
            finally:
                if not logged:
                    self.chat_log.add(*asked)

    def _readings(self, message: str, session, cat, timings: dict, rules=None) -> Iterator[tuple[str, object]]:
        """The turn's intent: ("final", intent), preceded by ("fast", intent) - the rules' reading -
        when the LLM was called (parse_intent calls it only when the rules are not sure). The LLM
        parse runs in a thread so that the rules' reading can be answered while it works."""

        brands = self._brands(cat)
        facets = _facet_lists(cat)
        budget = self.settings.llm_budget_ms
        t = time.perf_counter()
        llm = self.llm
        if llm is None:
            intent = resolve(message, session, make_parser(None, budget, brands=brands, rules=rules, facets=facets))
            timings["parse"] = _ms(t)
            yield "final", intent
            return
        signal: queue.Queue = queue.Queue()
        box: dict = {}
        parser = make_parser(_AnnouncingLLM(llm, lambda: signal.put("llm")), budget, brands=brands, rules=rules, facets=facets)
        history = session.history()

        def run() -> None:
            try:
                box["parse"] = parser(message, history)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the turn's thread
                box["error"] = exc
            signal.put("done")

        threading.Thread(target=run, name="shopassist-parse", daemon=True).start()
        wait_s = 2 * budget / 1000.0 + 5.0   # parse_intent itself stops the LLM at its budget
        first = signal.get(timeout=wait_s)
        fast = None
        if first == "llm":
            fast = resolve(message, session, make_parser(None, budget, brands=brands, rules=rules, facets=facets))
            timings["parse_fast"] = _ms(t)
            yield "fast", fast
            try:
                while signal.get(timeout=wait_s) != "done":
                    pass                     # a repair attempt calls the LLM again
            except queue.Empty:
                log.warning("intent parse still running after %.0f s: the rules' reading stands", wait_s)
                timings["parse"] = _ms(t)
                yield "final", fast
                return
        if "error" in box:
            raise box["error"]
        intent = resolve(message, session, lambda _message, _history: box["parse"])
        timings["parse"] = _ms(t)
        yield "final", intent

    def _respond(self, cat, intent, session, user_id, catalog, message) -> "_Turn":
        """The answer to one reading of the turn (the session is not changed: the caller records)."""
        parse = session.last_parse
        intent_json = intent.model_dump()
        if parse is not None:
            intent_json["_source"] = parse.source
        timings: dict[str, float] = {}
        if intent.action in ("ask_about_product", "compare") and session.last_products:
            reply, shown = self._about_products(intent, session, message)
            return _Turn("about", intent, intent_json, reply, reply, shown, timings=timings)
        if intent.action == "chitchat":
            reply = safety.REPLIES["off_topic"][1 if intent.language == "zh" else 0]
            return _Turn("chitchat", intent, intent_json, reply, reply, [], timings=timings)
        priced = intent.price_min is not None or intent.price_max is not None
        note = ""
        fresh = True    # a repeated search offers products not shown yet ("more", "cheaper")
        if intent.sort in ("price_asc", "price_desc") and self._priced_share(cat) < 0.5:
            # "something cheaper" where most products have no price: ordering by price would rank the
            # few priced ones first and the rest at random, and new products would not be cheaper; keep
            # the list in relevance order and say why, once
            intent, fresh = intent.model_copy(update={"sort": "relevance"}), False
            if NOTE_NO_PRICES not in session.notes:
                note = NO_PRICE_SORT_NOTE["zh" if intent.language == "zh" else "en"]
        # a catalog without a single price cannot pass a price filter: skip the empty search
        products, stage = ([], {}) if priced and self._priced_share(cat) == 0.0 else \
            self._find(cat, intent, user_id, session, catalog, message, fresh=fresh)
        if not products and priced and self._priced_share(cat) < 0.5:
            # most of this catalog has no prices: say so and answer without the price limit
            relaxed = intent.model_copy(update={"price_min": None, "price_max": None})
            products, again = self._find(cat, relaxed, user_id, session, catalog, message, fresh=fresh)
            stage = {k: round(stage.get(k, 0.0) + v, 2) for k, v in again.items()}   # both searches count
            if NOTE_NO_PRICES not in session.notes and not note:   # said once per conversation, briefly
                note = NO_PRICE_NOTE["zh" if intent.language == "zh" else "en"]
        timings.update(stage)
        note += _closest_note(products, intent.language)
        t = time.perf_counter()
        line = note + summarize(intent, products)
        timings["compose"] = _ms(t)
        return _Turn("search", intent, intent_json, line, _reply_text(line, products), products,
                     shown=[_ShownProduct(cat.get(p["id"]), [cat.get(v["id"]) for v in p["variants"]])
                            for p in products], timings=timings)

    def _drop_forgotten_sessions(self) -> None:
        """`shopassist user forget` runs in another process: it erases the shopper's chat messages
        and counts the forget in the chat log. When that count moved, every session with turns
        but no stored message any more belonged to a forgotten shopper: drop it (one small read a turn)."""
        if not isinstance(self.sessions, SessionStore):
            return   # sessions on Redis are not held in this process; `forget` erases them there
        forgets = self.chat_log.forgets()
        if forgets != self._forgets_seen:
            self.sessions.drop_where(self.chat_log.missing_sessions)
            self._forgets_seen = forgets

    def _priced_share(self, cat) -> float:
        share = self._priced.get(cat.name)
        if share is None:
            share = sum(p.price is not None for p in cat.products) / max(1, len(cat.products))
            self._priced[cat.name] = share
        return share

    def _brands(self, cat) -> list[str]:
        brands = self._brand_cache.get(cat.name)
        if brands is None:
            brands = sorted(cat.facets.brands)
            self._brand_cache[cat.name] = brands
        return brands

    def _find(self, cat, intent, user_id, session, catalog, message: str = "",
              k: int = CHAT_K, fresh: bool = True) -> tuple[list[dict], dict]:
        """Search (when the intent has words) + personal ranking + the hard filters (retrieval.filters,
        grounded in the catalog's facets) + soft preferences + sort. When fewer than k products
        satisfy every hard constraint, the rest of the list is the closest products (a constraint
        relaxed, never an exclusion), each marked `closest` with the constraint it misses.
        A Chinese request whose words the lexicon does not know has no English search text: it is
        searched with the Chinese message itself through the multilingual encoder, as search does."""
        timings: dict[str, float] = {}
        intent = _priced_like(intent, cat)
        query = _query_text(intent) or self._untranslated(intent, session, catalog, message)
        filters = _intent_filters(intent, cat)
        exclude = session.shown_ids if fresh and session.last_intent is not None \
            and _same_search(session.last_intent, intent) else ()
        exclude = set(exclude)
        items, candidates, variants, stage = self._ranked(cat, catalog, query, filters, intent, user_id, exclude, k)
        timings.update(stage)
        shown = self._explained(cat, items, candidates, intent, intent.price_max, variants)
        if len(items) < k and filters is not None:
            t = time.perf_counter()
            have = {it.item_id for it in items} | exclude | {v for vs in variants.values() for v in vs}
            for missing, relaxed in _relaxations(filters):
                more, more_candidates, more_variants, _ = self._ranked(cat, catalog, query, relaxed, intent, user_id,
                                                                       have, k - len(items))
                if more:
                    for p in self._explained(cat, more, more_candidates, intent, intent.price_max, more_variants):
                        p["closest"] = missing
                        shown.append(p)
                    break
            timings["closest"] = _ms(t)
        return shown, timings

    def _untranslated(self, intent, session, catalog, message: str) -> str:
        """The Chinese text to search with when the lexicon gave no English: this message for a new
        search, the message of the search being refined for a refinement ("便宜一点"); "" when the
        catalog's searcher has no multilingual encoder (Chinese words never match English titles)."""
        if self.searcher(catalog).multilingual is None:
            return ""
        if intent.action == "search":
            return message.strip() if CJK.search(message) else ""
        if intent.action == "refine":
            for turn in reversed(session.turns):
                if turn.intent.action == "search":
                    return turn.message.strip() if CJK.search(turn.message) and not _query_text(turn.intent) else ""
        return ""

    def _ranked(self, cat, catalog, query, filters, intent, user_id, exclude, k):
        timings = {}
        t = time.perf_counter()
        candidates = self.searcher(catalog).candidate_pool(query, POOL, filters) if query else None
        timings["retrieval"] = _ms(t)
        t = time.perf_counter()
        owned = self._owned(user_id)     # in the cart or bought: not offered again as a find
        wanted = k * self.lists.pool_per_card + len(exclude) + len(owned)
        n = wanted if intent.sort == "relevance" and not intent.avoid else max(POOL // 2, wanted)
        items = []
        if candidates is None or candidates:
            items = self.service(catalog).recommend(user_id, k=min(n, MAX_K * 2), candidates=candidates,
                                                    filters=filters)
        items = self._not_owned(cat, [it for it in items if it.item_id not in exclude], owned)
        items = _soft_rerank(items, intent.avoid, cat)
        items = _sort_items(items, intent.sort, cat)
        cards, variants = self._cards(cat, items, k, varied=_wants_variety(intent))
        timings["ranking"] = _ms(t)
        return cards, candidates, variants, timings

    def _about_products(self, intent, session, message) -> tuple[str, list[dict]]:
        """"Tell me more about the second one", "is it waterproof?", "compare the first two":
        answered from the shown products' own catalog fields, text and variants."""
        positions = intent.refers_to or [1]
        products, variants = [], []
        for pos in positions[:3]:
            product = session.product_at(pos)
            if product is None:
                n = len(session.last_products)
                return (f"I showed {n} product{'s' if n != 1 else ''}; there is no number {pos}. "
                        f"Pick one between 1 and {n}."), []
            products.append(product.product if isinstance(product, _ShownProduct) else product)
            variants.append(list(getattr(product, "variants", ()) or ()))
        if intent.action == "compare" and len(products) >= 2:
            return compare_products(message, products, variants, positions=positions[:3],
                                    language=intent.language), []
        lines = [answer_about(message, p, v, language=intent.language, intent=intent) for p, v in zip(products, variants)]
        return "\n\n".join(lines), []

    # ---------------------------------------------------------------- merchant lab
    def lab(self, query: str, user_id=None, k: int = 10, catalog: str | None = None) -> dict:
        """Everything the query tester shows: intent, personalised vs plain results, stage timings."""

        k = check_k(k)
        query = check_text(query, "query", max_chars=MAX_TEXT_CHARS)
        user_id = check_user(user_id)
        cat = self.catalog(catalog)
        t = time.perf_counter()
        parse = parse_intent(query, self.llm, self.settings.llm_budget_ms, brands=self._brands(cat),
                             facets=_facet_lists(cat))
        timings = {"parse": _ms(t)}
        intent = _priced_like(parse.intent, cat)
        q = _query_text(intent) or query
        filters = _intent_filters(intent, cat)
        note = None
        if filters is not None and (filters.min_price is not None or filters.max_price is not None) \
                and self._priced_share(cat) < 0.5:
            filters = _intent_filters(intent.model_copy(update={"price_min": None, "price_max": None}), cat)
            note = "most products of this catalog have no price: the price limit was not applied"
        t = time.perf_counter()
        candidates = self.searcher(catalog).candidate_pool(q, POOL, filters)
        timings["retrieval"] = _ms(t)
        t = time.perf_counter()
        service = self.service(catalog)
        personal = service.recommend(user_id, k=k, candidates=candidates, filters=filters) if user_id else None
        plain = service.recommend(None, k=k, candidates=candidates, filters=filters, diversity=1e-9)
        timings["ranking"] = _ms(t)
        t = time.perf_counter()
        personal_json = self._explained(cat, personal, candidates, intent, intent.price_max) if personal else []
        plain_json = self._explained(cat, plain, candidates, intent, intent.price_max)
        timings["compose"] = _ms(t)
        out = {"intent": {**intent.model_dump(), "_source": parse.source}, "personalised": personal_json,
               "plain": plain_json, "timings_ms": timings}
        if note:
            out["note"] = note
        return out

    def model_manifest(self, catalog: str | None = None) -> dict | None:
        """The live model bundle's manifest (validation metrics, fusion weights, when trained), or None."""
        return read_manifest(bundle_root(self.settings.models_dir, self.catalog(catalog).name))

    def model_anchors(self, catalog: str | None = None) -> dict | None:
        """Published HR@10 / NDCG@10 for this catalog's benchmark (Amazon Beauty: ranking.evaluate.ANCHORS), else None."""
        return ANCHORS if len(self.catalog(catalog).products) == BEAUTY_SHAPE[1] else None

    def recent_events(self, limit: int = 5000) -> list:
        """The most recently stored behaviour events, newest first (merchant lab: live activity)."""
        return self.events.latest(limit)

    def recent_chat(self, limit: int = 2000) -> list:
        """The last stored (redacted) chat messages, oldest first (merchant lab: query insights)."""
        return self.chat_log.recent(limit)

    # ---------------------------------------------------------------- catalogs & users
    def import_catalog(self, path, name: str, mapping: dict | None = None, skip_bad_rows: bool = False,
                       progress=None) -> dict:
        try:
            summary = self.registry.import_file(Path(path), name, mapping=ColumnMapping.from_dict(mapping),
                                                skip_bad_rows=skip_bad_rows, progress=progress)
        except CatalogImportError as exc:
            raise UserError(str(exc)) from None
        with self._lock:
            for cache in (self._catalogs, self._searchers, self._services, self._brand_cache, self._priced):
                cache.pop(name, None)
        return summary.to_dict()

    def forget_user(self, user_id: str) -> dict:
        """Erase a shopper's events, live profiles, chat history and sessions."""

        user_id = check_user(user_id, required=True)
        counts = forget_user(user_id, events=self.events, chat=self.chat_log,
                             services=list(self._services.values()), redis_url=self.settings.redis_url)
        counts["sessions"] = self.sessions.drop_user(user_id)
        return counts


# ------------------------------------------------------------------------------------------ helpers
DEMO_SOURCE = "beauty-demo"
DEMO_MARKER = "demo-events-loaded"   # EventStore marker set once the demo history is in
FAST_MODELS = ("pop", "itemknn", "als", "content")


@dataclass
class _WhyItem:
    item_id: str
    components: dict
    evidence: dict
    matched_terms: list


@dataclass
class _Turn:
    """One reading of a chat turn answered: what to show and what the session should remember."""
    kind: str                      # "search" | "about" | "chitchat"
    intent: object
    intent_json: dict
    line: str                      # the summary line (search) or the whole answer
    reply: str                     # the full reply text
    products: list[dict]
    shown: list = field(default_factory=list)   # the products as the dialogue remembers them (search)
    timings: dict = field(default_factory=dict)

    def result(self, timings: dict, *, pending: bool, reply: str | None = None) -> ChatResult:
        return ChatResult(reply=self.reply if reply is None else reply, products=self.products,
                          intent=self.intent_json, timings_ms=timings, pending=pending)


class _AnnouncingLLM:
    """The intent LLM, announcing each call: parse_intent calls it only when the rules were not sure."""

    def __init__(self, llm, announce: Callable[[], None]):
        self._llm, self._announce = llm, announce

    def complete(self, *args, **kwargs):
        self._announce()
        return self._llm.complete(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._llm, name)


class _ShownProduct:
    """A catalog product as the dialogue remembers it (duck-typed for assistant/), with the
    other sizes / pack counts its card carried."""

    def __init__(self, product, variants=()):
        self.product = product
        self.variants = list(variants)

    def __getattr__(self, name):
        return getattr(self.product, name)


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 2)


def _query_text(intent) -> str:
    """The English retrieval text: the intent's search words plus its soft hints."""
    parts = [intent.search_text or ""]
    if intent.category and intent.category not in parts[0]:
        parts.append(intent.category)
    parts.extend(t for t in intent.must_have if t not in parts[0])
    if intent.brand and intent.brand.lower() not in parts[0].lower():
        parts.append(intent.brand)
    return " ".join(p for p in parts if p).strip()


# Who a recipient is, in a catalog's audience facet (retrieval.facets.AUDIENCES values).
_AUDIENCE_OF = {
    "wife": "women", "mother": "women", "girlfriend": "women", "sister": "women", "grandmother": "women",
    "aunt": "women", "her": "women", "women": "women", "mother-in-law": "women", "sister-in-law": "women",
    "niece": "girls", "daughter": "girls", "girls": "girls",
    "husband": "men", "father": "men", "boyfriend": "men", "brother": "men", "grandfather": "men",
    "uncle": "men", "him": "men", "men": "men", "father-in-law": "men",
    "nephew": "boys", "son": "boys", "boys": "boys", "kids": "kids", "baby": "kids", "unisex": "unisex",
}

def _intent_filters(intent, cat=None):
    """The hard filters of an intent, grounded in the catalog's facets (retrieval.facets):
    price range, excluded terms and brands, and, where the catalog has the facet, the brand named,
    the product type, colours, the recipient's audience, "on sale", and in stock. Vague qualities
    (must_have words such as "gentle", "long-lasting") stay soft: they go into the query text."""

    values: dict = {"min_price": intent.price_min, "max_price": intent.price_max, "exclude": list(intent.exclude),
                    "exclude_brand": list(intent.exclude_brand)}
    facets = getattr(cat, "facets", None)
    if facets is not None:
        if intent.brand and facets.brand(intent.brand):
            values["brand"] = [facets.brand(intent.brand)]
        if intent.category and (resolve_type(intent.category, facets) or _head_type(intent.category, facets)):
            # a compound the catalog has no type for ("dry shampoo") whose head noun it has: the title
            # must name it; the closest products then broaden it to the head noun (_relaxations)
            values["product_type"] = [intent.category]
        colours = [t for t in intent.must_have if fold(t) in COLOURS and COLOURS[fold(t)] in facets.colours]
        if colours:   # the colour column, or colour words in titles where the catalog has no column
            values["color"] = colours
        audience = _AUDIENCE_OF.get(intent.recipient or "")
        if audience and facets.audiences:
            also = {"women": {"unisex"}, "men": {"unisex"}, "girls": {"kids"}, "boys": {"kids"}}.get(audience, set())
            present = [a for a in [audience, *sorted(also)] if a in facets.audiences]
            if audience in ("girls", "boys") and not present and "kids" in facets.audiences:
                present = ["kids"]
            if present:
                values["audience"] = [audience] if audience in facets.audiences else present
        if intent.on_sale and facets.n_discounted:
            values["on_sale"] = True
        if facets.availability.get("out_of_stock"):
            values["in_stock"] = True
    f = SearchFilters(**values)
    return None if f.is_empty() else f


def _head_type(category: str, facets) -> bool:
    """A compound type word ("dry shampoo", "running shoes") whose head noun is a catalog type."""
    words = type_key(category).split()
    return len(words) > 1 and bool(resolve_type(words[-1], facets))


def _wants_variety(intent) -> str:
    """A broad request - no brand asked for, no product referred to, relevance order - gets a list
    varied across brands and types ("all"), or across brands only when it names the product type
    ("brands"); "" = keep the ranking."""
    if intent.brand or intent.refers_to or intent.sort != "relevance":
        return ""
    return "brands" if intent.category else "all"


def _distinct_words() -> frozenset[str]:
    return frozenset(w for k, v in COLOURS.items() for w in (k, v) if " " not in w)


_DISTINCT_WORDS = _distinct_words()   # colour words keep two otherwise equal titles apart


def _facet_lists(cat, n: int = 25) -> dict:
    """The catalog's most common facet values, for the LLM prompt (assistant.intent)."""
    facets = cat.facets
    return {"brands": facets.top("brands", n), "types": facets.top("types", n),
            "colours": facets.top("colours", n), "audiences": facets.top("audiences", n)}


def _priced_like(intent, cat):
    """"like X": other brands than X; "... but cheaper": below the median price of X's products (of the
    same type when it has them)."""
    if not intent.similar_to:
        return intent
    facets = getattr(cat, "facets", None)
    brand = facets.brand(intent.similar_to) if facets is not None else None
    if not brand:
        return intent
    exclude = list(intent.exclude_brand) + ([brand] if fold(brand) not in map(fold, intent.exclude_brand) else [])
    intent = intent.model_copy(update={"exclude_brand": exclude})   # alternatives to X: other brands
    index = filter_index(cat)
    mask = index.brand_mask([brand])
    if intent.category and index.type_mask([intent.category])[mask].any():
        mask &= index.type_mask([intent.category])
    prices = [p for p in index.price[mask] if p == p]
    if not prices or intent.price_max is not None or intent.sort != "price_asc":
        return intent
    return intent.model_copy(update={"price_max": round(statistics.median(prices) * 0.999, 2)})


def _closest_note(products: list[dict], language: str = "en") -> str:
    """Says so when fewer than the products shown satisfy every hard constraint."""
    closest = [p for p in products if p.get("closest")]
    if not closest:
        return ""
    n = len(products) - len(closest)
    missed = closest[0]["closest"]
    if language == "zh":
        return f"只有 {n} 件商品完全符合要求；其余是最接近的（不符合：{missed}）。"
    return (f"Only {n} product{'s' if n != 1 else ''} match{'es' if n == 1 else ''} everything you asked for; "
            f"the rest {'is' if len(closest) == 1 else 'are'} the closest (not matching: {missed}). ")


def _relaxations(filters):
    """(what is missed, filters without it) in the order the closest products give it up: the type's
    head noun for a compound type ("running shoes" -> "shoes"), then colour, audience, type, brand,
    on sale, price; exclusions and stock are never relaxed."""
    head = (filters.product_type or [""])[0].split()[-1:] if filters.product_type else []
    if head and head[0] != filters.product_type[0]:   # "running shoes" -> any "shoes" first
        yield "type", filters.model_copy(update={"product_type": head})
    for fields, label in ((("color",), "colour"), (("audience",), "audience"), (("product_type",), "type"),
                          (("brand",), "brand"), (("on_sale",), "on sale"), (("min_price", "max_price"), "price")):
        if any(getattr(filters, f) not in (None, [], False) for f in fields):
            relaxed = filters.model_copy(update={f: (None if f in ("min_price", "max_price", "on_sale") else [])
                                                 for f in fields})
            yield label, (None if relaxed.is_empty() else relaxed)
            filters = relaxed


# Vague qualities a shopper avoids -> words in product text that signal them (soft: re-rank only).
AVOID_SIGNALS = {
    "sweet": ("sweet", "sugar", "candy", "vanilla", "caramel", "cupcake", "gourmand", "honey", "chocolate",
              "cotton candy", "dessert"),
    "strong": ("intense", "strong", "extreme", "oud"),
    "greasy": ("oil", "greasy", "butter", "balm"),
    "heavy": ("heavy", "thick", "rich", "butter"),
    "drying": ("matte", "alcohol", "clay"),
    "bright": ("neon", "bright", "glitter"),
    "harsh": ("peel", "acid", "scrub"),
}


def _soft_rerank(items, avoid, cat):
    """Stable: items whose text signals an avoided quality go after the others (never dropped)."""
    if not avoid or not items:
        return items
    index = filter_index(cat)
    terms = [t for a in avoid for t in AVOID_SIGNALS.get(a, (a,))]
    bad = np.zeros(index.n, dtype=bool)
    for term in terms:
        bad |= index.contains(term)
    return [it for it in items if not bad[cat.index[it.item_id]]] + [it for it in items if bad[cat.index[it.item_id]]]


def _same_search(a, b) -> bool:
    keys = ("search_text", "category", "brand", "price_min", "price_max", "must_have", "exclude", "recipient",
            "exclude_brand", "similar_to", "on_sale")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _sort_items(items, sort: str, cat):
    if sort == "price_asc":
        return sorted(items, key=lambda it: (cat.get(it.item_id).price is None, cat.get(it.item_id).price or 0))
    if sort == "price_desc":
        return sorted(items, key=lambda it: (cat.get(it.item_id).price is None, -(cat.get(it.item_id).price or 0)))
    if sort == "rating":
        return sorted(items, key=lambda it: -(cat.get(it.item_id).rating or 0))
    if sort == "popularity":
        return sorted(items, key=lambda it: -it.components.get("pop", 0))
    return items


# The ranker's components are weighted z-score contributions (they add up to the score). For the
# "why" line a component counts when it pushed the score up materially: contribution / 2, in [0, 1]
# (so 0.4 clears explain's 0.2 threshold for cf / sequential / content, 1.0 its 0.5 for popularity).
_VIEW = {"itemknn": "cf", "als": "cf", "sasrec": "sequential", "content": "content", "pop": "popularity"}


def _explain_view(components: dict, hit, product, price_max) -> dict:
    view: dict[str, float] = {}
    for name, value in components.items():
        key = _VIEW.get(name)
        if key:
            view[key] = max(view.get(key, 0.0), min(1.0, max(0.0, float(value) / 2.0)))
    if hit is not None:
        view["dense"] = float(hit.components.get("dense", 0.0))
        view["lexical"] = float(hit.components.get("lexical", 0.0))
    if price_max is not None and product.price is not None and product.price <= price_max:
        view["price_fit"] = 1.0
    return view


def _history_lifted(components: dict, view: dict, evidence: dict) -> bool:
    """Whether "you bought X" is true of this product: the ranker cites X only when X's own
    item-kNN share (or embedding similarity) is strong; the component that carries it must also
    have pushed the score up - the item-kNN contribution itself for a co-bought X, any behaviour
    component for a similar one."""
    if not evidence.get("history_item"):
        return False
    if evidence.get("history_via") == "co_bought":
        return min(1.0, max(0.0, float(components.get("itemknn", 0.0)) / 2.0)) >= HISTORY_SUPPORT
    return max(view.get(k, 0.0) for k in ("cf", "sequential", "content")) >= HISTORY_SUPPORT


def _reply_text(line: str, products: list[dict]) -> str:
    rows = [line]
    for i, p in enumerate(products, 1):
        price = f" — {format_price(p['price'], p['currency'])}" if p.get("price") is not None else ""
        why = f" ({p['why']})" if p.get("why") else ""
        closest = f" [closest match, not {p['closest']}]" if p.get("closest") else ""
        rows.append(f"{i}. {p['title']}{price}{why}{closest}")
    return "\n".join(rows)
