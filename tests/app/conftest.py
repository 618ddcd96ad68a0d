"""Fixtures for the app tests.

- `fake_engine`: a tiny in-memory stand-in (tests/app/fake_engine.py) for the handler unit tests.
- `live_app`: the REAL Engine (`Settings(home=tmp, embedder="hashing", llm="none")`) on a tiny
  catalog imported from a JSONL written here plus a few events, behind a launched Gradio app on a
  free 127.0.0.1 port; shared by the gradio_client end-to-end tests and the browser test.
"""
from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).parent))

from fake_engine import FakeEngine  # noqa: E402

CATALOG = "mini"

# A small beauty catalog: four clear groups so search and "similar items" have obvious answers.
MINI_PRODUCTS = [
    {"id": "cl-1", "title": "Gentle Foaming Face Cleanser for Dry Skin", "brand": "CeraVe",
     "category": "Cleanser", "price": 12.99, "description": "Hydrating cleanser with ceramides for dry, sensitive skin."},
    {"id": "cl-2", "title": "Oil Control Gel Cleanser", "brand": "La Roche-Posay", "category": "Cleanser",
     "price": 15.50, "description": "Purifying gel cleanser for oily skin."},
    {"id": "cl-3", "title": "Micellar Cleansing Water", "brand": "Garnier", "category": "Cleanser",
     "price": 7.99, "description": "No-rinse makeup remover and cleanser."},
    {"id": "se-1", "title": "Vitamin C Brightening Serum", "brand": "TruSkin", "category": "Serum",
     "price": 19.99, "description": "Vitamin C serum with hyaluronic acid for dull skin."},
    {"id": "se-2", "title": "Hyaluronic Acid Hydrating Serum", "brand": "The Ordinary", "category": "Serum",
     "price": 8.90, "description": "Plumping hydration serum."},
    {"id": "se-3", "title": "Retinol Night Serum", "brand": "Olay", "category": "Serum",
     "price": 29.00, "description": "Retinol serum for fine lines, use at night."},
    {"id": "sh-1", "title": "Argan Oil Repair Shampoo", "brand": "OGX", "category": "Shampoo",
     "price": 8.49, "description": "Shampoo for damaged, dry hair."},
    {"id": "sh-2", "title": "Anti Dandruff Shampoo", "brand": "Head & Shoulders", "category": "Shampoo",
     "price": 6.99, "description": "Clinically proven dandruff shampoo."},
    {"id": "sh-3", "title": "Sulfate Free Volume Shampoo", "brand": "Pureology", "category": "Shampoo",
     "price": 32.00, "description": "Volumizing shampoo for fine, color-treated hair."},
    {"id": "li-1", "title": "Matte Liquid Lipstick Red", "brand": "Maybelline", "category": "Lipstick",
     "price": 9.49, "description": "Long-lasting matte red lipstick."},
    {"id": "li-2", "title": "Moisturizing Lip Balm", "brand": "Burt's Bees", "category": "Lipstick",
     "price": 3.99, "description": "Beeswax lip balm for dry lips."},
    {"id": "li-3", "title": "<b>Bold</b> **Nude** Lipstick <script>alert(1)</script>", "brand": "Evil & Co",
     "category": "Lipstick", "price": None, "description": "A title full of HTML and Markdown."},
]

# Demo-like shoppers with history (the "real" shoppers of this tiny catalog).
MINI_EVENTS = [
    ("shopper-serum", "se-1", "purchase"), ("shopper-serum", "se-2", "purchase"),
    ("shopper-serum", "se-3", "view"), ("shopper-serum", "cl-1", "click"),
    ("shopper-hair", "sh-1", "purchase"), ("shopper-hair", "sh-2", "cart"),
    ("shopper-hair", "sh-3", "view"),
    ("shopper-lips", "li-1", "purchase"), ("shopper-lips", "li-2", "purchase"),
    ("shopper-mix", "cl-2", "purchase"), ("shopper-mix", "se-1", "purchase"), ("shopper-mix", "cl-3", "view"),
]


def pytest_collection_modifyitems(items):
    # gradio 6.31's queue calls pandas options that pandas 3 deprecates: not ours, keep output clean
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing"))
            item.add_marker(pytest.mark.filterwarnings("ignore::FutureWarning:gradio.queueing"))
            # gradio's native plots call pandas APIs that pandas 3 deprecates (not ours either)
            item.add_marker(pytest.mark.filterwarnings("ignore:The default formatting of datetime"))
            item.add_marker(pytest.mark.filterwarnings("ignore:is_categorical_dtype is deprecated"))


@pytest.fixture
def fake_engine():
    return FakeEngine()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveApp:
    url: str
    engine: object
    catalog: str
    product_ids: set
    demo: object = None          # the launched gr.Blocks


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory):
    from assistant.engine import Engine
    from assistant.settings import Settings

    home = tmp_path_factory.mktemp("shopassist-home")
    path = home / "mini.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in MINI_PRODUCTS), encoding="utf-8")
    settings = Settings(home=home, embedder="hashing", llm="none", default_catalog=CATALOG, threads=1)
    engine = Engine(settings)
    summary = engine.import_catalog(path, CATALOG)
    assert summary["n_imported"] == len(MINI_PRODUCTS), summary
    for i, (user, item, etype) in enumerate(MINI_EVENTS):
        engine.record_event(user, item, etype, event_id=f"seed-{i}", catalog=CATALOG)
    return engine


@pytest.fixture(scope="session")
def live_app(real_engine):
    from assistant.ui import build_app, launch

    demo = build_app(real_engine)
    port = free_port()
    launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield LiveApp(f"http://127.0.0.1:{port}/", real_engine, CATALOG, {p["id"] for p in MINI_PRODUCTS}, demo)
    finally:
        demo.close()


@pytest.fixture(scope="session")
def client(live_app):
    from gradio_client import Client

    return Client(live_app.url, verbose=False)
