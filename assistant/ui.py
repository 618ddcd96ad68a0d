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
from ranking.servers import ServerUnavailable

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
    except (UserError, ValueError, FileNotFoundError, ServerUnavailable) as exc:
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

    examples = _examples(engine, default_catalog)

    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        session_id = gr.State(None)
        with gr.Row(equal_height=True):
            gr.Markdown(f"## {title}\nAn offline shopping assistant with live recommendations.")
            catalog = gr.Dropdown(choices=catalog_names, value=default_catalog, label="Catalog (switch store)",
                                  elem_id="catalog", scale=0, min_width=240, allow_custom_value=False)

        # ------------------------------------------------------------------ Shopper tab
        with gr.Tab("Shopper", id="shopper", elem_id="tab-shopper"):
            with gr.Row():
                with gr.Column(scale=3):
                    gr.Markdown("**Try an example** (what works on this catalog):", elem_id="examples-label")
                    with gr.Row(elem_id="examples"):
                        example_buttons = [
                            gr.Button(*_example_args(examples, i), size="sm", variant="secondary",
                                      elem_id=f"example-{i}", elem_classes="sa-example", min_width=60, scale=0,
                                      visible=i < len(examples))
                            for i in range(h.N_EXAMPLES)]
                    # plain text bubbles (handlers.chat_text escapes): product titles never render as HTML/Markdown
                    chatbot = gr.Chatbot(label="Assistant", elem_id="chat", height=380, render_markdown=False,
                                         placeholder="Ask for a product, or click one of the examples above.")
                    thinking = gr.HTML("", elem_id="thinking", css_template=h.THINKING_CSS, js_on_load=None)
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
                    gr.HTML(h.render_demo_shoppers(demo_users), elem_id="demo-shoppers", css_template=h.CARDS_CSS,
                            js_on_load=None)
                    gr.Markdown("### Recommended for you")
                    recs = gr.HTML(h.render_cards([], empty="Loading ..."), css_template=h.CARDS_CSS,
                                   js_on_load=h.CARDS_JS, elem_id="recs")

        # ------------------------------------------------------------------ Merchant lab tab
        with gr.Tab("Merchant lab", id="lab", elem_id="tab-lab"):
            with gr.Tabs(elem_id="lab-panels"):
                with gr.Tab("Query tester", id="lab-tester", elem_id="panel-tester"):
                    gr.Markdown("Parsed intent, every score component, stage latency, and "
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
                    lab_products = gr.State([])
                    with gr.Row():
                        lab_why_item = gr.Dropdown(choices=[], label="Why this rank? Pick a result", elem_id="lab-why-item",
                                                   scale=1)
                        lab_why = gr.BarPlot(None, x="component", y="value",
                                             title="Score components of the chosen result", elem_id="lab-why-plot",
                                             scale=3, height=260, sort=None)

                with gr.Tab("Model report", id="lab-models", elem_id="panel-models") as tab_models:
                    models_refresh = gr.Button("Refresh", size="sm", elem_id="models-refresh")
                    models_summary = gr.Markdown("", elem_id="models-summary")
                    with gr.Row():
                        models_ndcg = gr.BarPlot(None, x="model", y="value", color="source", title="NDCG@10",
                                                 elem_id="models-ndcg", height=300, x_label_angle=-30,
                                                 color_map=MODEL_COLORS, sort=None)
                        models_hr = gr.BarPlot(None, x="model", y="value", color="source", title="HR@10",
                                               elem_id="models-hr", height=300, x_label_angle=-30,
                                               color_map=MODEL_COLORS, sort=None)
                        models_weights = gr.BarPlot(None, x="model", y="weight", title="Fusion weights",
                                                    elem_id="models-weights", height=300, sort=None, y_lim=[0, None])

                with gr.Tab("Live activity", id="lab-live", elem_id="panel-live") as tab_live:
                    with gr.Row():
                        live_minutes = gr.Slider(5, 240, value=h.LIVE_MINUTES, step=5, label="Last N minutes",
                                                 elem_id="live-minutes", scale=3)
                        live_refresh = gr.Button("Refresh", size="sm", elem_id="live-refresh", scale=1)
                    live_summary = gr.Markdown("", elem_id="live-summary")
                    with gr.Row():
                        live_events = gr.BarPlot(None, x="minute", y="events",
                                                 color="type", title="Events per minute by type", elem_id="live-events",
                                                 height=280, x_title="minute (UTC)")
                        live_latency = gr.BarPlot(None, x="endpoint", y="ms",
                                                  color="stat", title="Latency p50 / p99 (ms)", elem_id="live-latency",
                                                  height=280, sort=None, x_label_angle=-30, y_lim=[0, None])
                    with gr.Row():
                        live_latency_table = gr.Dataframe(headers=["endpoint", "n", "p50_ms", "p99_ms"],
                                                          label="Latency per endpoint", elem_id="live-latency-table",
                                                          interactive=False)
                        live_latest = gr.Dataframe(headers=["time", "user", "type", "item", "value"], label="Latest events",
                                                   elem_id="live-latest", interactive=False)

                with gr.Tab("Query insights", id="lab-queries", elem_id="panel-queries") as tab_queries:
                    queries_refresh = gr.Button("Refresh", size="sm", elem_id="queries-refresh")
                    queries_summary = gr.Markdown("", elem_id="queries-summary")
                    with gr.Row():
                        queries_top = gr.BarPlot(None, x="query", y="times", title="Top queries",
                                                 elem_id="queries-top", height=300, sort="-y", x_label_angle=-30)
                        queries_unplaced = gr.BarPlot(None, x="word", y="times",
                                                      title="Words the parser could not place", elem_id="queries-unplaced",
                                                      height=300, sort="-y", x_label_angle=-30)
                    queries_few = gr.Dataframe(headers=["query", "results", "times"], label="Queries with zero or few results",
                                               elem_id="queries-few", interactive=False)

                with gr.Tab("Catalog health", id="lab-health", elem_id="panel-health") as tab_health:
                    health_refresh = gr.Button("Refresh", size="sm", elem_id="health-refresh")
                    health_table = gr.Dataframe(label="Catalogs", elem_id="health-table", interactive=False)
                    health_shares = gr.BarPlot(None, x="field", y="share",
                                               color="catalog", title="Share of products with each field",
                                               elem_id="health-shares", height=300, y_lim=[0, 1], sort=None,
                                               x_label_angle=-30)
                    with gr.Row():
                        health_brands = gr.Dataframe(headers=["brand", "products"], label="Brands (this catalog)",
                                                     elem_id="health-brands", interactive=False)
                        health_types = gr.Dataframe(headers=["product type", "products"], label="Product types found",
                                                    elem_id="health-types", interactive=False)
                        health_colors = gr.Dataframe(headers=["colour", "products"], label="Colours found",
                                                     elem_id="health-colors", interactive=False)
                        health_dupes = gr.Dataframe(headers=["title", "copies"], label="Duplicate titles",
                                                    elem_id="health-dupes", interactive=False)

                with gr.Tab("Import a catalog", id="lab-import", elem_id="panel-import"):
                    gr.Markdown("CSV or JSONL; leave the mapping blank to auto-detect columns.")
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

        panel_tabs = {"lab-models": tab_models, "lab-live": tab_live, "lab-queries": tab_queries,
                      "lab-health": tab_health}

        # ------------------------------------------------------------------ wiring (private)
        def on_load(choice, cat):
            names = list(engine.catalogs())
            cat = cat if cat in names else _default_catalog(engine, names)
            uid, hist = h.select_shopper(choice, demo_users)
            with user_errors():
                recs_html = h.recommendations_html(engine, uid, cat)
            return (h.new_session_id(), uid, hist, recs_html, gr.Dropdown(choices=names, value=cat),
                    *_example_updates(engine, cat))

        demo.load(on_load, [shopper, catalog], [session_id, user_id, history, recs, catalog, *example_buttons],
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
            return (recs_html, h.render_cards([], empty=f"Catalog: {cat}"), h.new_session_id(),
                    *_example_updates(engine, cat))

        catalog.input(on_catalog, [user_id, catalog], [recs, cards, session_id, *example_buttons],
                      api_visibility="private", concurrency_limit=FAST_CONCURRENCY, concurrency_id="fast")

        def on_chat(message, hist, uid, sid, cat):
            if not (message or "").strip():   # an empty submit in the UI is a no-op, not an error
                yield hist, gr.skip(), message, ""
                return
            try:
                with user_errors():
                    for new_hist, products, working in h.chat_stream(engine, message, hist, uid, sid, cat):
                        indicator = h.THINKING_HTML if working else ""
                        if products is None:
                            yield new_hist, gr.skip(), "", indicator
                        else:
                            yield new_hist, h.render_cards(products, empty="No matching products."), "", indicator
            except gr.Error:
                yield gr.skip(), gr.skip(), gr.skip(), ""   # the error toast shows; the indicator goes
                raise

        def refresh_recs(uid, cat):
            with user_errors():
                return h.recommendations_html(engine, uid, cat)

        # an example button sends its own label as the message
        chat_triggers = [(msg.submit, msg), (send.click, msg)] + [(b.click, b) for b in example_buttons]
        for trigger, source in chat_triggers:
            trigger(on_chat, [source, chatbot, user_id, session_id, catalog], [chatbot, cards, msg, thinking],
                    api_visibility="private", concurrency_limit=CHAT_CONCURRENCY, concurrency_id="chat",
                    show_progress="hidden"
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
            shown = out["products"]["personalised"] or out["products"]["plain"]
            choices = [(f"{i}. {h._short(p.get('title'), 50)} ({p.get('id')})", str(p.get("id")))
                       for i, p in enumerate(shown, 1)]
            first = choices[0][1] if choices else None
            return (out["intent"], {"headers": ["stage", "ms"], "data": out["timings"] or [["-", 0.0]]},
                    h.render_table(ph, pr, empty="No shopper picked." if nr else "No results."),
                    h.render_table(nh, nr), overlap, shown, gr.Dropdown(choices=choices, value=first),
                    _frame(h.why_rank_rows(shown, first), ["component", "value"]))

        def on_why(products, item_id):
            return _frame(h.why_rank_rows(products, item_id), ["component", "value"])

        for trigger in (lab_run.click, lab_query.submit):
            trigger(on_lab, [lab_query, lab_user, lab_k, catalog],
                    [lab_intent, lab_timings, lab_pers, lab_plain, lab_overlap, lab_products, lab_why_item,
                     lab_why],
                    api_visibility="private", concurrency_limit=LAB_CONCURRENCY, concurrency_id="lab")
        lab_why_item.input(on_why, [lab_products, lab_why_item], lab_why, api_visibility="private",
                           concurrency_limit=FAST_CONCURRENCY, concurrency_id="fast")

        # ------------------------------------------------------------------ lab panels (refresh + on open)
        def on_models(cat):
            with user_errors():
                r = h.lab_model_report(engine, cat)
            rows = r["metrics"] + r["anchors"]
            cols = ["model", "value", "source"]
            return (r["summary"], _frame([x for x in rows if x["metric"] == "NDCG@10"], cols),
                    _frame([x for x in rows if x["metric"] == "HR@10"], cols), _frame(r["weights"], ["model", "weight"]))

        def on_live(minutes):
            with user_errors():
                r = h.lab_activity(engine, int(minutes))
            import pandas as pd

            events = _frame(r["per_minute"], ["minute", "events", "type"]).astype({"events": float})
            events["minute"] = pd.to_datetime(events["minute"], unit="s")
            # one bar per endpoint and statistic (side by side, not stacked)
            latency = [{"endpoint": f"{x['endpoint']} {stat[:3]}", "ms": float(x[stat]), "stat": stat[:3]}
                       for x in r["latency"] for stat in ("p50_ms", "p99_ms")]
            return (r["summary"], events, _frame(latency, ["endpoint", "ms", "stat"]),
                    _frame(r["latency"], ["endpoint", "n", "p50_ms", "p99_ms"]),
                    _frame(r["latest"], ["time", "user", "type", "item", "value"]))

        def on_queries(cat):
            with user_errors():
                r = h.lab_query_insights(engine, cat)
            return (r["summary"],
                    _frame([{"query": q, "times": float(n)} for q, n in r["top_queries"]], ["query", "times"]),
                    _frame([{"word": w, "times": float(n)} for w, n in r["unplaced"]], ["word", "times"]),
                    _frame(r["zero_or_few"], ["query", "results", "times"]))

        def on_health(cat):
            with user_errors():
                reports = h.lab_catalog_health(engine)
            table = [{"catalog": r["catalog"], "products": r["products"],
                      **{f"with {k}": f"{v:.0%}" for k, v in r["shares"].items()},
                      "brands": r["n_brands"], "duplicate titles": r["n_duplicate_titles"]} for r in reports]
            shares = [{"field": k, "share": v, "catalog": r["catalog"]} for r in reports for k, v in r["shares"].items()]
            mine = next((r for r in reports if r["catalog"] == cat), reports[0] if reports else None)

            def pairs(key, cols):
                return _frame([dict(zip(cols, x)) for x in (mine or {}).get(key, [])], cols)
            return (_frame(table, list(table[0]) if table else ["catalog"]),
                    _frame(shares, ["field", "share", "catalog"]), pairs("brands", ["brand", "products"]),
                    pairs("types", ["product type", "products"]), pairs("colors", ["colour", "products"]),
                    pairs("duplicate_titles", ["title", "copies"]))

        panels = (
            (models_refresh, "lab-models", on_models, [catalog], [models_summary, models_ndcg, models_hr, models_weights]),
            (live_refresh, "lab-live", on_live, [live_minutes],
             [live_summary, live_events, live_latency, live_latency_table, live_latest]),
            (queries_refresh, "lab-queries", on_queries, [catalog],
             [queries_summary, queries_top, queries_unplaced, queries_few]),
            (health_refresh, "lab-health", on_health, [catalog],
             [health_table, health_shares, health_brands, health_types, health_colors, health_dupes]),
        )
        for button, tab_id, fn, inputs, outputs in panels:
            button.click(fn, inputs, outputs, api_visibility="private", concurrency_limit=LAB_CONCURRENCY,
                         concurrency_id="lab")
            panel_tabs[tab_id].select(fn, inputs, outputs, api_visibility="private",
                                      concurrency_limit=LAB_CONCURRENCY, concurrency_id="lab")

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


# Page-wide CSS (Gradio 6 takes it at launch): example buttons sized to their text, on one line.
PAGE_CSS = """
#examples { flex-wrap: wrap; gap: 6px; }
#examples .sa-example { flex: 0 0 auto !important; width: auto !important; min-width: 0 !important;
                        white-space: nowrap; }
"""

# Model report bar colours: this system's bars in the theme's accent, the published anchors grey.
MODEL_COLORS = {"this bundle (validation)": "#f97316", "published anchor": "#9ca3af"}


def _frame(rows: list, columns: list):
    """Rows (dicts) -> the pandas DataFrame Gradio's native plots and tables take (pandas comes with gradio)."""
    import pandas as pd

    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)


def _examples(engine, catalog) -> list:
    try:
        return h.example_messages(engine, catalog) if catalog else []
    except UserError:   # an unknown / removed catalog: no examples rather than no app
        return []


def _example_args(examples: list, i: int) -> tuple:
    """(label,) for the i-th example button, or a hidden button when this catalog has fewer."""
    return (examples[i][1],) if i < len(examples) else ("",)


def _example_updates(engine, catalog) -> list:
    import gradio as gr

    examples = _examples(engine, catalog)
    return [gr.Button(value=examples[i][1], visible=True) if i < len(examples) else gr.Button(value="", visible=False)
            for i in range(h.N_EXAMPLES)]


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
    # _frontend=False skips Gradio's "is localhost reachable" probe (one HEAD with a 3 s timeout;
    # that is all the flag does in gradio 6.31): on a loaded 2-core machine, with the warm-up thread
    # loading models, the probe timed out and launch() refused to serve ("When localhost is not
    # accessible, a shareable link must be created") although the server was up.
    options = dict(server_name=host, server_port=port, show_error=True, footer_links=["api"],
                   state_session_capacity=SESSION_CAPACITY, css=PAGE_CSS, _frontend=False)
    options.update(kwargs)
    return demo.launch(**options)
