"""The ranking CLI end to end on a tiny catalog: events import / event / train / recommend /
user forget / eval. Uses the hashing embedder and a temporary SHOPASSIST_HOME."""
from __future__ import annotations

import json

import pytest
from rk_fixtures import GROUP, N_ITEMS, checkerboard_interactions, make_product

from assistant.cli import main


@pytest.fixture
def home(tmp_home, tmp_path, capsys):
    csv = tmp_path / "products.csv"
    lines = ["id,title,brand,category,price"]
    for i in range(N_ITEMS):
        p = make_product(i)
        lines.append(f"{p.id},{p.title},{p.brand},{p.category},{p.price}")
    csv.write_text("\n".join(lines) + "\n")
    assert main(["catalog", "import", str(csv), "--name", "tiny"]) == 0
    seq = tmp_path / "seq.txt"
    data = checkerboard_interactions()
    ids = [make_product(i).id for i in range(N_ITEMS)]
    seq.write_text("".join(f"u{u} " + " ".join(ids[r] for r in s) + "\n" for u, s in enumerate(data.sequences)))
    capsys.readouterr()
    return tmp_home, seq


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_events_train_recommend_forget(home, capsys):
    _home, seq = home
    code, out, _ = run(capsys, "events", "import", str(seq), "--catalog", "tiny")
    assert code == 0 and "488 events imported" in out
    code, out, _ = run(capsys, "events", "import", str(seq), "--catalog", "tiny")
    assert "0 events imported, 488 already present" in out

    code, out, _ = run(capsys, "event", "--user", "alice", "--item", "sha14", "--type", "purchase",
                       "--id", "a-1", "--catalog", "tiny", "--json")
    ack = json.loads(out)
    assert code == 0 and ack["event_id"] == "a-1" and ack["duplicate"] is False
    code, out, _ = run(capsys, "event", "--user", "alice", "--item", "sha14", "--type", "purchase",
                       "--id", "a-1", "--catalog", "tiny", "--json")
    assert json.loads(out)["duplicate"] is True

    code, _, err = run(capsys, "event", "--user", "alice", "--item", "sha14", "--type", "like", "--catalog", "tiny")
    assert code == 2 and "view, click, cart, purchase, rating, search" in err
    code, _, err = run(capsys, "event", "--user", "alice", "--item", "zzz", "--type", "view", "--catalog", "tiny")
    assert code == 2 and "Unknown item 'zzz'" in err

    code, out, _ = run(capsys, "train", "--catalog", "tiny", "--models", "pop,itemknn,als,content")
    assert code == 0 and "trained pop, itemknn, als, content" in out

    code, out, _ = run(capsys, "recommend", "--user", "alice", "--catalog", "tiny", "--k", "5", "--json")
    recs = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(recs) == 5
    assert "sha14" not in {r["id"] for r in recs}  # bought already
    assert all(r["id"].startswith("sha") for r in recs[:3]) and recs[0]["components"]

    code, out, _ = run(capsys, "recommend", "--catalog", "tiny", "--k", "3")
    assert code == 0 and "anonymous shopper" in out

    code, out, _ = run(capsys, "events", "show", "--user", "alice")
    assert "sha14" in out

    code, out, _ = run(capsys, "user", "forget", "alice")
    assert code == 0 and "1 events" in out
    code, out, _ = run(capsys, "events", "show", "--user", "alice")
    assert "no events" in out


def test_train_on_an_empty_store_explains(home, capsys):
    code, _, err = run(capsys, "train", "--catalog", "tiny")
    assert code == 2 and "events import" in err


def test_eval_command_writes_json(home, tmp_path, capsys):
    _home, seq = home
    out_json = tmp_path / "report.json"
    code, out, _ = run(capsys, "eval", "--sequences", str(seq), "--models", "pop,itemknn,als,fusion",
                       "--k", "5,10", "--json", str(out_json))
    assert code == 0 and "NDCG@10" in out and "LlamaRec" not in out  # anchors only for Beauty
    report = json.loads(out_json.read_text())
    assert set(report["models"]) == {"pop", "itemknn", "als", "fusion"}
    knn = report["models"]["itemknn"]["test"]
    assert 0.0 <= knn["NDCG@10"] <= knn["HR@10"] <= 1.0 and knn["HR@10"] > 0.5
    assert report["models"]["fusion"]["weights"]
    code, _, err = run(capsys, "eval", "--sequences", str(seq), "--models", "pop,magic")
    assert code == 2 and "magic" in err


def test_eval_command_seeds(home, tmp_path, capsys):
    _home, seq = home
    out_json = tmp_path / "report.json"
    code, out, _ = run(capsys, "eval", "--sequences", str(seq), "--models", "pop,als,fusion", "--seeds", "2",
                       "--seed", "3", "--json", str(out_json))
    assert code == 0 and "mean of 2 seeds (3, 4)" in out and "seed 4" in out
    report = json.loads(out_json.read_text())
    assert report["seeds"] == [3, 4] and [r["seed"] for r in report["models"]["als"]["per_seed"]] == [3, 4]
    assert "NDCG@10" in report["models"]["als"]["test_std"]
    code, _, err = run(capsys, "eval", "--sequences", str(seq), "--models", "pop", "--seeds", "0")
    assert code != 0 and "--seeds" in err
