"""Per-session dialogue state and the resolution of follow-ups against it.

    session = store.get(session_id)
    intent = resolve(message, session, parser)      # "cheaper", "in blue instead", "the second one"
    ... search + rank with `intent` ...
    session.record(message, intent, products)       # what was shown, in order

`parser(message, history)` returns an Intent or an `schema.ParseResult` (then kept in
`session.last_parse`). Follow-ups are resolved here, deterministically, from cues the rules find
("cheaper", "instead", "more like", positions) and the previous intent + products: the LLM never
has to remember the conversation for the result to be right.
"""
from __future__ import annotations

import contextlib
import re
import statistics
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from assistant import lexicon
from assistant.intent import parse_intent
from assistant.rules import parse_rules
from assistant.schema import (CUE_CHEAPER, CUE_INSTEAD, CUE_MORE, CUE_MORE_LIKE, CUE_PRICIER, CUE_THIS, Intent,
                              ParseResult)

_FIRST_N = re.compile(r"\b(?:first|top)\s+(two|three|2|3)\b|前\s*(两|二|三|2|3)\s*个", re.I)
_COUNTS = {"two": 2, "2": 2, "两": 2, "二": 2, "three": 3, "3": 3, "三": 3}
SEARCH_ACTIONS = ("search", "refine", "recommend_for_me")
_COLORS = set(lexicon.COLORS_EN.values())


def _get(product: Any, name: str, default=None):
    if isinstance(product, dict):
        return product.get(name, default)
    return getattr(product, name, default)


@dataclass
class Turn:
    message: str
    intent: Intent
    product_ids: list[str]
    at: float = field(default_factory=time.time)


@dataclass
class Session:
    """One conversation. The Engine keeps one per session id (see SessionStore)."""

    session_id: str = ""
    user_id: str | None = None
    users: set[str] = field(default_factory=set)       # every shopper who took part (forget drops it)
    turns: list[Turn] = field(default_factory=list)
    last_intent: Intent | None = None           # the intent the last results came from
    last_products: list = field(default_factory=list)  # products shown last, in display order
    shown_ids: set[str] = field(default_factory=set)   # everything shown in this session
    focus: list[int] = field(default_factory=list)     # positions talked about most recently ("it")
    last_parse: ParseResult | None = None
    notes: set[str] = field(default_factory=set)       # one-time notes already said (engine.NOTE_*)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def history(self, n: int = 4) -> list[dict]:
        """The last n user messages as chat messages (context for the LLM)."""
        return [{"role": "user", "content": t.message} for t in self.turns[-n:]]

    def product_at(self, position: int):
        """The product shown at a 1-based position (-1 = last); None when out of range."""
        n = len(self.last_products)
        index = n - 1 if position == -1 else position - 1
        return self.last_products[index] if 0 <= index < n else None

    def record(self, message: str, intent: Intent, products: Sequence | None = None) -> None:
        """Remember a turn. Pass `products` when new results were shown (they replace the old)."""
        with self.lock:
            ids = [str(_get(p, "id", "")) for p in products] if products is not None else []
            self.turns.append(Turn(message=message, intent=intent, product_ids=ids))
            if products is not None and intent.action in SEARCH_ACTIONS:
                self.last_products = list(products)
                self.shown_ids.update(i for i in ids if i)
                self.focus = []
            if intent.action in SEARCH_ACTIONS:
                self.last_intent = intent
            if intent.refers_to:
                self.focus = list(intent.refers_to)

    def to_state(self, max_turns: int = 20) -> dict:
        """A JSON-able copy (shared session stores): shown products as ids, the last turns."""
        dump = lambda i: None if i is None else i.model_dump(mode="json")  # noqa: E731
        return {"session_id": self.session_id, "user_id": self.user_id,
                "turns": [{"message": t.message, "intent": dump(t.intent), "product_ids": t.product_ids, "at": t.at}
                          for t in self.turns[-max_turns:]],
                "last_intent": dump(self.last_intent),
                "last_products": [str(_get(p, "id", "")) for p in self.last_products],
                "shown_ids": sorted(self.shown_ids), "focus": list(self.focus)}

    @classmethod
    def from_state(cls, state: dict, lookup: Callable[[str], Any]) -> "Session":
        """Inverse of to_state; `lookup(product_id)` gives the product to remember (None: gone
        from the catalog, then it is left out)."""
        load = lambda d: None if d is None else Intent.model_validate(d)  # noqa: E731
        products = [p for p in (lookup(i) for i in state["last_products"]) if p is not None]
        return cls(session_id=state["session_id"], user_id=state["user_id"],
                   turns=[Turn(message=t["message"], intent=load(t["intent"]), product_ids=list(t["product_ids"]),
                               at=t["at"]) for t in state["turns"]],
                   last_intent=load(state["last_intent"]), last_products=products,
                   shown_ids=set(state["shown_ids"]), focus=list(state["focus"]))

    def reset(self) -> None:
        with self.lock:
            self.turns.clear()
            self.last_intent = None
            self.last_products = []
            self.shown_ids.clear()
            self.focus = []
            self.last_parse = None


