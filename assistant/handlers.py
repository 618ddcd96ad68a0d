"""Plain handler functions behind the Gradio app: Engine in, JSON / HTML out.

Nothing here imports gradio (or anything heavy), so every function can be unit-tested with a small
fake engine and `shopassist --help` stays instant. `assistant/ui.py` only wires these to
components and turns `UserError` into `gr.Error`.

Two groups:
- `api_*`: the public HTTP API (`/chat`, `/recommend`, `/event`, `/search`); the arguments are
  checked here with the one validator per argument (assistant/arguments.py, also used by the
  Engine and the CLI: same value, same message); what needs the catalog (unknown item, event type,
  catalog) is checked in the Engine, which raises UserError.
- UI helpers: product cards, the shopper selector, chat streaming, card actions, the merchant lab.
"""
from __future__ import annotations

import functools
import html
import re
import time
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from assistant import insights
from assistant.arguments import MAX_ID_CHARS, MAX_TEXT_CHARS, check_filters, check_k, check_text
from assistant.errors import UserError
from retrieval.catalog import format_price

MAX_MESSAGE_CHARS = MAX_TEXT_CHARS   # longer chat messages are refused, not truncated silently
NEW_SHOPPER = "__new__"     # dropdown value meaning "generate a fresh anonymous shopper id"
ANON_PREFIX = "anon-"

# Card buttons -> (event type, value) recorded through Engine.record_event.
# "Like" records a "click" (interest, weight 1 in ranking/events.py), not a "rating": ranking treats
# a rating as a review of something the shopper owns (OWNED_TYPES), which would mark a merely liked
# item as bought and drop it from the recommendations. Documented in docs/APP.md.
CARD_ACTIONS: dict[str, tuple[str, float | None]] = {
    "view": ("view", None),
    "like": ("click", None),
    "cart": ("cart", None),
    "buy": ("purchase", None),
}
CARD_BUTTONS = (("view", "View"), ("like", "Like"), ("cart", "Add to cart"), ("buy", "Buy"))
ACTION_PAST = {"view": "Viewed", "like": "Liked", "cart": "Added to cart", "buy": "Bought"}


# ------------------------------------------------------------------------------ latency
def record_latency(engine, endpoint: str, ms: float) -> None:
    """Into the Engine's in-memory LatencyLog (assistant/insights.py), when it has one."""
    log = getattr(engine, "latency", None)
    if log is not None:
        log.record(endpoint, ms)


@contextmanager
def timed(engine, endpoint: str):
    """Time one API call (refused ones too: they are answered, and the answer took time)."""
    t = time.perf_counter()
    try:
        yield
    finally:
        record_latency(engine, endpoint, (time.perf_counter() - t) * 1000)


