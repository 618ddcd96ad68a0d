"""The Gradio Blocks: layout and wiring only. Logic lives in assistant/handlers.py (plain functions).

    build_app(engine) -> gr.Blocks      # Shopper tab, Merchant lab tab, the public HTTP API
    launch(demo, host, port)            # queue limits + launch options in one place

Public HTTP API (stable names; everything else is api_visibility="private"):
    /chat       (message, user_id=None, session_id=None, catalog=None) -> {reply, products, intent, timings_ms}
    /recommend  (user_id=None, query=None, k=10, catalog=None)         -> [product]
    /event      (user_id, item_id, type, event_id=None, catalog=None)  -> {ok, event_id, duplicate, ...}
    /search     (query, k=10, filters=None, catalog=None)              -> [product]

gradio is imported inside the functions so `import assistant.ui` stays cheap.
"""
# NB: no `from __future__ import annotations` here: gr.api reads the endpoint type hints at runtime.
import contextlib
import html
import os
import re
from typing import Optional, Union

from assistant import handlers as h
from assistant.errors import UserError

# Concurrency, chosen deliberately (Engine is thread-safe; models load once and are shared):
CHAT_CONCURRENCY = 4        # chat runs the LLM: a few at once, the rest wait in the queue
FAST_CONCURRENCY = 16       # recommend / search / event / card clicks: milliseconds each
LAB_CONCURRENCY = 2         # merchant lab: runs the pipeline twice
IMPORT_CONCURRENCY = 1      # catalog import: embeds a whole catalog
QUEUE_MAX_SIZE = 256        # beyond this, new requests are refused with "queue is full"
# Gradio keeps a session state (~150 KB: the config of every block of this UI) per session hash,
# and an API call without a hash gets a new one; Gradio's default keeps 10,000 (~1.5 GB). The
# oldest-used sessions beyond this are dropped (a browser tab in use is touched on every event).
SESSION_CAPACITY = 2000


@contextlib.contextmanager
def user_errors(*, for_browser: bool = True):
    """UserError / ValueError (clear messages by contract) -> gr.Error: shown, no traceback.

    for_browser: the page renders a gr.Error message as HTML, so <, > and & are escaped for the UI's
    own events. The public API endpoints pass False: their callers get the message as plain text."""
    import gradio as gr

    try:
        yield
    except gr.Error:
        raise
    except (UserError, ValueError, FileNotFoundError) as exc:
        message = html.escape(str(exc), quote=False) if for_browser else str(exc)
        raise gr.Error(message, print_exception=False) from None


def _default_catalog(engine, names: list[str]) -> Optional[str]:
    default = getattr(getattr(engine, "settings", None), "default_catalog", None)
    if default in names:
        return default
    return names[0] if names else None


