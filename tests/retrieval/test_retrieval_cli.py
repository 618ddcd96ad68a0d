"""`shopassist catalog ...` and `shopassist search ...` round trips through main(argv)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main

REPO = Path(__file__).resolve().parents[2]
PRODUCTS = [
    {"sku": "s1", "name": "Ultraboost running shoes", "selling_price": "180", "brand": "adidas",
     "category": "Shoes", "color": "Black", "gender": "Men"},
    {"sku": "s2", "name": "Runfalcon running shoes", "selling_price": "55", "brand": "adidas",
     "category": "Shoes", "color": "White", "gender": "Women"},
    {"sku": "s3", "name": "Trail running shoes", "selling_price": "95", "brand": "Salomon",
     "category": "Shoes", "color": "Black", "gender": "Women"},
    {"sku": "c1", "name": "Cotton hoodie", "selling_price": "60", "brand": "adidas",
     "category": "Clothing", "color": "Black", "gender": "Men"},
    {"sku": "c2", "name": "Running shorts", "selling_price": "", "brand": "Nike",
     "category": "Clothing", "color": "Blue", "gender": "Men"},
]


@pytest.fixture
def catalog_file(tmp_path) -> Path:
    path = tmp_path / "shop.csv"
    cols = list(PRODUCTS[0])
    path.write_text(",".join(cols) + "\n" + "".join(",".join(p[c] for c in cols) + "\n" for p in PRODUCTS))
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_catalog_round_trip(tmp_home, catalog_file, capsys):
    code, out, _ = run(capsys, "catalog", "import", str(catalog_file), "--name", "shop")
    assert code == 0 and "imported 5 products into 'shop' (v1)" in out
    code, out, _ = run(capsys, "catalog", "import", str(catalog_file), "--name", "shop")
    assert code == 0 and "unchanged" in out
    code, out, _ = run(capsys, "catalog", "list", "--json")
    (info,) = json.loads(out)
    assert (info["name"], info["n_products"], info["status"]) == ("shop", 5, "ok")
    assert (tmp_home / "catalogs" / "shop" / "v1" / "embeddings.npy").exists()

    code, out, _ = run(capsys, "search", "--catalog", "shop", "--query", "running shoes", "--k", "2",
                       "--max-price", "100", "--json")
    hits = json.loads(out)
    assert code == 0 and sorted(h["id"] for h in hits) == ["s2", "s3"]
    assert set(hits[0]) == {"id", "title", "price", "currency", "brand", "score", "components"}
    assert set(hits[0]["components"]) >= {"dense", "lexical"}

    code, out, _ = run(capsys, "search", "--catalog", "shop", "--query", "running", "--exclude", "shoes",
                       "--attr", "color=blue", "--json")
    assert [h["id"] for h in json.loads(out)] == ["c2"]
    code, out, _ = run(capsys, "search", "--catalog", "shop", "--query", "hoodie", "--brand", "ADIDAS",
                       "--category", "clothing")
    assert code == 0 and "c1" in out and "Cotton hoodie" in out

    code, out, _ = run(capsys, "catalog", "rebuild", "shop")
    assert code == 0
    code, out, _ = run(capsys, "catalog", "drop", "shop")
    assert code == 0 and "dropped" in out
    code, _, err = run(capsys, "search", "--catalog", "shop", "--query", "x")
    assert code == 2 and "No catalog named 'shop'" in err


def test_batch_mode_file_round_trip(tmp_home, catalog_file, tmp_path, capsys):
    assert run(capsys, "catalog", "import", str(catalog_file), "--name", "shop")[0] == 0
    queries = tmp_path / "q.jsonl"
    lines = [
        {"qid": "q1", "query": "running shoes"},
        {"qid": 2, "query": "running shoes", "max_price": 100, "exclude": ["salomon"]},
        {"qid": "q3", "query": "hoodie", "brand": "adidas", "category": "Clothing"},
        {"qid": "q4", "query": "anything", "min_price": 1000},
    ]
    queries.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    out_path = tmp_path / "out" / "o.jsonl"
    code, _, err = run(capsys, "search", "--catalog", "shop", "--queries", str(queries), "--k", "3",
                       "--out", str(out_path))
    assert code == 0 and "searched 4 queries" in err
    rows = [json.loads(x) for x in out_path.read_text().splitlines()]
    assert [r["qid"] for r in rows] == ["q1", 2, "q3", "q4"]
    assert len(rows[0]["ids"]) == 3 and set(rows[0]) == {"qid", "ids", "scores"}
    assert rows[1]["ids"] == ["s2", "c1"]  # s1 too dear, s3 excluded, c2 has no price
    assert rows[2]["ids"] == ["c1"]
    assert rows[3] == {"qid": "q4", "ids": [], "scores": []}
    assert rows[0]["scores"] == sorted(rows[0]["scores"], reverse=True)
    # batch results equal single-query results
    code, out, _ = run(capsys, "search", "--catalog", "shop", "--query", "running shoes", "--k", "3", "--json")
    assert [h["id"] for h in json.loads(out)] == rows[0]["ids"]


def test_batch_input_errors(tmp_home, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"qid": 1, "query": "ok"}\n{"qid": 2, "query": \n')
    code, _, err = run(capsys, "search", "--catalog", "x", "--queries", str(bad), "--out", str(tmp_path / "o"))
    assert code == 2 and f"file {bad}, line 2: not valid JSON" in err
    bad.write_text('{"qid": 1, "text": "no query"}\n')
    code, _, err = run(capsys, "search", "--catalog", "x", "--queries", str(bad), "--out", str(tmp_path / "o"))
    assert code == 2 and 'line 1: expected a text field "query"' in err
    bad.write_text('{"qid": 1, "query": "q", "min_price": 9, "max_price": 1}\n')
    code, _, err = run(capsys, "search", "--catalog", "x", "--queries", str(bad), "--out", str(tmp_path / "o"))
    assert code == 2 and "line 1: Expected min_price <= max_price, got 9.0 > 1.0" in err
    code, _, err = run(capsys, "search", "--catalog", "x", "--queries", str(bad))
    assert code == 2 and "--queries needs --out" in err


def test_import_errors_are_clear(tmp_home, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,title,price\n1,Good,3\n2,Bad,abc\n")
    code, _, err = run(capsys, "catalog", "import", str(bad), "--name", "b")
    assert code == 2
    assert f"file {bad}, row 2, column price: value 'abc' is not a valid price" in err
    assert not (tmp_home / "catalogs" / "b").exists()
    code, out, err = run(capsys, "catalog", "import", str(bad), "--name", "b", "--skip-bad-rows")
    assert code == 0 and "imported 1 products" in out and "skipped 1 bad row" in out
    assert "row 2, column price" in err
    code, _, err = run(capsys, "catalog", "import", str(bad), "--name", "b", "--price-col", "cost")
    assert code == 2 and "column 'cost' given for --price-col is not in the file" in err
    code, _, err = run(capsys, "catalog", "import", str(bad), "--name", "bad name")
    assert code == 2 and "Expected a catalog name" in err


def test_help_is_instant_and_light():
    code = (
        "import sys, io, contextlib\n"
        "from assistant.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in (['--help'], ['catalog', '--help'], ['search', '--help'], ['catalog', 'import', '--help']):\n"
        "        try: main(argv)\n"
        "        except SystemExit: pass\n"
        "heavy = [m for m in ('chromadb', 'torch', 'sentence_transformers', 'bm25s', 'numpy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