def timed_endpoint(endpoint: str):
    """Decorator for the api_* handlers (engine first): every call's latency goes to the LatencyLog."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(engine, *args, **kwargs):
            with timed(engine, endpoint):
                return fn(engine, *args, **kwargs)
        return inner
    return wrap


# ------------------------------------------------------------------------------ public API
@timed_endpoint("/chat")
def api_chat(engine, message: str, user_id: str | None = None, session_id: str | None = None,
             catalog: str | None = None) -> dict:
    """/chat -> {reply, products, intent} (plus timings_ms)."""
    message = check_text(message, "message", max_chars=MAX_MESSAGE_CHARS)
    user_id = check_text(user_id, "user_id", required=False, max_chars=MAX_ID_CHARS)
    session_id = check_text(session_id, "session_id", required=False, max_chars=MAX_ID_CHARS)
    catalog = check_text(catalog, "catalog", required=False, max_chars=MAX_ID_CHARS)
    if user_id is None and session_id is None:
        # no shopper and no conversation: a one-off turn, never another anonymous caller's context
        session_id = new_session_id()
    result = engine.chat(message, user_id=user_id, session_id=session_id, catalog=catalog)
    return {"reply": result.reply, "products": list(result.products), "intent": dict(result.intent),
            "timings_ms": dict(getattr(result, "timings_ms", {}) or {})}


@timed_endpoint("/recommend")
def api_recommend(engine, user_id: str | None, query: str | None = None, k: int = 10,
                  catalog: str | None = None) -> list[dict]:
    """/recommend -> list of product JSON, personalised for user_id (None/"" = cold start)."""
    user_id = check_text(user_id, "user_id", required=False, max_chars=MAX_ID_CHARS)
    query = check_text(query, "query", required=False, max_chars=MAX_MESSAGE_CHARS)
    k = check_k(k)
    catalog = check_text(catalog, "catalog", required=False, max_chars=MAX_ID_CHARS)
    return list(engine.recommend(user_id, query=query, k=k, catalog=catalog))


@timed_endpoint("/event")
def api_event(engine, user_id: str, item_id: str, type: str, event_id: str | None = None,
              catalog: str | None = None, value: float | str | None = None) -> dict:
    """/event -> {ok, event_id, duplicate, user_id, item_id, type}. Unknown item/type: UserError."""
    user_id = check_text(user_id, "user_id", max_chars=MAX_ID_CHARS)
    type = check_text(type, "event type", max_chars=50)
    # a "search" event carries its query in value and may have no item
    item_id = check_text(item_id, "item_id", required=type != "search", max_chars=MAX_ID_CHARS)
    event_id = check_text(event_id, "event_id", required=False, max_chars=MAX_ID_CHARS)
    catalog = check_text(catalog, "catalog", required=False, max_chars=MAX_ID_CHARS)
    return dict(engine.record_event(user_id, item_id, type, event_id=event_id, value=value,
                                    catalog=catalog))


@timed_endpoint("/search")
def api_search(engine, query: str, k: int = 10, filters: str | dict | None = None,
               catalog: str | None = None) -> list[dict]:
    """/search -> list of product JSON (no personalisation)."""
    query = check_text(query, "query", max_chars=MAX_MESSAGE_CHARS)
    k = check_k(k)
    filters = check_filters(filters)
    catalog = check_text(catalog, "catalog", required=False, max_chars=MAX_ID_CHARS)
    return list(engine.search(query, k=k, filters=filters, catalog=catalog))


# ------------------------------------------------------------------------------ HTML rendering
def esc(value: Any) -> str:
    """Product text -> safe HTML text (quotes too, so it is safe inside attributes).

    Entities already in the data are decoded first (Amazon titles carry "&#9733;" and "&amp;"), so
    they show as the characters they stand for; then everything is escaped, so nothing in the data
    can become markup."""
    return html.escape(html.unescape("" if value is None else str(value)), quote=True)


CATEGORY_SEPARATORS = re.compile(r"\s*(?:>|›|/|\|)\s*")


def category_label(category: Any, levels: int = 2) -> str:
    """A category path ("Beauty > Skin Care > Face > Cleansers") -> its last levels ("Face › Cleansers")."""
    if category is None:
        return ""
    parts = [x for x in CATEGORY_SEPARATORS.split(html.unescape(str(category)).strip()) if x]
    return " › ".join(parts[-levels:])


def _card(p: dict, *, buttons: bool) -> str:
    item_id = esc(p.get("id"))
    title = esc(p.get("title") or p.get("id") or "(untitled)")
    price = format_price(p.get("price"), p.get("currency"))
    brand = esc(p.get("brand") or "")
    category = esc(category_label(p.get("category")))
    why = esc(p.get("why") or "")
    meta = []
    if price:
        meta.append(f'<span class="sa-price">{esc(price)}</span>')
    if brand:
        meta.append(f'<span class="sa-brand">{brand}</span>')
    if category:
        meta.append(f'<span class="sa-category" title="{esc(p.get("category"))}">{category}</span>')
    if p.get("closest"):
        meta.append(f'<span class="sa-closest">closest match (not {esc(p["closest"])})</span>')
    parts = [f'<div class="sa-card" data-item="{item_id}">',
             f'<div class="sa-title" title="{title}">{title}</div>']
    if meta:
        parts.append(f'<div class="sa-meta">{" · ".join(meta)}</div>')
    if why:
        parts.append(f'<div class="sa-why" title="{why}">{why}</div>')
    if buttons:
        parts.append('<div class="sa-actions">')
        for action, label in CARD_BUTTONS:
            parts.append(f'<button type="button" class="sa-btn sa-{action}" data-action="{action}" '
                         f'data-item="{item_id}">{label}</button>')
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def render_cards(products: Iterable[dict] | None, *, buttons: bool = True, empty: str = "",
                 heading: str | None = None) -> str:
    """Product cards as one HTML string; every piece of product text is escaped."""
    products = list(products or [])
    head = f'<div class="sa-heading">{esc(heading)}</div>' if heading else ""
    if not products:
        return f'<div class="sa-cards sa-empty">{head}<div class="sa-note">{esc(empty)}</div></div>'
    cards = "".join(_card(p, buttons=buttons) for p in products)
    return f'<div class="sa-cards" data-count="{len(products)}">{head}<div class="sa-grid">{cards}</div></div>'


def render_history(user: dict | None) -> str:
    """A few items of a demo shopper's history (or a note for a new shopper)."""
    if not user:
        return '<div class="sa-history sa-note">New shopper: no history yet (cold start).</div>'
    recent = [esc(_short(html.unescape(str(t)), 90)) for t in (user.get("recent") or [])][:5]
    n = user.get("n_events")
    head = f"{esc(n)} events" if n is not None else "History"
    items = "".join(f"<li>{t}</li>" for t in recent) or "<li>(no items)</li>"
    return f'<div class="sa-history"><div class="sa-note">{head}; recently:</div><ul>{items}</ul></div>'


