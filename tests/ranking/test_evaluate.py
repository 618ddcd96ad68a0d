"""The evaluation harness on tiny files: protocol, arbitrary ids, titles, every model."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from rk_fixtures import N_ITEMS, checkerboard_interactions, make_product

from ranking.data import leave_one_out, read_sequences, interactions_from_sequences
from ranking.evaluate import EvalConfig, format_table, run_evaluation
from ranking.sequential import SASRecConfig
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
    assert list(models) == ["pop", "itemknn", "als", "content", "sasrec", "fusion"]
    for name, m in models.items():
        t = m["test"]
        assert 0.0 <= t["NDCG@1"] <= t["NDCG@10"] <= t["HR@10"] <= 1.0, name
        assert 0.0 < t["coverage@10"] <= 1.0 and 0.0 <= t["diversity@10"] <= 2.0 and t["novelty@10"] >= 0.0
    assert models["itemknn"]["test"]["HR@10"] == 1.0  # 10 unseen items left in the right group, all found
    assert models["sasrec"]["text_features"] is True and models["sasrec"]["epochs"] >= 1
    assert models["fusion"]["weights"] and any(line.startswith("fusion:") for line in lines)
    assert report["dataset"]["eval_users"] == 60 and report["dataset"]["items_n"] == N_ITEMS
    table = format_table(report)
    assert "sasrec" in table and "published" not in table  # Beauty anchors only next to Beauty
    report["dataset"].update(users=22_363, items_n=12_101)
    assert "SASRec (CE loss), published" in format_table(report)


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
