"""The BM25 index of a catalog version is built once and loaded afterwards (bench_scale: rebuilding
it at every start was the cost that grew with the catalog on every worker start)."""
from __future__ import annotations

import numpy as np

from retrieval import lexical
from retrieval.lexical import LexicalIndex

TEXTS = ["Red matte lipstick", "Vitamin C serum for dull skin", "Argan oil shampoo", "Red nail polish"]


def test_saved_index_is_loaded_without_analysing_the_texts_again(tmp_path, monkeypatch):
    built = LexicalIndex.load_or_build(TEXTS, tmp_path / "bm25")
    assert (tmp_path / "bm25" / "meta.json").exists()

    def no_analysis(text):
        raise AssertionError("the saved index should have been loaded, not rebuilt")

    monkeypatch.setattr(lexical, "phrase_key", no_analysis)
    loaded = LexicalIndex.load_or_build(TEXTS, tmp_path / "bm25")
    stems = [s for _, s in built.query_terms("red lipstick")]
    np.testing.assert_allclose(loaded.scores(stems), built.scores(stems))
    assert loaded.doc_keys == built.doc_keys and loaded.n_docs == 4
    assert loaded.mask_contains(" red ").tolist() == [True, False, False, True]


def test_changed_texts_rebuild_the_index(tmp_path):
    LexicalIndex.load_or_build(TEXTS, tmp_path / "bm25")
    changed = TEXTS[:3] + ["Blue nail polish"]
    index = LexicalIndex.load_or_build(changed, tmp_path / "bm25")
    assert index.mask_contains(" blue ").tolist() == [False, False, False, True]
    assert LexicalIndex.fingerprint(changed) != LexicalIndex.fingerprint(TEXTS)


def test_unwritable_directory_keeps_the_index_in_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    index = LexicalIndex.load_or_build(TEXTS, blocker / "bm25")
    assert index.n_docs == 4


def test_saved_index_keeps_the_terms_in_text_order(tmp_path):
    texts = ["garden hose reel", "hose for the garden"]
    LexicalIndex.load_or_build(texts, tmp_path / "bm25")
    loaded = LexicalIndex.load_or_build(texts, tmp_path / "bm25")
    assert loaded.doc_seq == [" garden hose reel ", " hose garden "]     # adjacency() needs the order
    assert loaded.adjacency([0, 1], ["garden", "hose"]).tolist() == [1.0, 0.0]