# CSS + JS for the card components (gr.HTML css_template is scoped to the component root).
CARDS_CSS = """
.sa-heading { font-weight: 600; margin: 4px 0 8px; }
.sa-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; }
.sa-card { border: 1px solid var(--border-color-primary, #ddd); border-radius: 10px; padding: 10px;
           background: var(--background-fill-primary, #fff); display: flex; flex-direction: column; gap: 4px; }
.sa-title { font-weight: 600; font-size: 0.95em; line-height: 1.25; overflow: hidden;
            display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; }
.sa-meta { font-size: 0.85em; opacity: 0.85; }
.sa-price { font-weight: 600; }
.sa-category { opacity: 0.8; }
.sa-why { font-size: 0.82em; opacity: 0.8; font-style: italic; overflow: hidden;
          display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; }
.sa-actions { display: flex; flex-wrap: wrap; gap: 4px; margin-top: auto; padding-top: 4px; }
.sa-btn { font-size: 0.78em; padding: 2px 8px; border-radius: 6px; cursor: pointer;
          border: 1px solid var(--border-color-primary, #ccc); background: var(--button-secondary-background-fill, #f3f3f3); }
.sa-btn:hover { filter: brightness(0.95); }
.sa-cart, .sa-buy { border-color: var(--color-accent, #f97316); }
.sa-note { opacity: 0.75; font-size: 0.9em; }
.sa-history ul { margin: 4px 0 0 18px; padding: 0; font-size: 0.85em; }
"""

# One delegated listener on the component root: survives re-renders of the value.
# The custom event name must appear quoted here for gr.HTML to expose `.card_action(...)`.
CARDS_JS = """
element.addEventListener('click', (e) => {
  const btn = e.target.closest('button[data-action]');
  if (!btn || !element.contains(btn)) return;
  trigger('card_action', {item_id: btn.dataset.item, action: btn.dataset.action});
});
"""


# ------------------------------------------------------------------------------ shopper tab
def new_shopper_id() -> str:
    return ANON_PREFIX + uuid.uuid4().hex[:12]


