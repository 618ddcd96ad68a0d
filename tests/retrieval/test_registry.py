"""Catalog registry: versions, atomic imports, damage detection, rebuild, drop, demo, restarts."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval import store
from retrieval.catalog import CatalogImportError
from retrieval.registry import (
    CatalogCorrupt,
    CatalogError,
    CatalogNotFound,
    CatalogRegistry,
    ensure_demo_catalog,
)
from retrieval.embedder import CachedEmbedder, HashingEmbedder

REPO = Path(__file__).resolve().parents[2]


def collections_of(registry) -> list[str]:
    return [c for c in store.list_collection_names(registry.client) if c.endswith(registry.registry_id)]


def test_import_load_roundtrip(registry, products):
    summary = registry.import_products("synth", products)
    assert (summary.name, summary.version, summary.n_imported) == ("synth", 1, len(products))
    catalog = registry.load("synth")
    assert [p.model_dump() for p in catalog.products] == [p.model_dump() for p in products]
    assert catalog.ids[5] == products[5].id and catalog.index[products[5].id] == 5
    assert catalog.get(products[7].id) == products[7]
    with pytest.raises(KeyError, match="No product with id 'zzz'"):
        catalog.get("zzz")
    assert catalog.embeddings.shape == (len(products), registry.embedder.dim)
    assert catalog.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(catalog.embeddings, axis=1), 1.0, rtol=1e-5)
    expected = registry.embedder.embed_documents([p.search_text() for p in products])
    np.testing.assert_allclose(catalog.embeddings, expected, atol=1e-6)
    # Chroma holds the same vectors, keyed by product id.
    got = registry.collection(catalog).get(ids=[products[3].id], include=["embeddings"])
    np.testing.assert_allclose(np.asarray(got["embeddings"][0]), catalog.embeddings[3], atol=1e-6)
    (info,) = registry.list()
    assert (info.name, info.version, info.n_products, info.status) == ("synth", 1, len(products), "ok")
    assert (registry.root / "synth" / "CURRENT").read_text().strip() == "v1"


def test_bad_names(registry, products):
    for bad in ("", "a b", "../x", "-x", "x" * 65, "ü"):
        with pytest.raises(CatalogError, match="Expected a catalog name"):
            registry.import_products(bad, products[:3])


def test_not_found_is_clear(registry):
    with pytest.raises(CatalogNotFound, match="No catalog named 'nope'.*shopassist catalog import PATH --name nope"):
        registry.load("nope")
    with pytest.raises(KeyError):  # also a LookupError for callers that expect one
        registry.load("nope")
    with pytest.raises(CatalogNotFound):
        registry.drop("nope")


def test_reimport_unchanged_embeds_nothing(tmp_path, chroma_client, make_products):
    inner = HashingEmbedder()
    registry = CatalogRegistry(tmp_path / "c", chroma_client, CachedEmbedder(inner, tmp_path / "e.sqlite"))
    products = make_products(120)
    first = registry.import_products("synth", products)
    calls = inner.calls
    assert first.n_embedded == 120 and calls > 0
    again = registry.import_products("synth", products)
    assert again.unchanged and again.version == 1 and again.n_embedded == 0 and inner.calls == calls
    # A changed catalog: a new version, only the changed text is embedded.
    changed = list(products)
    changed[0] = changed[0].model_copy(update={"title": "Brand new title"})
    third = registry.import_products("synth", changed)
    assert third.version == 2 and third.n_embedded == 1 and third.n_from_cache == 119
    assert registry.load("synth").products[0].title == "Brand new title"
    # After a drop, a re-import comes entirely from the embedding cache.
    registry.drop("synth")
    calls = inner.calls
    fourth = registry.import_products("synth", changed)
    assert fourth.n_embedded == 0 and inner.calls == calls


def test_old_versions_cleaned_keeping_previous(registry, make_products):
    for i in range(4):
        registry.import_products("synth", make_products(20, seed=i))
    assert sorted(p.name for p in (registry.root / "synth").iterdir() if p.name.startswith("v")) == ["v3", "v4"]
    assert sorted(collections_of(registry)) == sorted(
        [registry._collection_name("synth", 3), registry._collection_name("synth", 4)])


def test_failed_read_leaves_previous_version(registry, tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps({"id": f"i{i}", "title": f"thing {i}", "price": i}) + "\n" for i in range(10)))
    registry.import_file(good, "shop")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "title": "ok"}) + "\n" + json.dumps({"id": "y", "title": "t", "price": "?"}))
    with pytest.raises(CatalogImportError, match="nothing was imported"):
        registry.import_file(bad, "shop")
    catalog = registry.load("shop")
    assert catalog.version == 1 and len(catalog) == 10


def test_failure_midway_leaves_previous_version_intact(registry, monkeypatch, make_products):
    registry.import_products("synth", make_products(30))
    before = set(collections_of(registry))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "add_vectors", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        registry.import_products("synth", make_products(40, seed=9))
    monkeypatch.undo()
    catalog = registry.load("synth")
    assert catalog.version == 1 and len(catalog) == 30
    assert set(collections_of(registry)) == before
    assert [p.name for p in (registry.root / "synth").iterdir() if p.name.startswith(("v", ".v"))] == ["v1"]
    # The next import works and numbers on.
    assert registry.import_products("synth", make_products(40, seed=9)).version == 2


def test_failed_first_import_leaves_nothing(registry, monkeypatch, make_products):
    monkeypatch.setattr(store, "add_vectors", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        registry.import_products("fresh", make_products(5))
    assert not registry.exists("fresh") and registry.list() == []
    assert collections_of(registry) == []


@pytest.mark.parametrize("damage", ["npy", "npy_rows", "chroma_count", "chroma_gone", "products"])
def test_damage_is_detected_and_rebuild_repairs(registry, products, damage):
    registry.import_products("synth", products)
    catalog = registry.load("synth")
    vdir = registry.root / "synth" / "v1"
    if damage == "npy":
        (vdir / "embeddings.npy").unlink()
    elif damage == "npy_rows":
        np.save(vdir / "embeddings.npy", catalog.embeddings[:-1])
    elif damage == "chroma_count":
        registry.collection(catalog).delete(ids=catalog.ids[:3])
    elif damage == "chroma_gone":
        store.delete_collection(registry.client, catalog.collection_name)
    elif damage == "products":
        (vdir / "products.jsonl").write_text("{not json}\n")
    with pytest.raises(CatalogCorrupt, match="shopassist catalog rebuild synth"):
        registry.load("synth")
    assert registry.list()[0].status != "ok"
    if damage == "products":  # products unreadable and no source file: tells how to re-import
        with pytest.raises(CatalogCorrupt, match="import it again"):
            registry.rebuild("synth")
        return
    summary = registry.rebuild("synth")
    assert summary.version == 2
    repaired = registry.load("synth")
    assert len(repaired) == len(products) and registry.check("synth") == "ok"


def test_rebuild_from_source_file(registry, tmp_path):
    src = tmp_path / "src.csv"
    src.write_text("sku,name,price\n1,Blue bag,10\n2,Red bag,12\n")
    registry.import_file(src, "bags")
    (registry.root / "bags" / "v1" / "products.jsonl").unlink()
    assert registry.rebuild("bags").n_imported == 2
    assert registry.load("bags").get("2").title == "Red bag"


def test_embedder_mismatch_needs_rebuild(tmp_path, chroma_client, products):
    CatalogRegistry(tmp_path / "c", chroma_client, HashingEmbedder(dim=64)).import_products("synth", products[:20])
    other = CatalogRegistry(tmp_path / "c", chroma_client, HashingEmbedder(dim=32))
    with pytest.raises(CatalogCorrupt, match="embedded with 'hashing-v1-d64'.*rebuild synth"):
        other.load("synth")
    other.rebuild("synth")
    assert other.load("synth").embeddings.shape == (20, 32)


def test_drop_removes_files_and_collections(registry, products):
    registry.import_products("synth", products[:50])
    registry.import_products("synth", products[:60])
    registry.drop("synth")
    assert not (registry.root / "synth").exists()
    assert collections_of(registry) == [] and registry.list() == []


def test_ensure_demo_catalog(registry, tmp_path):
    data = tmp_path / "data" / "beauty"
    data.mkdir(parents=True)
    with gzip.open(data / "items.tsv.gz", "wt", encoding="utf-8") as fh:
        fh.write("asin\ttitle\nB001\tOPI Nail Lacquer Red\nB002\t\nB003\tDry Shampoo\n")
    summary = ensure_demo_catalog(registry, tmp_path / "data")
    assert summary.n_imported == 3
    catalog = registry.load("beauty")
    assert catalog.get("B002").title == "Amazon Beauty item B002"  # the demo keeps every item
    assert ensure_demo_catalog(registry, tmp_path / "data") is None
    (registry.root / "beauty" / "v1" / "embeddings.npy").unlink()
    assert ensure_demo_catalog(registry, tmp_path / "data").version == 2  # repaired


def test_persistence_across_process_restart(tmp_path):
    """Import in one process, search in two fresh ones (PersistentClient on disk)."""
    src = tmp_path / "p.jsonl"
    src.write_text("".join(json.dumps({"id": f"i{i}", "title": t, "price": 5 + i}) + "\n" for i, t in enumerate(
        ["red lipstick", "blue jeans", "dry shampoo", "vitamin c serum", "running shoes"])))
    env = dict(os.environ, SHOPASSIST_HOME=str(tmp_path / "home"), SHOPASSIST_EMBEDDER="hashing",
               PYTHONPATH=str(REPO))
    env.pop("SHOPASSIST_CHROMA_URL", None)
    cli = [sys.executable, "-m", "assistant.cli"]

    def run(*argv):
        out = subprocess.run([*cli, *argv], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout

    run("catalog", "import", str(src), "--name", "mini")
    first = json.loads(run("search", "--catalog", "mini", "--query", "shampoo", "--k", "2", "--json"))
    second = json.loads(run("search", "--catalog", "mini", "--query", "shampoo", "--k", "2", "--json"))
    assert first == second and first[0]["id"] == "i2"


def test_line_separators_inside_product_text_load_back(registry):
    """products.jsonl is one product per "\n": U+0085 / U+2028 / U+2029 stay raw inside JSON strings
    and must not split a product (found by tests/property/test_importer_props.py: id "0\x850")."""
    from retrieval.catalog import Product

    products = [Product(id="0\x850", title="[]"), Product(id="b", title="line\u2028sep\u2029para \x85 next")]
    registry.import_products("seps", products)
    catalog = registry.load("seps")
    assert catalog.ids == ["0\x850", "b"] and catalog.products[1].title == products[1].title
