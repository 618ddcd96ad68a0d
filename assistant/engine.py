"""The one Engine: owns the stores and models, loads them once, and is what the app, the CLI,
the tests and the benchmarks call. Everything heavy is created lazily and shared between threads.

    chat(message)  ->  safety  ->  dialogue.resolve (rules -> LLM -> validate)  ->  search
                   ->  RecommendationService.recommend (fusion, rules)  ->  explain.why  ->  reply
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from assistant import safety
from assistant.arguments import MAX_K, MAX_TEXT_CHARS, check_filters, check_k, check_text, check_user
from assistant.dialogue import SessionStore, make_parser, resolve
from assistant.errors import UserError
from assistant.explain import answer_question, summarize, why
from assistant.insights import LatencyLog
from assistant.intent import parse_intent
from assistant.llm import get_llm
from assistant.privacy import ChatLog, forget_user, redact
from assistant.settings import DATA_DIR, Settings
from ranking.bundle import bundle_root, current_version, read_manifest
from ranking.data import read_sequences, sequences_to_events
from ranking.evaluate import ANCHORS, BEAUTY_SHAPE
from ranking.events import EVENT_TYPES, EventStore, EventValidationError
from ranking.service import RecommendationService
from ranking.train import TrainConfig, train_all
from retrieval.catalog import CatalogImportError, ColumnMapping, format_price
from retrieval.embedder import make_embedder
from retrieval.registry import DEMO_NAME, CatalogNotFound, CatalogRegistry, ensure_demo_catalog
from retrieval.search import HybridSearcher, SearchFilters
from retrieval.store import make_chroma_client

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


@dataclass
class ChatResult:
    reply: str
    products: list[dict] = field(default_factory=list)
    intent: dict = field(default_factory=dict)
    timings_ms: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"reply": self.reply, "products": self.products, "intent": self.intent,
                "timings_ms": self.timings_ms}


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
        self._forgets_seen: int | None = None   # ChatLog.forgets() at the last chat turn

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
                self._events = EventStore(self.settings.events_db, known_items=self._known_item)
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
                self._chat_log = ChatLog.for_home(self.settings.home)
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
                self._searchers[name] = self.registry.searcher(name) if name not in self._catalogs else \
                    self._make_searcher(self._catalogs[name])
            return self._searchers[name]

    def _make_searcher(self, catalog):
        return HybridSearcher.for_catalog(catalog, self.embedder, self.registry)

    def service(self, name: str | None = None):
        name = self._name(name)
        with self._lock:
            if name not in self._services:
                self._services[name] = RecommendationService(self.catalog(name), self.events,
                                                             self.settings.models_dir)
            return self._services[name]

    def _known_item(self, item_id: str) -> bool:
        return any(item_id in c.index for c in list(self._catalogs.values()))

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
    def _product_json(self, catalog, item_id: str, score: float, components: dict, why: str = "") -> dict:
        p = catalog.get(item_id)
        return {"id": p.id, "title": p.title, "price": p.price, "currency": p.currency, "brand": p.brand,
                "category": p.category, "rating": p.rating, "url": p.url,
                "score": round(float(score), 4),
                "components": {k: round(float(v), 4) for k, v in components.items()}, "why": why}

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
        in_cart = self._in_cart(user_id)
        items = self.service(catalog).recommend(user_id, k=k + len(in_cart), candidates=candidates, filters=filters)
        items = [it for it in items if it.item_id not in in_cart][:k]
        return self._explained(cat, items, candidates, intent)

    def _in_cart(self, user_id) -> set[str]:
        """Items the shopper put in the cart (purchases are dropped by the ranker itself)."""
        if not user_id:
            return set()
        return {e.item_id for e in self.events.user_events(user_id)[-MAX_K:] if e.type == "cart" and e.item_id}

    def _explained(self, cat, items, candidates, intent, price_max=None) -> list[dict]:
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
            if max(view.get(k, 0.0) for k in ("cf", "sequential", "content")) < HISTORY_SUPPORT:
                # the nearest history item did not really lift this product: do not cite it
                evidence.pop("history_item", None)
                evidence.pop("co_bought", None)
            proxy = _WhyItem(it.item_id, view, evidence, matched)
            out.append(self._product_json(cat, it.item_id, it.score, shown, why(proxy, cat, intent)))
        return out

    # ---------------------------------------------------------------- chat
    def chat(self, message, user_id=None, session_id=None, catalog: str | None = None) -> ChatResult:
        result = None
        for result in self.chat_stream(message, user_id, session_id, catalog):
            pass
        return result

    def chat_stream(self, message, user_id=None, session_id=None, catalog: str | None = None) -> Iterator[ChatResult]:
        """One chat turn. Yields the products first (with the summary line), then the full reply.

        The rules parse the message once (in safety.check, with the catalog's brands); that parse
        goes on to the intent pipeline and the dialogue, and a product question reads its topic
        from the resolved intent."""
        if message is not None and not isinstance(message, str):
            raise UserError(f"Expected message to be a string, got {type(message).__name__}")
        user_id = check_user(user_id)
        sid = str(session_id) if session_id not in (None, "") else (f"user:{user_id}" if user_id else "anonymous")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        cat = self.catalog(catalog)
        verdict = safety.check(message, brands=self._brands(cat))
        if not verdict.ok:
            yield ChatResult(reply=verdict.reply or "", intent={"action": "chitchat", "safety": verdict.kind},
                             timings_ms={"total": _ms(t0)})
            return
        self._drop_forgotten_sessions()
        session = self.sessions.get(sid, user_id)
        with session.lock:
            # The shopper's message is stored with the reply in one transaction (one fsync a turn);
            # a turn without a stored reply (chitchat) stores it alone, and so does one that fails.
            asked = (sid, "user", verdict.message, user_id, time.time())
            logged = False
            try:
                t = time.perf_counter()
                parser = make_parser(self.llm, self.settings.llm_budget_ms, brands=self._brands(cat),
                                     rules=verdict.parse)
                intent = resolve(verdict.message, session, parser)
                timings["parse"] = _ms(t)
                parse = session.last_parse
                intent_json = intent.model_dump()
                if parse is not None:
                    intent_json["_source"] = parse.source
                if intent.action in ("ask_about_product", "compare") and session.last_products:
                    reply, shown = self._about_products(intent, session, verdict.message)
                    timings["total"] = _ms(t0)
                    logged = True
                    self.chat_log.add_many([asked, (sid, "assistant", reply, user_id)])
                    session.record(verdict.message, intent, None)
                    yield ChatResult(reply=reply, products=shown, intent=intent_json, timings_ms=timings)
                    return
                if intent.action == "chitchat":
                    reply = safety.REPLIES["off_topic"][1 if intent.language == "zh" else 0]
                    logged = True   # the canned reply is not stored
                    self.chat_log.add(*asked)
                    yield ChatResult(reply=reply, intent=intent_json, timings_ms={"total": _ms(t0)})
                    return
                priced = intent.price_min is not None or intent.price_max is not None
                # a catalog without a single price cannot pass a price filter: skip the empty search
                products, stage = ([], {}) if priced and self._priced_share(cat) == 0.0 else \
                    self._find(cat, intent, user_id, session, catalog)
                note = ""
                if not products and priced and self._priced_share(cat) < 0.5:
                    # most of this catalog has no prices: say so and answer without the price limit
                    relaxed = intent.model_copy(update={"price_min": None, "price_max": None})
                    products, again = self._find(cat, relaxed, user_id, session, catalog)
                    stage = {k: round(stage.get(k, 0.0) + v, 2) for k, v in again.items()}   # both searches count
                    if NOTE_NO_PRICES not in session.notes:   # said once per conversation, briefly
                        session.notes.add(NOTE_NO_PRICES)
                        note = NO_PRICE_NOTE["zh" if intent.language == "zh" else "en"]
                timings.update(stage)
                t = time.perf_counter()
                line = note + summarize(intent, products)
                timings["compose"] = _ms(t)
                session.record(verdict.message, intent, [_ShownProduct(cat.get(p["id"])) for p in products])
                timings["total"] = _ms(t0)
                reply = _reply_text(line, products)
                logged = True
                self.chat_log.add_many([asked, (sid, "assistant", reply, user_id)])
                yield ChatResult(reply=line, products=products, intent=intent_json, timings_ms=dict(timings))
                yield ChatResult(reply=reply, products=products, intent=intent_json, timings_ms=timings)
            finally:
                if not logged:
                    self.chat_log.add(*asked)

    def _drop_forgotten_sessions(self) -> None:
        """`shopassist user forget` runs in another process: it erases the shopper's chat messages
        and counts the forget in the chat log. When that count moved, every session with turns
        but no stored message any more belonged to a forgotten shopper: drop it (one small read a turn)."""
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
            brands = sorted({p.brand for p in cat.products if p.brand})
            self._brand_cache[cat.name] = brands
        return brands

    def _find(self, cat, intent, user_id, session, catalog, k: int = CHAT_K) -> tuple[list[dict], dict]:
        """Search (when the intent has words) + personal ranking + filters + sort."""
        timings = {}
        query = _query_text(intent)
        filters = _intent_filters(intent)
        t = time.perf_counter()
        candidates = self.searcher(catalog).candidate_pool(query, POOL, filters) if query else None
        timings["retrieval"] = _ms(t)
        t = time.perf_counter()
        exclude = session.shown_ids if session.last_intent is not None and _same_search(session.last_intent, intent) else ()
        n = k + len(exclude) if intent.sort == "relevance" else max(POOL // 2, k + len(exclude))
        items = []
        if candidates is None or candidates:
            items = self.service(catalog).recommend(user_id, k=min(n, MAX_K * 2), candidates=candidates,
                                                    filters=filters)
        items = [it for it in items if it.item_id not in exclude]
        items = _sort_items(items, intent.sort, cat)[:k]
        timings["ranking"] = _ms(t)
        return self._explained(cat, items, candidates, intent, intent.price_max), timings

    def _about_products(self, intent, session, message) -> tuple[str, list[dict]]:
        positions = intent.refers_to or [1]
        shown = []
        lines = []
        for pos in positions[:3]:
            product = session.product_at(pos)
            if product is None:
                n = len(session.last_products)
                return (f"I showed {n} product{'s' if n != 1 else ''}; there is no number {pos}. "
                        f"Pick one between 1 and {n}."), []
            answer = answer_question(message, product.product if isinstance(product, _ShownProduct) else product,
                                     language=intent.language, intent=intent)
            lines.append(answer.text)
        return " ".join(lines), shown

    # ---------------------------------------------------------------- merchant lab
    def lab(self, query: str, user_id=None, k: int = 10, catalog: str | None = None) -> dict:
        """Everything the query tester shows: intent, personalised vs plain results, stage timings."""

        k = check_k(k)
        query = check_text(query, "query", max_chars=MAX_TEXT_CHARS)
        user_id = check_user(user_id)
        cat = self.catalog(catalog)
        t = time.perf_counter()
        parse = parse_intent(query, self.llm, self.settings.llm_budget_ms, brands=self._brands(cat))
        timings = {"parse": _ms(t)}
        intent = parse.intent
        q = _query_text(intent) or query
        filters = _intent_filters(intent)
        note = None
        if filters is not None and (filters.min_price is not None or filters.max_price is not None) \
                and self._priced_share(cat) < 0.5:
            filters = _intent_filters(intent.model_copy(update={"price_min": None, "price_max": None}))
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
                             services=list(self._services.values()))
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


class _ShownProduct:
    """A catalog product as the dialogue remembers it (duck-typed for assistant/)."""

    def __init__(self, product):
        self.product = product

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


def _intent_filters(intent):
    """Hard filters from the intent: price range and excluded terms. Brand and must-have words
    are soft (they go into the query text): a demo catalog without brand fields must still answer."""

    f = SearchFilters(min_price=intent.price_min, max_price=intent.price_max, exclude=list(intent.exclude))
    return None if f.is_empty() else f


def _same_search(a, b) -> bool:
    keys = ("search_text", "category", "brand", "price_min", "price_max", "must_have", "exclude", "recipient")
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


def _reply_text(line: str, products: list[dict]) -> str:
    rows = [line]
    for i, p in enumerate(products, 1):
        price = f" — {format_price(p['price'], p['currency'])}" if p.get("price") is not None else ""
        why = f" ({p['why']})" if p.get("why") else ""
        rows.append(f"{i}. {p['title']}{price}{why}")
    return "\n".join(rows)