def new_session_id() -> str:
    return "s-" + uuid.uuid4().hex[:16]


def shopper_choices(demo_users: list[dict]) -> list[tuple[str, str]]:
    """Dropdown (label, value) pairs: 'New shopper' first, then the demo shoppers."""
    choices = [("New shopper (anonymous, cold start)", NEW_SHOPPER)]
    for u in demo_users:
        recent = u.get("recent") or []
        hint = f" — {recent[0][:40]}" if recent else ""
        choices.append((f"{u['user_id']} ({u.get('n_events', '?')} events){hint}", str(u["user_id"])))
    return choices


def select_shopper(choice: str | None, demo_users: list[dict]) -> tuple[str, str]:
    """Dropdown value -> (user_id, history HTML). NEW_SHOPPER/None -> a fresh anonymous id."""
    if not choice or choice == NEW_SHOPPER:
        return new_shopper_id(), render_history(None)
    user = next((u for u in demo_users if str(u.get("user_id")) == choice), None)
    return choice, render_history(user or {"user_id": choice, "recent": []})


RECS_K = 6


def recommendations_html(engine, user_id: str | None, catalog: str | None, k: int = RECS_K) -> str:
    products = engine.recommend(user_id or None, k=k, catalog=catalog or None)
    return render_cards(products, empty="No recommendations yet.")


def card_action(engine, user_id: str | None, item_id: str | None, action: str | None,
                catalog: str | None = None) -> tuple[dict, str]:
    """A card button -> a recorded event. Returns (ack, one-line status text)."""
    if action not in CARD_ACTIONS:
        raise UserError(f"Unknown card action {action!r}; accepted: {', '.join(CARD_ACTIONS)}")
    if not user_id:
        raise UserError("Pick a shopper first (or 'New shopper').")
    etype, value = CARD_ACTIONS[action]
    ack = engine.record_event(user_id, item_id, etype, value=value, catalog=catalog or None)
    status = f"{ACTION_PAST[action]} item {item_id} (event '{etype}' recorded for {user_id})."
    if ack.get("duplicate"):
        status += " (duplicate, ignored)"
    return ack, status


def chat_text(text: str) -> str:
    """Chat bubble text. The Chatbot runs with render_markdown=False and shows newlines as they are;
    escaping <, > and & makes product titles with HTML show literally, like on the cards."""
    return html.escape(html.unescape(text or ""), quote=False)


KEEP_CARDS_ACTIONS = ("ask_about_product", "compare")   # answers about the cards already shown
THINKING = "Thinking …"                    # the bubble before the engine's first result
STILL_THINKING = "… still thinking"        # appended while the engine refines a pending result


# The indicator under the chat while a turn works (before the first result, and while it is pending).
THINKING_HTML = ('<div class="sa-thinking" role="status" aria-live="polite">'
                 '<span class="sa-dot"></span><span class="sa-dot"></span><span class="sa-dot"></span>'
                 ' ShopAssist is thinking …</div>')
THINKING_CSS = """
.sa-thinking { display: flex; align-items: center; gap: 4px; font-size: 0.9em; opacity: 0.85; padding: 2px 6px; }
.sa-dot { width: 7px; height: 7px; border-radius: 50%; background: var(--color-accent, #f97316);
          animation: sa-blink 1.2s infinite ease-in-out; }
.sa-dot:nth-child(2) { animation-delay: 0.2s; }
.sa-dot:nth-child(3) { animation-delay: 0.4s; }
@keyframes sa-blink { 0%, 80%, 100% { opacity: 0.2; } 40% { opacity: 1; } }
"""


