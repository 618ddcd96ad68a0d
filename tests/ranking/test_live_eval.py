"""`shopassist eval --live`: the offline models replayed through Engine.record_event / recommend."""
from __future__ import annotations

import json

import numpy as np
import pytest
from rk_fixtures import N_ITEMS, checkerboard_interactions, make_product

from assistant.cli import main
from assistant.live_eval import format_live, percentiles, run_live
from ranking.evaluate import EvalConfig

MODELS = ("pop", "itemknn", "als", "content", "fusion")


@pytest.fixture
def files(tmp_path):
    ids = [f"it#{i}/x-{i * 7}" for i in range(N_ITEMS)]
    data = checkerboard_interactions()
    seq = tmp_path / "seq.txt"
    seq.write_text("".join(f"user-{u} " + " ".join(ids[r] for r in s) + "\n" for u, s in enumerate(data.sequences)))
    items = tmp_path / "items.tsv"  # only item_id<TAB>title
    items.write_text("".join(f"{ids[i]}\t{make_product(i).title}\n" for i in range(N_ITEMS)))
    return seq, items, data


def test_live_replay_agrees_with_offline_and_times_every_event(files, tmp_path):
    seq, items, data = files
    cfg = EvalConfig(models=MODELS, embedder="hashing", embed_cache=tmp_path / "cache")
    report = run_live(seq, items, cfg, users=25, latency_users=4, home=tmp_path / "home", progress=None)
    live = report["live"]
    assert live["users"] == 25 and live["model"] == "fusion"
    # every event of the sampled users' test histories (all but the last item) went through the Engine
    lengths = sorted(len(s) - 1 for s in data.sequences if len(s) >= 3)
    assert lengths[0] <= live["events_replayed"] / 25 <= lengths[-1]
    lat = live["latency_ms"]
    assert lat["record_event"]["n"] == live["events_replayed"]
    assert 0 < lat["recommend_after_event"]["n"] == lat["event_to_updated_recommendations"]["n"] < live["events_replayed"]
    assert lat["event_to_updated_recommendations"]["p50"] >= lat["recommend_after_event"]["p50"] > 0
    offline = live["offline_NDCG@10_same_users"]
    assert offline["fusion"] >= 0.9  # the checkerboard is easy for item-kNN, which the fusion picks
    # the live path sees the replayed events: far above popularity, within noise of offline
    assert abs(live["NDCG@10"] - offline["fusion"]) <= 0.05 and offline["pop"] < 0.5
    cold = live["cold_start"]
    assert list(cold) == ["1", "2", "3", "5"]
    for row in cold.values():
        assert row["users"] == 25 and row["ours_live_NDCG@10"] > row["pop_NDCG@10"] + 0.3
    text = format_live(live)
    assert "live replay (25 users" in text and "cold start" in text and "p99" in text


def test_live_replay_rejects_bad_arguments(files, tmp_path):
    seq, items, _ = files
    with pytest.raises(ValueError, match="Expected users > 0"):
        run_live(seq, items, EvalConfig(models=("pop",)), users=0, progress=None)
    with pytest.raises(ValueError, match="cold-start event counts > 0"):
        run_live(seq, items, EvalConfig(models=("pop",)), cold_events=(0, 2), progress=None)


def test_percentiles():
    p = percentiles(list(range(1, 101)))
    assert p["n"] == 100 and p["p50"] == pytest.approx(50.5) and p["max"] == 100.0
    assert p["p99"] == pytest.approx(float(np.percentile(np.arange(1, 101), 99)), abs=1e-3)
    assert percentiles([]) == {"n": 0}


def test_eval_live_command(files, tmp_home, tmp_path, capsys):
    seq, items, _ = files
    out_json = tmp_path / "live.json"
    code = main(["--embedder", "hashing", "eval", "--sequences", str(seq), "--items", str(items), "--models",
                 "pop,itemknn,fusion", "--live", "--users", "10", "--latency-users", "2", "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0 and "live replay (10 users" in out
    assert json.loads(out_json.read_text())["live"]["users"] == 10
    code = main(["eval", "--sequences", str(seq), "--models", "pop", "--live", "--seeds", "2"])
    assert code == 2 and "--live replays one seed" in capsys.readouterr().err


def test_live_catalog_embeds_the_same_product_text_as_the_eval_with_item_meta(files, tmp_path):
    from assistant.engine import Engine
    from assistant.live_eval import LIVE_CATALOG
    from assistant.settings import Settings
    from ranking.evaluate import load_eval_data

    seq, items, _ = files
    ids = [line.split("\t")[0] for line in items.read_text().splitlines()]
    meta = tmp_path / "meta.tsv"
    meta.write_text("asin\tbrand\tcategory\tall_categories\n" + "".join(
        f"{i}\tAcme{n % 3}\tBeauty > Group{n % 2}\tBeauty > Group{n % 2} | Gifts > Sets\n" for n, i in enumerate(ids)))
    cfg = EvalConfig(models=("pop", "content", "fusion"), embedder="hashing", embed_cache=tmp_path / "cache")
    run_live(seq, items, cfg, users=5, latency_users=0, home=tmp_path / "home", progress=None, item_meta=meta)
    engine = Engine(Settings(home=tmp_path / "home", embedder="hashing", default_catalog=LIVE_CATALOG, llm="none"),
                    llm=False)
    catalog = engine.catalog(LIVE_CATALOG)
    data = load_eval_data(seq, items, meta)
    expected = dict(zip(data.item_ids, data.texts()))
    got = {p.id: p.search_text() for p in catalog.products}
    assert got == expected and "Acme" in next(iter(got.values()))
