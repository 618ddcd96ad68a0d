"""The evaluation harness on tiny files: protocol, arbitrary ids, titles, every model."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from rk_fixtures import N_ITEMS, checkerboard_interactions, make_product

from ranking.data import leave_one_out, read_sequences, interactions_from_sequences
import statistics

from ranking.evaluate import BASELINE, EvalConfig, format_table, run_evaluation
from ranking.sequential import SASRecConfig
from ranking.rerank import RerankConfig
from ranking.train import TrainConfig

TINY_SASREC = SASRecConfig(d_model=16, n_heads=1, n_layers=1, dropout=0.1, attn_dropout=0.0, lr=5e-3,
                           batch_size=32, max_epochs=8, patience=3, threads=1)


@pytest.fixture
def files(tmp_path):
    # ids with characters a real held-out file might have
    ids = [f"it#{i}/x-{i * 7}" for i in range(N_ITEMS)]
    data = checkerboard_interactions()
    seq = tmp_path / "seq.txt"
    seq.write_text("".join(f"user-{u} " + " ".join(ids[r] for r in s) + "\n"
                           for u, s in enumerate(data.sequences)))
    items = tmp_path / "items.tsv"
    items.write_text("asin\ttitle\n" + "".join(f"{ids[i]}\t{make_product(i).title}\n" for i in range(N_ITEMS)))
    return seq, items


def test_leave_one_out_split():
    data = interactions_from_sequences([("a", ["x", "y", "z", "w"]), ("b", ["x", "y"])], {"x": 0, "y": 1, "z": 2, "w": 3})
    split = leave_one_out(data)
    assert split.train.sequences[0].tolist() == [0, 1] and split.train.sequences[1].tolist() == [0, 1]
    assert split.eval_users.tolist() == [0]
    assert split.valid_targets.tolist() == [2] and split.test_targets.tolist() == [3]
    assert [h.tolist() for h in split.valid_histories()] == [[0, 1]]
    assert [h.tolist() for h in split.test_histories()] == [[0, 1, 2]]


def test_every_model_with_titles(files, tmp_path):
    seq, items = files
    cfg = EvalConfig(train=TrainConfig(sasrec=TINY_SASREC), embedder="hashing", embed_cache=tmp_path / "cache",
                     ks=(1, 10))
    lines = []
    report = run_evaluation(seq, items, cfg, progress=lines.append)
    models = report["models"]
    assert list(models) == ["pop", "itemknn", "als", "content", "sasrec", "sasrec_ids", "fusion"]
    for name, m in models.items():
        t = m["test"]
        assert 0.0 <= t["NDCG@1"] <= t["NDCG@10"] <= t["HR@10"] <= 1.0, name
        assert 0.0 < t["coverage@10"] <= 1.0 and 0.0 <= t["diversity@10"] <= 2.0 and t["novelty@10"] >= 0.0
    assert models["itemknn"]["test"]["HR@10"] == 1.0  # 10 unseen items left in the right group, all found
    assert models["sasrec"]["text_features"] is True and models["sasrec"]["epochs"] >= 1
    assert models["fusion"]["weights"] and any(line.startswith("fusion:") for line in lines)
    # the ids-only SASRec-CE baseline: same model without titles, an anchor and never a fusion component
    assert models["sasrec_ids"]["text_features"] is False and models["sasrec_ids"]["epochs"] >= 1
    assert "sasrec_ids" not in models["fusion"]["weights"]
    ratio = report["vs_baseline"]["sasrec"]["NDCG@10"]
    assert ratio == round(models["sasrec"]["test"]["NDCG@10"] / models["sasrec_ids"]["test"]["NDCG@10"], 4)
    assert report["vs_baseline"]["sasrec_ids"] == {"HR@10": 1.0, "NDCG@10": 1.0}
    assert report["dataset"]["eval_users"] == 60 and report["dataset"]["items_n"] == N_ITEMS
    table = format_table(report)
    assert "sasrec" in table and "published" not in table  # Beauty anchors only next to Beauty
    report["dataset"].update(users=22_363, items_n=12_101)
    table = format_table(report)
    assert "BSARec (AAAI 2024), same 5-core build" in table and "0.0611" in table
    assert "SASRec full CE (Xu et al. 2024), same build" in table and "0.0591" in table
    assert "ids-only SASRec-CE baseline" in table


def test_without_titles_content_is_skipped_with_a_note(files):
    seq, _ = files
    cfg = EvalConfig(models=("pop", "content", "fusion"), embedder="hashing")
    report = run_evaluation(seq, None, cfg, progress=None)
    assert list(report["models"]) == ["pop"]
    assert "no --items file" in report["notes"]["content"]
    assert "needs at least two models" in report["notes"]["fusion"]


def test_lines_without_items_are_skipped_with_a_note(files, tmp_path):
    seq, _ = files
    messy = tmp_path / "messy.txt"
    messy.write_text("lonely-user\n" + seq.read_text())
    report = run_evaluation(messy, None, EvalConfig(models=("pop",)), progress=None)
    assert "1 lines with a user but no items ignored (first: line 1)" == report["notes"]["input"]
    assert report["dataset"]["users"] == 68


def test_bad_inputs_are_explained(tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("u1 a b\nu2 c\n")
    with pytest.raises(ValueError, match="3 or more items"):
        run_evaluation(short, None, EvalConfig(models=("pop",)), progress=None)
    with pytest.raises(ValueError, match="models among"):
        EvalConfig(models=("pop", "magic"))
    with pytest.raises(FileNotFoundError):
        read_sequences(tmp_path / "missing.txt")


def test_seeds_give_mean_std_and_per_seed_rows(files):
    seq, _ = files
    models = ("pop", "itemknn", "als", "fusion")
    report = run_evaluation(seq, None, EvalConfig(models=models, seeds=3, seed=7), progress=None)
    assert report["seeds"] == [7, 8, 9] and len(report["seconds_per_seed"]) == 3
    for name, m in report["models"].items():
        rows = m["per_seed"]
        assert [r["seed"] for r in rows] == [7, 8, 9]
        for metric in ("HR@10", "NDCG@10", "coverage@10"):
            vals = [r["test"][metric] for r in rows]
            assert m["test"][metric] == round(statistics.fmean(vals), 5), (name, metric)
            assert m["test_std"][metric] == round(statistics.stdev(vals), 5), (name, metric)
    assert report["models"]["itemknn"]["test_std"]["NDCG@10"] == 0.0  # deterministic model
    # each seed's row is that seed's own run: the third row equals a one-seed run with seed 9
    alone = run_evaluation(seq, None, EvalConfig(models=models, seed=9), progress=None)
    assert alone["seeds"] == [9] and "test_std" not in alone["models"]["als"]
    for name in ("als", "fusion"):
        assert report["models"][name]["per_seed"][2]["test"] == alone["models"][name]["test"]
    table = format_table(report)
    assert "mean of 3 seeds (7, 8, 9)" in table and "mean +- std" in table
    als = report["models"]["als"]
    assert f"{als['test']['NDCG@10']:.4f} +- {als['test_std']['NDCG@10']:.4f}" in table
    assert "seed 9" in table and "seed 9" not in format_table(alone)


def test_seeds_must_be_positive():
    with pytest.raises(ValueError, match="Expected seeds >= 1"):
        EvalConfig(seeds=0)


def test_item_meta_joins_brand_and_category_into_the_embedded_text_as_the_catalog_does(files, tmp_path):
    from retrieval.catalog import Product
    from ranking.evaluate import load_eval_data

    seq, items = files
    meta = tmp_path / "meta.tsv"
    ids = [line.split("\t")[0] for line in items.read_text().splitlines()[1:]]
    meta.write_text("asin\tbrand\tcategory\tall_categories\n" + "".join(
        f"{i}\tAcme{n % 3}\tBeauty > Skin Care > Group{n % 2}\tBeauty > Skin Care > Group{n % 2}\n"
        for n, i in enumerate(ids)))
    plain = load_eval_data(seq, items)
    rich = load_eval_data(seq, items, meta)
    row = rich.item_ids.index(ids[4])
    text = rich.texts()[row]
    assert text == Product(id=ids[4], title=plain.titles[ids[4]], brand="Acme1",
                           category="Beauty > Skin Care > Group0").search_text()
    assert "Acme1" in text and "Group0" in text and plain.texts()[row] == plain.titles[ids[4]]
    cfg = EvalConfig(models=("pop", "content"), embedder="hashing", embed_cache=tmp_path / "cache", ks=(10,))
    report = run_evaluation(seq, items, cfg, progress=None, item_meta=meta)
    assert report["dataset"]["item_meta"] == str(meta)
    assert "titles + brand + category" in report["notes"]["embeddings"]
    with pytest.raises(ValueError, match="--item-meta needs --items"):
        load_eval_data(seq, None, meta)
    bad = tmp_path / "bad.tsv"
    bad.write_text("asin\tcolour\nx\tred\n")
    with pytest.raises(ValueError, match="brand, category"):
        load_eval_data(seq, items, bad)


def test_single_seed_reports_merge_into_the_same_report_as_seeds_n(files, tmp_path):
    from ranking.evaluate import merge_reports

    seq, items = files
    cfg = EvalConfig(models=("pop", "itemknn", "als", "fusion"), embedder="hashing", ks=(10,))
    both = run_evaluation(seq, items, replace(cfg, seed=7, seeds=2), progress=None)
    one = [run_evaluation(seq, items, replace(cfg, seed=s), progress=None) for s in (7, 8)]
    merged = merge_reports(one)
    assert merged["seeds"] == [7, 8] == both["seeds"]
    for name in both["models"]:
        assert merged["models"][name]["test"] == both["models"][name]["test"], name
        assert merged["models"][name]["test_std"] == both["models"][name]["test_std"], name
    with pytest.raises(ValueError, match="seed 7 twice"):
        merge_reports([one[0], one[0]])


def test_the_reranker_is_fitted_on_validation_and_ranks_only_within_the_fusions_pool(tmp_path):
    ids = [f"i{i}" for i in range(N_ITEMS)]
    data = checkerboard_interactions(users_per_group=150, length=8)
    rng = np.random.default_rng(0)   # a third of the events are off the walk: the fusion misses some targets
    seqs = [[int(rng.integers(N_ITEMS)) if rng.random() < 0.33 else int(r) for r in s] for s in data.sequences]
    seq = tmp_path / "seq.txt"
    seq.write_text("".join(f"u{u} " + " ".join(ids[r] for r in s) + "\n" for u, s in enumerate(seqs)))
    items = tmp_path / "items.tsv"
    items.write_text("".join(f"{ids[i]}\t{make_product(i).title}\n" for i in range(N_ITEMS)))
    cfg = EvalConfig(models=("pop", "itemknn", "als", "content", "fusion", "rerank"), embedder="hashing",
                     embed_cache=tmp_path / "cache",
                     train=TrainConfig(rerank=RerankConfig(depth=5, min_users=50, min_data_in_leaf=20)))
    runs = []
    report = run_evaluation(seq, items, cfg, progress=None, keep_runs=runs)
    entry = report["models"]["rerank"]
    assert entry["trees"] >= 1 and entry["train_seconds"] >= 0
    assert report["notes"]["rerank"].startswith("LightGBM lambdarank over the fusion's top 5")
    rerank, fusion = runs[0].test_ranks["rerank"], runs[0].test_ranks["fusion"]
    outside = fusion >= 5
    assert outside.any() and (~outside).any()
    assert (rerank[outside] == fusion[outside]).all()   # below the pool the fusion's rank holds
    assert (rerank[~outside] < 5).all()                 # inside it, a re-ordering of the pool
    assert runs[0].reranker.config.depth == 5 and runs[0].reranker.config.seed == 42


def test_the_reranker_is_skipped_with_a_note_on_too_little_data(files, tmp_path):
    seq, items = files
    cfg = EvalConfig(models=("pop", "itemknn", "fusion", "rerank"), embedder="hashing", embed_cache=tmp_path / "c")
    report = run_evaluation(seq, items, cfg, progress=None)
    assert "rerank" not in report["models"]
    assert report["notes"]["rerank"].startswith("skipped:") and "needs 100" in report["notes"]["rerank"]