def chat_stream(engine, message: str, history: list[dict] | None, user_id: str | None,
                session_id: str | None, catalog: str | None
                ) -> Iterator[tuple[list[dict], list[dict] | None, bool]]:
    """Streams (chat history in messages format, products or None while there are none yet, working).

    The bubble is never empty: it says THINKING until the engine's first result, and a result the
    engine marks `pending` (it is still refining it) carries STILL_THINKING. `working` is True until
    the turn is done. The last item always carries the final product list (possibly empty)."""
    message = check_text(message, "message", max_chars=MAX_MESSAGE_CHARS)
    started = time.perf_counter()
    history = [dict(m) for m in (history or [])]
    history.append({"role": "user", "content": chat_text(message)})
    history.append({"role": "assistant", "content": THINKING})
    yield list(history), None, True
    last = None
    try:
        for result in engine.chat_stream(message, user_id=user_id or None, session_id=session_id or None,
                                         catalog=catalog or None):
            last = result
            pending = bool(getattr(result, "pending", False))
            text = chat_text(result.reply) or THINKING
            history[-1] = {"role": "assistant", "content": f"{text}\n\n{STILL_THINKING}" if pending and
                           text != THINKING else text}
            # the Engine sends the products with its first partial: show the cards as soon as they exist
            yield list(history), (list(result.products) if result.products else None), True
    finally:
        record_latency(engine, "chat (UI)", (time.perf_counter() - started) * 1000)
    products = list(last.products) if last is not None else []
    if not products and last is not None and (last.intent or {}).get("action") in KEEP_CARDS_ACTIONS:
        products = None   # a question about a shown product: the cards it is about stay on screen
    history[-1] = {"role": "assistant",
                   "content": chat_text(last.reply) if last is not None and last.reply else "(no answer)"}
    yield list(history), products, False


# ------------------------------------------------------------------------------ merchant lab
def _component_names(products: list[dict]) -> list[str]:
    names: list[str] = []
    for p in products:
        for name in (p.get("components") or {}):
            if name not in names:
                names.append(name)
    return names


def _num(x: Any, digits: int = 3) -> Any:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return round(float(x), digits)
    return x