def build_app(engine, *, title: str = "ShopAssist", demo_users_n: int = 20):
    """The whole app for one (prepared) Engine. Nothing is launched here."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    demo_users = list(engine.demo_users(n=demo_users_n))
    catalog_names = list(engine.catalogs())
    default_catalog = _default_catalog(engine, catalog_names)
    shopper_choices = h.shopper_choices(demo_users)
    lab_user_choices = [("None (not personalised)", "")] + shopper_choices[1:]

    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        session_id = gr.State(None)
        with gr.Row(equal_height=True):
            gr.Markdown(f"## {title}\nAn offline shopping assistant with live recommendations.")
            catalog = gr.Dropdown(choices=catalog_names, value=default_catalog, label="Catalog",
                                  elem_id="catalog", scale=0, min_width=220, allow_custom_value=False)

        # ------------------------------------------------------------------ Shopper tab
        with gr.Tab("Shopper", id="shopper", elem_id="tab-shopper"):
            with gr.Row():
                with gr.Column(scale=3):
                    # plain text bubbles (handlers.chat_text escapes): product titles never render as HTML/Markdown
                    chatbot = gr.Chatbot(label="Assistant", elem_id="chat", height=380, render_markdown=False,
                                         placeholder="Ask for a product, e.g. *a gentle face cleanser under $20*")
                    with gr.Row():
                        msg = gr.Textbox(placeholder="What are you looking for?", show_label=False,
                                         elem_id="msg", scale=5, lines=1, max_lines=3, autofocus=True)
                        send = gr.Button("Send", variant="primary", elem_id="send", scale=1, min_width=80)
                    cards = gr.HTML(h.render_cards([], empty="Products from the assistant's answer appear here."),
                                    css_template=h.CARDS_CSS, js_on_load=h.CARDS_JS, elem_id="cards")
                    status = gr.Markdown("", elem_id="event-status")
                with gr.Column(scale=2):
                    shopper = gr.Dropdown(choices=shopper_choices, value=h.NEW_SHOPPER, label="Shopper",
                                          elem_id="shopper")
                    user_id = gr.Textbox(label="Shopper id", elem_id="user-id", interactive=False, max_lines=1)
                    history = gr.HTML(h.render_history(None), elem_id="history", css_template=h.CARDS_CSS,
                                      js_on_load=None)
                    gr.Markdown("### Recommended for you")
                    recs = gr.HTML(h.render_cards([], empty="Loading ..."), css_template=h.CARDS_CSS,
                                   js_on_load=h.CARDS_JS, elem_id="recs")

        # ------------------------------------------------------------------ Merchant lab tab
        with gr.Tab("Merchant lab", id="lab", elem_id="tab-lab"):
            gr.Markdown("### Query tester\nParsed intent, every score component, stage latency, and "
                        "personalised vs plain ranking for the same query.")
            with gr.Row():
                lab_user = gr.Dropdown(choices=lab_user_choices, value="", label="Shopper (or paste an id)",
                                       allow_custom_value=True, elem_id="lab-user", scale=2)
                lab_query = gr.Textbox(label="Query", elem_id="lab-query", scale=4,
                                       placeholder="moisturizer for dry skin under $30")
                lab_k = gr.Slider(1, 50, value=10, step=1, label="k", elem_id="lab-k", scale=1)
                lab_run = gr.Button("Run", variant="primary", elem_id="lab-run", scale=1)
            with gr.Row():
                lab_intent = gr.JSON(label="Parsed intent", elem_id="lab-intent")
                lab_timings = gr.Dataframe(headers=["stage", "ms"], label="Latency per stage",
                                           elem_id="lab-timings", interactive=False)
            lab_overlap = gr.Markdown("")
            with gr.Row():
                with gr.Column():
                    gr.Markdown("**Personalised** for the shopper")
                    lab_pers = gr.HTML(h.render_table([], [], empty="Run a query."), elem_id="lab-personalised",
                                       css_template=h.TABLE_CSS, js_on_load=None, apply_default_css=False)
                with gr.Column():
                    gr.Markdown("**Not personalised** (same query, anonymous)")
                    lab_plain = gr.HTML(h.render_table([], [], empty="Run a query."), elem_id="lab-plain",
                                        css_template=h.TABLE_CSS, js_on_load=None, apply_default_css=False)

            gr.Markdown("### Import a catalog\nCSV or JSONL; leave the mapping blank to auto-detect columns.")
            with gr.Row():
                up_file = gr.File(label="Catalog file", file_types=[".csv", ".jsonl", ".json"],
                                  type="filepath", elem_id="upload-file")
                with gr.Column():
                    up_name = gr.Textbox(label="Catalog name", placeholder="my-shop", elem_id="upload-name")
                    up_skip = gr.Checkbox(label="Skip bad rows (report them) instead of refusing the file",
                                          value=True)
                    up_button = gr.Button("Import", variant="primary", elem_id="upload-run")
            with gr.Accordion("Column mapping (optional)", open=False):
                with gr.Row():
                    map_boxes = [gr.Textbox(label=(f"{field} columns (comma-separated)"
                                                   if field in ("text", "attributes") else f"{field} column"),
                                            max_lines=1, min_width=140)
                                 for field in h.MAPPING_FIELDS]
            up_report = gr.Markdown("", elem_id="upload-report")
            up_summary = gr.JSON(label="Import summary", elem_id="upload-summary")

        # ------------------------------------------------------------------ wiring (private)
        def on_load(choice, cat):
            names = list(engine.catalogs())
            cat = cat if cat in names else _default_catalog(engine, names)
            uid, hist = h.select_shopper(choice, demo_users)
            with user_errors():
                recs_html = h.recommendations_html(engine, uid, cat)
            return (h.new_session_id(), uid, hist, recs_html, gr.Dropdown(choices=names, value=cat))

        demo.load(on_load, [shopper, catalog], [session_id, user_id, history, recs, catalog],
                  api_visibility="private", concurrency_limit=FAST_CONCURRENCY,
                  concurrency_id="fast")

        def on_shopper(choice, cat):
            uid, hist = h.select_shopper(choice, demo_users)
            with user_errors():
                recs_html = h.recommendations_html(engine, uid, cat)
            return uid, hist, recs_html, h.new_session_id(), [], h.render_cards([], empty="")

        shopper.input(on_shopper, [shopper, catalog], [user_id, history, recs, session_id, chatbot, cards],
                      api_visibility="private", concurrency_limit=FAST_CONCURRENCY, concurrency_id="fast")

        def on_catalog(uid, cat):
            with user_errors():
                recs_html = h.recommendations_html(engine, uid, cat)
            return recs_html, h.render_cards([], empty=f"Catalog: {cat}"), h.new_session_id()

        catalog.input(on_catalog, [user_id, catalog], [recs, cards, session_id],
                      api_visibility="private", concurrency_limit=FAST_CONCURRENCY, concurrency_id="fast")

        def on_chat(message, hist, uid, sid, cat):
            if not (message or "").strip():   # an empty submit in the UI is a no-op, not an error
                yield hist, gr.skip(), message
                return
            with user_errors():
                for new_hist, products in h.chat_stream(engine, message, hist, uid, sid, cat):
                    if products is None:
                        yield new_hist, gr.skip(), ""
                    else:
                        yield new_hist, h.render_cards(products, empty="No matching products."), ""

        def refresh_recs(uid, cat):
            with user_errors():
                return h.recommendations_html(engine, uid, cat)

        for trigger in (msg.submit, send.click):
            trigger(on_chat, [msg, chatbot, user_id, session_id, catalog], [chatbot, cards, msg],
                    api_visibility="private", concurrency_limit=CHAT_CONCURRENCY, concurrency_id="chat"
                    ).then(refresh_recs, [user_id, catalog], recs, api_visibility="private",
                           concurrency_limit=FAST_CONCURRENCY, concurrency_id="fast")

        def on_card(uid, cat, evt: gr.EventData):
            data = getattr(evt, "_data", None) or {}
            with user_errors():
                _, text = h.card_action(engine, uid, data.get("item_id"), data.get("action"), cat)
                recs_html = h.recommendations_html(engine, uid, cat)
            return text, recs_html

        for panel in (cards, recs):
            panel.card_action(on_card, [user_id, catalog], [status, recs], api_visibility="private",
                              concurrency_limit=FAST_CONCURRENCY, concurrency_id="fast")

        def on_lab(query, uid, k, cat):
            with user_errors():
                out = h.lab_run(engine, query, uid, int(k), cat)
            ph, pr = out["personalised"]
            nh, nr = out["plain"]
            if not (pr or nr):
                overlap = "No results."
            elif not pr:
                overlap = "No shopper picked: only the non-personalised ranking is shown."
            else:
                overlap = f"{out['overlap']} of the top {max(len(pr), len(nr))} items appear in both lists."
            return (out["intent"], {"headers": ["stage", "ms"], "data": out["timings"] or [["-", 0.0]]},
                    h.render_table(ph, pr, empty="No shopper picked." if nr else "No results."),
                    h.render_table(nh, nr), overlap)

        for trigger in (lab_run.click, lab_query.submit):
            trigger(on_lab, [lab_query, lab_user, lab_k, catalog],
                    [lab_intent, lab_timings, lab_pers, lab_plain, lab_overlap],
                    api_visibility="private", concurrency_limit=LAB_CONCURRENCY, concurrency_id="lab")

        def on_import(path, name, skip, *cols, progress=gr.Progress()):
            mapping_values = dict(zip(h.MAPPING_FIELDS, cols))
            with user_errors():
                mapping = h.mapping_from_fields(mapping_values)
                progress(0, desc="Reading the file ...")
                summary, report = h.import_catalog(engine, path, name, mapping, skip,
                                                   progress=_progress_adapter(progress))
            names = list(engine.catalogs())
            return summary, report, gr.Dropdown(choices=names)

        up_button.click(on_import, [up_file, up_name, up_skip, *map_boxes], [up_summary, up_report, catalog],
                        api_visibility="private", concurrency_limit=IMPORT_CONCURRENCY,
                        concurrency_id="import")

        # ------------------------------------------------------------------ public HTTP API
        def chat(message: str, user_id: Optional[str] = None, session_id: Optional[str] = None,
                 catalog: Optional[str] = None) -> dict:
            """Ask the assistant. Returns {reply, products: [...], intent, timings_ms}."""
            with user_errors(for_browser=False):
                return h.api_chat(engine, message, user_id, session_id, catalog)

        def recommend(user_id: Optional[str] = None, query: Optional[str] = None, k: int = 10,
                      catalog: Optional[str] = None) -> list:
            """Personalised recommendations for user_id (empty = cold start), optionally for a query."""
            with user_errors(for_browser=False):
                return h.api_recommend(engine, user_id, query, k, catalog)

        def event(user_id: str, item_id: str, type: str, event_id: Optional[str] = None,
                  value: Union[float, str, None] = None, catalog: Optional[str] = None) -> dict:
            """Record an event (view, click, cart, purchase, rating, search); idempotent on event_id.
            value: the rating 0-5 for "rating", the query text for "search"."""
            with user_errors(for_browser=False):
                return h.api_event(engine, user_id, item_id, type, event_id, catalog, value)

        def search(query: str, k: int = 10, filters: Union[str, dict, None] = None,
                   catalog: Optional[str] = None) -> list:
            """Hybrid catalog search (not personalised). filters: dict or JSON object string."""
            with user_errors(for_browser=False):
                return h.api_search(engine, query, k, filters, catalog)

        # chat runs the LLM: it goes through the queue (CHAT_CONCURRENCY at once, QUEUE_MAX_SIZE
        # waiting). The millisecond endpoints skip the queue (queue=False): besides /call/NAME and
        # gradio_client they answer a single `POST /gradio_api/run/NAME` (no event stream): an /event
        # over HTTP 22 -> 14 ms, 5 ms with a session_hash (benchmarks/README.md, finding 10).
        gr.api(chat, api_name="chat", concurrency_limit=CHAT_CONCURRENCY, concurrency_id="chat")
        gr.api(recommend, api_name="recommend", queue=False)
        gr.api(event, api_name="event", queue=False)
        gr.api(search, api_name="search", queue=False)

    # api_open=False: a direct POST /gradio_api/run/chat (which would skip the queue and its
    # concurrency limit) is refused; queued endpoints are reached through /call/NAME or gradio_client.
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=FAST_CONCURRENCY, api_open=False)
    return demo


def _progress_adapter(progress):
    """Engine progress callbacks (a message, a fraction, or done/total) -> gr.Progress."""
    def callback(*args, **kwargs):
        try:
            if len(args) == 1 and isinstance(args[0], str):
                # registry messages look like "embedded 512/2000 new texts": show the fraction
                m = re.search(r"(\d+)\s*/\s*(\d+)", args[0])
                if m and int(m.group(2)) > 0:
                    progress(min(1.0, int(m.group(1)) / int(m.group(2))), desc=args[0])
                else:
                    progress(None, desc=args[0])
            elif len(args) == 1 and isinstance(args[0], (int, float)):
                progress(float(args[0]))
            elif len(args) >= 2 and all(isinstance(a, (int, float)) for a in args[:2]):
                done, total = args[:2]
                desc = args[2] if len(args) > 2 and isinstance(args[2], str) else kwargs.get("desc")
                progress((int(done), int(total)) if total else None, desc=desc, unit="products")
        except Exception:  # a progress bar must never break an import
            pass
    return callback


def launch(demo, host: str = "127.0.0.1", port: int = 7860, **kwargs):
    """Launch with the project's defaults (local only, no analytics, errors shown as messages)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    options = dict(server_name=host, server_port=port, show_error=True, footer_links=["api"],
                   state_session_capacity=SESSION_CAPACITY)
    options.update(kwargs)
    return demo.launch(**options)
