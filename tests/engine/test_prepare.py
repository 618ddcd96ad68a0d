"""Engine.prepare on a tiny stand-in of the bundled demo data (data/beauty): what the first start
prints, and that "the demo history is loaded" is a marker, not one shopper's presence (issue 11)."""
from __future__ import annotations

import gzip

import pytest

ITEMS = [("B1", "Matte Red Lipstick"), ("B2", "Pink Nail Polish"), ("B3", "Curl Shampoo"),
         ("B4", "Face Cream"), ("B5", "Vanilla Perfume")]
SEQUENCES = {"A1YJEY40YUW4SE": ["B1", "B2", "B3"],     # the first shopper of the real file
             "A60XNB876KYML": ["B3", "B4"], "A3G6XNM240RMWA": ["B5", "B1", "B4"]}


@pytest.fixture
def demo_data(tmp_path, monkeypatch):
    beauty = tmp_path / "data" / "beauty"
    beauty.mkdir(parents=True)
    with gzip.open(beauty / "items.tsv.gz", "wt", encoding="utf-8") as f:
        f.write("asin\ttitle\n" + "".join(f"{i}\t{t}\n" for i, t in ITEMS))
    with gzip.open(beauty / "sequences.txt.gz", "wt", encoding="utf-8") as f:
        f.write("".join(f"{u} {' '.join(items)}\n" for u, items in SEQUENCES.items()))
    monkeypatch.setattr("assistant.engine.DATA_DIR", tmp_path / "data")
    return tmp_path


def make_engine(root):
    from assistant.engine import Engine
    from assistant.settings import Settings

    return Engine(Settings(home=root / "home", embedder="hashing", llm="none"))


def test_first_start_says_how_many_products_it_imported(demo_data):
    lines: list[str] = []
    make_engine(demo_data).prepare(progress=lines.append, train=False, warm=False)
    imported = [line for line in lines if line.startswith("Demo catalog imported")]
    assert imported and imported[0].startswith(f"Demo catalog imported: {len(ITEMS)} products in "), lines


@pytest.mark.parametrize("forgotten", list(SEQUENCES))
def test_a_forgotten_demo_shopper_stays_forgotten_after_a_restart(demo_data, forgotten):
    engine = make_engine(demo_data)
    engine.prepare(progress=lambda _: None, train=False, warm=False)
    assert engine.events.count() == sum(map(len, SEQUENCES.values()))
    engine.forget_user(forgotten)
    restarted = make_engine(demo_data)
    lines: list[str] = []
    restarted.prepare(progress=lines.append, train=False, warm=False)
    assert restarted.events.user_events(forgotten) == []
    assert restarted.events.count() == sum(len(v) for u, v in SEQUENCES.items() if u != forgotten)
    assert not any("Loading the demo shoppers" in line for line in lines), lines


def test_a_home_from_before_the_marker_is_not_loaded_again(demo_data):
    """Homes loaded by the old code have the demo's event ids but no marker: no second load."""
    from assistant.engine import DEMO_MARKER

    engine = make_engine(demo_data)
    engine.prepare(progress=lambda _: None, train=False, warm=False)
    engine.events._conn().execute("DELETE FROM markers")
    engine.forget_user("A60XNB876KYML")
    restarted = make_engine(demo_data)
    restarted.prepare(progress=lambda _: None, train=False, warm=False)
    assert restarted.events.user_events("A60XNB876KYML") == []
    assert restarted.events.marker(DEMO_MARKER) is not None