def _short(text: Any, n: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def results_table(products: list[dict], components: list[str] | None = None,
                  title_chars: int = 60) -> tuple[list[str], list[list]]:
    """(headers, rows): rank, id, title (shortened), final score, then every score component."""
    components = components if components is not None else _component_names(products)
    headers = ["#", "id", "title", "score", *components]
    rows = []
    for i, p in enumerate(products, 1):
        comps = p.get("components") or {}
        rows.append([i, str(p.get("id")), _short(p.get("title"), title_chars), _num(p.get("score")),
                     *[_num(comps.get(c)) if c in comps else None for c in components]])
    return headers, rows


def render_table(headers: list[str], rows: list[list], *, empty: str = "No results.") -> str:
    """A compact, fully escaped HTML table (numbers right-aligned, long titles clipped)."""
    if not rows:
        return f'<div class="sa-note">{esc(empty)}</div>'
    head = "".join(f'<th class="sa-col-{esc(c)}">{esc(c)}</th>' for c in headers)
    body = []
    for row in rows:
        cells = []
        for col, value in zip(headers, row):
            num = isinstance(value, (int, float)) and not isinstance(value, bool)
            text = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
            cls = "sa-num" if num else f"sa-col-{esc(col)}"
            title = f' title="{esc(text)}"' if col == "title" else ""
            cells.append(f'<td class="{cls}"{title}>{esc(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="sa-table-wrap"><table class="sa-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


TABLE_CSS = """
.sa-table-wrap { overflow-x: auto; }
.sa-table { border-collapse: collapse; font-size: 0.8em; width: 100%; }
.sa-table th, .sa-table td { padding: 3px 5px; border-bottom: 1px solid var(--border-color-primary, #e5e5e5);
                             white-space: nowrap; text-align: left; }
.sa-table th { font-weight: 600; }
.sa-table td.sa-num { text-align: right; font-variant-numeric: tabular-nums; }
.sa-table td.sa-col-title { max-width: 130px; overflow: hidden; text-overflow: ellipsis; }
.sa-note { opacity: 0.75; font-size: 0.9em; }
"""


def timings_rows(timings: dict) -> list[list]:
    rows = [[stage, round(float(ms), 1)] for stage, ms in (timings or {}).items()
            if isinstance(ms, (int, float))]
    if rows and "total" not in (timings or {}):
        rows.append(["total", round(sum(r[1] for r in rows), 1)])
    return rows


def lab_run(engine, query: str, user_id: str | None, k: int = 10, catalog: str | None = None) -> dict:
    """Merchant lab: everything the query tester shows, as plain data."""
    query = check_text(query, "query", max_chars=MAX_MESSAGE_CHARS)
    k = check_k(k)
    user_id = check_text(user_id, "user_id", required=False, max_chars=MAX_ID_CHARS)
    if user_id == NEW_SHOPPER:
        user_id = None
    out = engine.lab(query, user_id=user_id, k=k, catalog=catalog or None)
    personalised = list(out.get("personalised") or [])
    plain = list(out.get("plain") or [])
    comps = _component_names(personalised + plain)
    p_headers, p_rows = results_table(personalised, comps)
    n_headers, n_rows = results_table(plain, comps)
    return {"intent": out.get("intent") or {}, "timings": timings_rows(out.get("timings_ms") or {}),
            "personalised": (p_headers, p_rows), "plain": (n_headers, n_rows),
            "overlap": len({p.get("id") for p in personalised} & {p.get("id") for p in plain}),
            "products": {"personalised": personalised, "plain": plain}}


# retrieval.catalog.ColumnMapping fields; "text" and "attributes" take comma-separated column lists.
MAPPING_FIELDS = ("id", "title", "description", "text", "price", "currency", "brand", "category",
                  "rating", "url", "attributes")


def mapping_from_fields(values: dict[str, str | None]) -> dict | None:
    """Column-mapping textboxes -> a mapping dict with only the filled fields (None if empty)."""
    mapping = {}
    for key, col in values.items():
        if key not in MAPPING_FIELDS:
            raise UserError(f"Unknown mapping field {key!r}; accepted: {', '.join(MAPPING_FIELDS)}")
        if col is not None and str(col).strip():
            mapping[key] = str(col).strip()
    return mapping or None


def import_catalog(engine, path: str | None, name: str | None, mapping: dict | None = None,
                   skip_bad_rows: bool = False, progress: Callable | None = None) -> tuple[dict, str]:
    """Catalog upload -> (summary dict, markdown report)."""
    if not path:
        raise UserError("Choose a CSV or JSONL file to import.")
    name = check_text(name, "catalog name", max_chars=60)
    summary = engine.import_catalog(path, name, mapping=mapping, skip_bad_rows=bool(skip_bad_rows),
                                    progress=progress)
    lines = [f"**Imported `{esc(summary.get('name', name))}`**: {summary.get('n_imported', 0)} products"]
    if summary.get("n_duplicates"):
        lines[0] += f", {summary['n_duplicates']} duplicate ids skipped"
    errors = list(summary.get("errors") or [])
    if errors:
        lines.append(f"\n{len(errors)} rows skipped:")
        lines.extend(f"- {esc(e)}" for e in errors[:20])
        if len(errors) > 20:
            lines.append(f"- ... and {len(errors) - 20} more")
    return summary, "\n".join(lines)


# ------------------------------------------------------------------------------ demo first screen
N_EXAMPLES = 5   # example-request buttons on the shopper tab (kinds: insights.EXAMPLE_KINDS)


def example_messages(engine, catalog: str | None) -> list[tuple[str, str]]:
    """[(kind, message)] that work on this catalog (insights.example_requests), at most N_EXAMPLES."""
    return insights.example_requests(engine.catalog(catalog or None))[:N_EXAMPLES]


def render_demo_shoppers(demo_users: list[dict], n: int = 4) -> str:
    """The first demo shoppers, one line of history each (the selector has all of them)."""
    if not demo_users:
        return '<div class="sa-note">No demo shoppers in this store yet: pick "New shopper".</div>'
    rows = []
    for u in demo_users[:n]:
        recent = u.get("recent") or []
        line = f" · recently: {esc(_short(html.unescape(str(recent[-1])), 60))}" if recent else ""
        rows.append(f'<li><code>{esc(u.get("user_id"))}</code> · {esc(u.get("n_events", "?"))} events{line}</li>')
    return f'<div class="sa-shoppers"><div class="sa-note">Demo shoppers:</div><ul>{"".join(rows)}</ul></div>'


# ------------------------------------------------------------------------------ merchant lab panels
def lab_model_report(engine, catalog: str | None) -> dict:
    """insights.model_report for the catalog's live bundle, plus a one-paragraph summary."""
    cat = engine.catalog(catalog or None)
    manifest = engine.model_manifest(catalog or None)
    anchors = engine.model_anchors(catalog or None)   # published figures for this benchmark, or None
    beauty = anchors is not None
    report = insights.model_report(manifest, anchors=anchors)
    if not report["trained"]:
        report["summary"] = (f"No trained models for catalog `{esc(cat.name)}` yet: recommendations use "
                             "popularity from the live events. Train with `shopassist train`.")
        return report
    weights = ", ".join(f"{w['model']} {w['weight']:g}" for w in report["weights"])
    report["summary"] = (
        f"Bundle `{esc(report['version'])}`, trained {esc(report['trained_at'] or '?')} on "
        f"{report['n_events'] or 0:,} events ({report['n_users'] or 0:,} shoppers, {report['n_items'] or 0:,} items). "
        f"Models: {esc(', '.join(report['models']))}. Fusion weights: {esc(weights) or '-'}. "
        "Bars: NDCG@10 / HR@10 on the validation split (each shopper's second-to-last event)"
        + ("; grey bars: published anchors on Amazon Beauty (test split, full ranking; each label says "
           "whether it is the same 5-core build)." if beauty else "."))
    return report


LIVE_MINUTES = 30   # the live-activity window


def lab_activity(engine, minutes: int = LIVE_MINUTES) -> dict:
    """Events per minute by type, active shoppers and the latest events from the event store, and
    p50 / p99 latency per endpoint from the Engine's in-memory LatencyLog, over the last `minutes`."""
    out = insights.live_activity(engine.recent_events(), minutes=minutes)
    log = getattr(engine, "latency", None)
    out["latency"] = log.summary(minutes) if log is not None else []
    kinds = ", ".join(f"{t} {n}" for t, n in out["by_type"]) or "none"
    out["summary"] = (f"Last {minutes} minutes: **{out['n_events']} events** ({esc(kinds)}), "
                      f"**{out['active_shoppers']} active shoppers**.")
    return out


def lab_query_insights(engine, catalog: str | None) -> dict:
    """insights.query_insights over the stored (redacted) chat turns and search events."""
    messages = engine.recent_chat()
    searches = [str(e.value) for e in engine.recent_events() if e.type == "search" and e.value]
    brands = list(insights.catalog_facets(engine.catalog(catalog or None)).brands)
    out = insights.query_insights(messages, searches, brands=brands)
    out["summary"] = (f"{out['n_queries']} stored queries ({out['n_chat']} chat turns, {out['n_search']} search "
                      f"events). **{out['llm_share']:.0%}** needed the LLM (the rules alone were not confident).")
    return out


def lab_catalog_health(engine) -> list[dict]:
    """insights.catalog_health for every catalog."""
    return [insights.catalog_health(engine.catalog(name)) for name in engine.catalogs()]


def why_rank_rows(products: list[dict] | None, item_id: str | None) -> list[dict]:
    """"Why this rank": the chosen lab result's score components (insights.component_bars)."""
    chosen = next((p for p in (products or []) if str(p.get("id")) == str(item_id)), None)
    return insights.component_bars(chosen)