class SessionStore:
    """Thread-safe sessions by id, least recently used evicted past `max_sessions`."""

    def __init__(self, max_sessions: int = 1000, ttl_s: float = 6 * 3600):
        self.max_sessions, self.ttl_s = max_sessions, ttl_s
        self._sessions: OrderedDict[str, tuple[Session, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str, user_id: str | None = None) -> Session:
        now = time.time()
        with self._lock:
            entry = self._sessions.pop(session_id, None)
            if entry is None or now - entry[1] > self.ttl_s:
                session = Session(session_id=session_id, user_id=user_id)
            else:
                session = entry[0]
            if user_id:
                session.users.add(user_id)
            self._sessions[session_id] = (session, now)
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
            return session

    @contextlib.contextmanager
    def hold(self, session_id: str, user_id: str | None = None, lookup: Callable[[str], Any] | None = None):
        """The session for one turn, locked against other turns of it (the interface shared with
        assistant.redis_sessions.RedisSessionStore, which loads and saves it around the turn)."""
        session = self.get(session_id, user_id)
        with session.lock:
            yield session

    def drop(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def drop_user(self, user_id: str) -> int:
        """Forget every session the shopper took part in (as the chat log's forget does); returns
        how many were dropped. A turn running in one of them finishes on the detached session."""
        with self._lock:
            gone = [sid for sid, (session, _) in self._sessions.items()
                    if user_id in session.users or session.user_id == user_id]
            for sid in gone:
                del self._sessions[sid]
            return len(gone)

    def drop_where(self, forgotten: Callable[[list[str]], set[str]]) -> int:
        """Drop the sessions whose ids `forgotten(ids)` returns (ids of sessions with turns only:
        a session nothing was said in holds nothing to forget); returns how many were dropped."""
        with self._lock:
            ids = [sid for sid, (session, _) in self._sessions.items() if session.turns]
        gone = forgotten(ids) if ids else set()
        with self._lock:
            for sid in gone:
                self._sessions.pop(sid, None)
        return len(gone)

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._sessions


# ---------------------------------------------------------------------------------------------
Parser = Callable[[str, list], Any]   # (message, history) -> Intent | ParseResult


def make_parser(llm=None, budget_ms: float = 20000, **kwargs) -> Parser:
    """The standard parser for `resolve`: `intent.parse_intent` with this LLM and budget."""
    return lambda message, history: parse_intent(message, llm, budget_ms, history=history, **kwargs)


def _prices(products: Sequence) -> list[float]:
    out = []
    for p in products:
        price = _get(p, "price")
        if isinstance(price, (int, float)) and price > 0:
            out.append(float(price))
    return out


def _positions(refers: list[int], n: int) -> list[int]:
    """-1 -> n; positions outside 1..n are kept (the Engine says what was shown)."""
    out = []
    for r in refers:
        pos = n if r == -1 and n else r
        if pos not in out:
            out.append(pos)
    return out


def resolve(message: str, session: Session, parser: Parser) -> Intent:
    """The intent of `message` in the context of `session` (the session is not modified
    except `last_parse`; call `session.record(...)` after showing results)."""
    result = parser(message, session.history())
    cues = None
    if isinstance(result, ParseResult):
        session.last_parse = result
        intent = result.intent
        cues = result.rules.cues if result.rules is not None else None
    else:
        intent = result
    return resolve_intent(message, intent, session, cues)


def resolve_intent(message: str, intent: Intent, session: Session, cues: set[str] | None = None) -> Intent:
    """Apply the dialogue rules to an already parsed intent. `cues`: the rules' cues for this
    message when the caller has its parse (else the rules parse it for them)."""
    if cues is None:
        cues = parse_rules(message).cues
    prev = session.last_intent
    n = len(session.last_products)
    refers = _positions(intent.refers_to, n)

    if intent.action in ("ask_about_product", "compare"):
        first_n = _FIRST_N.search(message or "")
        if intent.action == "compare" and first_n and len(refers) < 2:
            count = _COUNTS.get((first_n.group(1) or first_n.group(2)).lower(), 2)
            refers = list(range(1, min(count, n) + 1))   # "compare the first two": 1 and 2
        if not refers and (CUE_THIS in cues or intent.action == "ask_about_product"):
            refers = list(session.focus) or ([1] if n == 1 else [])
        if intent.action == "compare" and not refers and n >= 2:
            refers = [1, 2] if n == 2 else []
        return intent.model_copy(update={"refers_to": refers})
    if intent.action in ("chitchat", "recommend_for_me"):
        return intent

    if prev is None:
        # nothing to refine: a follow-up without context becomes a plain search
        update: dict = {"action": "search"}
        if CUE_CHEAPER in cues and intent.price_max is None:
            update["sort"] = "price_asc"
        if CUE_PRICIER in cues and intent.price_min is None:
            update["sort"] = "price_desc"
        return intent.model_copy(update=update) if intent.action == "refine" else intent

    refine_cues = cues & {CUE_CHEAPER, CUE_PRICIER, CUE_INSTEAD, CUE_MORE_LIKE, CUE_MORE}
    new_product = bool(intent.category) and intent.category != prev.category
    if intent.action == "search" and not refine_cues and (new_product or not _is_constraint_only(intent)):
        return intent          # a new search
    if new_product and CUE_INSTEAD in cues:
        # "what about perfume instead?": new product, same shopper constraints
        keep = {k: getattr(prev, k) for k in ("price_min", "price_max", "currency", "recipient", "occasion")}
        update = {k: v for k, v in keep.items() if getattr(intent, k) in (None, [])}
        update["action"] = "refine"
        return intent.model_copy(update=update)
    return _refine(prev, intent, cues, refers, session)


def _is_constraint_only(intent: Intent) -> bool:
    """A message that only adds constraints ("under $20", "not pink", "waterproof ones", and a brand
    without a product type: "maybelline ones" after "mascara" means Maybelline mascara)."""
    return not intent.category or intent.action == "refine"


def _refine(prev: Intent, new: Intent, cues: set[str], refers: list[int], session: Session) -> Intent:
    out = prev.model_dump()
    out["action"] = "refine"
    out["language"] = new.language
    out["refers_to"] = []

    # price
    if new.price_min is not None or new.price_max is not None:
        out["price_min"], out["price_max"] = new.price_min, new.price_max
        out["currency"] = new.currency or prev.currency
    elif CUE_CHEAPER in cues:
        prices = _prices(session.last_products)
        if prices:
            reference = statistics.median(prices)
            out["price_max"] = round(min(reference, prev.price_max or reference), 2)
        elif prev.price_max:
            out["price_max"] = round(prev.price_max * 0.7, 2)
        else:
            out["sort"] = "price_asc"
        if out["price_min"] is not None and out["price_max"] is not None and out["price_min"] >= out["price_max"]:
            out["price_min"] = None
    elif CUE_PRICIER in cues:
        prices = _prices(session.last_products)
        if prices:
            out["price_min"] = round(statistics.median(prices), 2)
            if out["price_max"] is not None and out["price_max"] <= out["price_min"]:
                out["price_max"] = None
        else:
            out["price_min"] = prev.price_max
            out["price_max"] = None
            if out["price_min"] is None:
                out["sort"] = "price_desc"

    # attributes: a new colour replaces the old ones; explicit exclusions win
    new_colors = [t for t in new.must_have if t in _COLORS]
    must = [t for t in prev.must_have if not (new_colors and t in _COLORS)]
    must += [t for t in new.must_have if t not in must]
    exclude = [t for t in prev.exclude if t not in new.must_have] + [t for t in new.exclude if t not in prev.exclude]
    out["must_have"] = [t for t in must if t not in exclude]
    out["exclude"] = exclude

    for key in ("brand", "recipient", "occasion"):
        if getattr(new, key):
            out[key] = getattr(new, key)
    if new.sort != "relevance":
        out["sort"] = new.sort
    if new.category and new.category == prev.category:
        out["category"] = new.category

    # search text: previous words minus replaced colours and exclusions, plus the new words
    dropped = set(" ".join(exclude).split())
    if new_colors:
        dropped |= {c for c in prev.must_have if c in _COLORS}
    words = [w for w in prev.search_text.split() if w not in dropped]
    new_words = new.search_text.split()
    if prev.category and new.search_text.startswith("gift"):
        new_words = []   # "something for my wife instead": the recipient changes, not the product
    words += [w for w in new_words if w not in words and w not in dropped]

    if CUE_MORE_LIKE in cues:
        targets = refers or list(session.focus) or ([1] if session.last_products else [])
        out["refers_to"] = targets
        titles = [str(_get(session.product_at(p), "title", "") or "") for p in targets if session.product_at(p)]
        if titles:   # "more like that": search near the product itself
            words = " ".join(titles).lower().split()[:12]
    elif refers:
        out["refers_to"] = refers
    out["search_text"] = " ".join(words)
    return Intent.model_validate(out)
