"""Hybrid search: fusion, filters (always k when k match), batch = single, components, terms."""
from __future__ import annotations

import numpy as np
import pytest

from retrieval.catalog import Product
from retrieval.lexical import LexicalIndex
from retrieval.registry import CatalogRegistry
from retrieval.search import HybridSearcher, SearchConfig, SearchFilters, bonus_scores, fuse_scores


def satisfies(p: Product, f: dict) -> bool:
    """Reference implementation of the filters (slow, obvious)."""
    text = " " + " ".join(p.search_text().lower().replace(".", " ").replace(",", " ").split()) + " "
    if "min_price" in f and (p.price is None or p.price < f["min_price"]):
        return False
    if "max_price" in f and (p.price is None or p.price > f["max_price"]):
        return False
    if "brand" in f and (p.brand or "").lower() != f["brand"].lower():
        return False
    if "category" in f and (p.category or "").lower() != f["category"].lower():
        return False
    if any(f" {t} " not in text for t in f.get("must_have", [])):
        return False
    if any(f" {t} " in text for t in f.get("exclude", [])):
        return False
    return all(p.attributes.get(k, "").lower() == v for k, v in f.get("attributes", {}).items())


# -- fusion ----------------------------------------------------------------------------------------
def test_fuse_convex_minmax():
    dense = np.array([0.9, 0.5, 0.1])
    lex = np.array([0.0, 10.0, 5.0])
    got = fuse_scores(dense, lex, SearchConfig(fusion="convex", dense_weight=0.5))
    np.testing.assert_allclose(got, [0.5, 0.5 * 0.5 + 0.5, 0.25])
    only_dense = fuse_scores(dense, np.zeros(3), SearchConfig(dense_weight=0.6))
    np.testing.assert_allclose(only_dense, 0.6 * np.array([1.0, 0.5, 0.0]))


def test_fuse_convex_trusts_dense_more_when_no_candidate_holds_every_query_word():
    dense, lex = np.array([0.9, 0.5, 0.1]), np.array([0.0, 10.0, 5.0])
    config = SearchConfig(dense_weight=0.2, dense_weight_partial=0.6)
    full = fuse_scores(dense, lex, config, coverage=np.array([0.3, 1.0, 0.5]))
    np.testing.assert_allclose(full, 0.2 * np.array([1.0, 0.5, 0.0]) + 0.8 * np.array([0.0, 1.0, 0.5]))
    partial = fuse_scores(dense, lex, config, coverage=np.array([0.3, 0.6, 0.5]))
    np.testing.assert_allclose(partial, 0.6 * np.array([1.0, 0.5, 0.0]) + 0.4 * np.array([0.0, 1.0, 0.5]))
    single = SearchConfig(dense_weight=0.2, dense_weight_partial=None)   # one weight for every query
    np.testing.assert_allclose(fuse_scores(dense, lex, single, coverage=np.array([0.3, 0.6, 0.5])), full)


def test_bonus_scores_weigh_coverage_phrase_and_type():
    config = SearchConfig(coverage_weight=1.5, phrase_weight=0.05, type_weight=0.1)
    got = bonus_scores(np.array([1.0, 0.5]), np.array([0.0, 1.0]), np.array([True, False]), config)
    np.testing.assert_allclose(got, [1.5 + 0.1, 0.75 + 0.05])
    np.testing.assert_allclose(bonus_scores(np.array([0.2]), np.array([0.0]), None, config), [0.3])


def test_coverage_is_the_idf_weighted_share_of_the_query_words():
    index = LexicalIndex(["garden hose reel", "garden hose", "water hose", "garden rake"], spell=False)
    n = 4
    idf = {t: np.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in {"garden": 3, "hose": 3, "reel": 1}.items()}
    got = index.coverage([0, 1, 2, 3], ["garden", "hose", "reel"])
    total = sum(idf.values())
    np.testing.assert_allclose(got, [1.0, (idf["garden"] + idf["hose"]) / total, idf["hose"] / total,
                                     idf["garden"] / total])
    assert index.coverage([0], []).tolist() == [0.0]
    # a word no document has: no document holds the whole query
    assert index.coverage([0, 1], ["garden", "hose", "zzzz"]).max() < 1.0


def test_adjacency_counts_query_word_pairs_side_by_side_in_order():
    index = LexicalIndex(["garden hose reel", "hose for the garden", "garden rake and hose"], spell=False)
    np.testing.assert_allclose(index.adjacency([0, 1, 2], ["garden", "hose", "reel"]), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(index.adjacency([0, 1, 2], ["garden", "hose"]), [1.0, 0.0, 0.0])
    assert index.adjacency([0], ["hose"]).tolist() == [0.0]        # one word: no pair


def test_fuse_rrf():
    got = fuse_scores(np.array([0.9, 0.5]), np.array([0.0, 3.0]), SearchConfig(fusion="rrf", rrf_k=60))
    np.testing.assert_allclose(got, [1 / 61, 1 / 62 + 1 / 61])


def test_config_and_filter_validation():
    with pytest.raises(ValueError, match="Expected fusion to be 'convex' or 'rrf'"):
        SearchConfig(fusion="max")
    with pytest.raises(ValueError, match="Expected min_price <= max_price, got 50.0 > 20.0"):
        SearchFilters(min_price=50, max_price=20)
    with pytest.raises(ValueError):
        SearchFilters(colour="red")
    assert SearchFilters(exclude="red, blue").exclude == ["red", "blue"]
    assert SearchFilters(brand="", must_have=[]).is_empty()


# -- search ----------------------------------------------------------------------------------------
def test_hits_have_components_and_matched_terms(loaded):
    _, catalog, searcher = loaded
    hits = searcher.search("red matte lipstick by Lumina", k=5)
    assert len(hits) == 5
    assert all(set(h.components) >= {"dense", "lexical"} for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = catalog.products[hits[0].row]
    assert top.category == "Lipstick" and hits[0].id == top.id
    assert set(hits[0].matched_terms) <= {"red", "matte", "lipstick", "lumina"}
    assert "lipstick" in hits[0].matched_terms
    for h in hits:  # matched terms really occur in the product text
        text = catalog.products[h.row].search_text().lower()
        assert all(t in text for t in h.matched_terms)


def test_lexical_finds_model_numbers(loaded):
    _, catalog, searcher = loaded
    target = catalog.products[123]
    model = target.title.split()[-1]
    hits = searcher.search(f"{target.brand} model {model}", k=5)
    assert target.id in [h.id for h in hits]
    assert model in next(h.matched_terms for h in hits if h.id == target.id)


def test_batch_equals_single(loaded):
    _, _, searcher = loaded
    queries = ["black backpack", "vitamin c serum for women", "cheap trainers", "", "zzz unknown words"]
    filters = [None, {"max_price": 100}, {"brand": "Acme"}, {"category": "Serum"}, None]
    batch = searcher.search_batch(queries, k=7, filters=filters, batch_size=2)
    for q, f, got in zip(queries, filters, batch):
        single = searcher.search(q, k=7, filters=f)
        assert [h.id for h in got] == [h.id for h in single]
        np.testing.assert_allclose([h.score for h in got], [h.score for h in single], rtol=1e-5)


def test_whole_pool_is_every_candidate_ranked_as_search_ranks_them(loaded):
    registry, catalog, _ = loaded
    searcher = registry.searcher("synth", SearchConfig(n_dense=20, n_lexical=20))
    pools = searcher.search_batch(["black backpack", "vitamin c serum"], k=5, whole_pool=True)
    for query, pool in zip(["black backpack", "vitamin c serum"], pools):
        assert 20 <= len(pool) <= 40 < len(catalog)              # ANN top 20 U BM25 top 20, not the catalog
        assert [h.id for h in pool[:5]] == [h.id for h in searcher.search(query, k=5)]


def test_k_larger_than_candidate_pool(loaded):
    _, catalog, searcher = loaded
    single = searcher.search("blue backpack", k=250)
    (batch,) = searcher.search_batch(["blue backpack"], k=250)
    assert len(single) == 250 and [h.id for h in batch] == [h.id for h in single]


@pytest.mark.parametrize("flt", [
    {"max_price": 40},
    {"min_price": 50, "max_price": 120},
    {"brand": "verde"},
    {"category": "sneakers", "max_price": 150},
    {"must_have": ["black"]},
    {"exclude": ["red", "black"]},
    {"attributes": {"color": "green"}, "brand": "Orbit"},
    {"must_have": ["travel bag"], "exclude": ["white"]},
])
def test_filters_exact_and_complete(loaded, flt):
    _, catalog, searcher = loaded
    matching = [p for p in catalog.products if satisfies(p, flt)]
    mask = searcher.filter_mask(SearchFilters(**flt))
    assert {catalog.products[i].id for i in np.flatnonzero(mask)} == {p.id for p in matching}
    for k in (1, 10, len(matching), len(matching) + 5):
        hits = searcher.search("comfortable everyday product", k=k, filters=flt)
        assert len(hits) == min(k, len(matching))
        assert all(satisfies(catalog.products[h.row], flt) for h in hits)
        assert len({h.id for h in hits}) == len(hits)


def test_unknown_price_fails_price_filter(loaded):
    _, catalog, searcher = loaded
    hits = searcher.search("shampoo", k=300, filters={"min_price": 0})
    assert hits and all(catalog.products[h.row].price is not None for h in hits)
    assert len(hits) == sum(p.price is not None for p in catalog.products)


def test_restrictive_filter_beyond_ann_overfetch(tmp_path, chroma_client, hashing_embedder, make_products):
    """Only 12 products match and all are far from the query: the ANN pool (forced tiny) misses them,
    so the exact fallback over the filtered subset must still return k."""
    products = make_products(1000, seed=3)
    rare = [p.model_copy(update={"brand": "Quirk", "title": f"Quirk enamel teapot {i}",
                                 "description": "kitchen", "category": "Kitchen"})
            for i, p in enumerate(products[:12])]
    rare_ids = {p.id for p in rare}
    products = rare + products[12:]
    registry = CatalogRegistry(tmp_path / "c", chroma_client, hashing_embedder)
    registry.import_products("big", products)
    config = SearchConfig(n_dense=5, n_lexical=5, max_ann=10, exact_below=0)
    searcher = registry.searcher("big", config)
    query = "black running sneakers"
    assert not rare_ids & {h.id for h in searcher.search(query, k=10)}
    for k in (5, 12, 20):
        hits = searcher.search(query, k=k, filters={"brand": "quirk"})
        assert len(hits) == min(k, 12)
        assert all(searcher.catalog.products[h.row].brand == "Quirk" for h in hits)
    # and a filter matching many, but with a tiny ANN budget
    hits = searcher.search(query, k=30, filters={"max_price": 150})
    assert len(hits) == 30


def test_category_and_brand_fall_back_to_title(tmp_path, chroma_client, hashing_embedder):
    products = [
        Product(id="1", title="Maybelline Great Lash Mascara"),
        Product(id="2", title="Mascara by Someone Else"),
        Product(id="3", title="Blue cotton kurta", attributes={"gender": "Women"}),
        Product(id="4", title="White kurta set", attributes={"gender": "Unisex"}),
        Product(id="5", title="Black kurta", attributes={"gender": "Men"}),
        Product(id="6", title="Leather shoes", category="Shoes > Men > Formal"),
    ]
    registry = CatalogRegistry(tmp_path / "c", chroma_client, hashing_embedder)
    registry.import_products("t", products)
    s = registry.searcher("t")
    assert [h.id for h in s.search("mascara", k=5, filters={"brand": "maybelline"})] == ["1"]
    assert {h.id for h in s.search("kurta", k=5, filters={"category": "kurtas"})} == {"3", "4", "5"}
    assert {h.id for h in s.search("kurta", k=5, filters={"attributes": {"gender": "women"}})} == {"3", "4"}
    assert [h.id for h in s.search("", k=5, filters={"category": "formal"})] == ["6"]
    assert [h.id for h in s.search("shoes", k=5, filters={"category": ["shoe", "nothing"]})] == ["6"]


def test_no_match_and_empty_query(loaded):
    _, catalog, searcher = loaded
    assert searcher.search("anything", k=5, filters={"brand": "NoSuchBrand"}) == []
    hits = searcher.search("   ", k=4, filters={"category": "Serum"})
    assert len(hits) == 4 and all(catalog.products[h.row].category == "Serum" for h in hits)
    assert len(searcher.search("", k=3)) == 3
    assert searcher.search("x", k=0) == []


def test_candidate_pool_and_query_vector(loaded):
    _, catalog, searcher = loaded
    pool = searcher.candidate_pool("pink lipstick", 50, {"max_price": 100})
    assert len(pool) == 50 and all(catalog.products[h.row].price <= 100 for h in pool)
    vec = searcher.embedder.embed_query("pink lipstick")
    a = searcher.search("pink lipstick", k=5)
    b = searcher.search("pink lipstick", k=5, query_vector=vec)
    assert [h.id for h in a] == [h.id for h in b]


def test_rrf_config(loaded):
    registry, catalog, _ = loaded
    searcher = HybridSearcher.for_catalog(catalog, registry.embedder, registry, SearchConfig(fusion="rrf"))
    hits = searcher.search("green walking shoes", k=5)
    assert len(hits) == 5 and catalog.products[hits[0].row].category == "Sneakers"


def test_embedder_mismatch_refused(loaded):
    from retrieval.embedder import HashingEmbedder

    registry, catalog, _ = loaded
    with pytest.raises(ValueError, match="rebuild synth"):
        HybridSearcher(catalog, HashingEmbedder(dim=32), registry.collection(catalog))


class _CountingList(list):
    """A list that counts full passes over it."""
    passes = 0

    def __iter__(self):
        self.passes += 1
        return super().__iter__()


def test_phrase_masks_are_computed_once_per_key():
    pytest.importorskip("bm25s")
    from retrieval.lexical import MASK_CACHE_TERMS, LexicalIndex, phrase_key

    index = LexicalIndex(["Red matte lipstick", "Pink gloss", "Matte pink lipsticks", "Shampoo, pink-free"])
    docs = list(index.doc_keys)
    index.doc_keys = _CountingList(docs)
    key = phrase_key("Pinks")
    first = index.mask_contains(key)
    assert first.tolist() == [False, True, True, True] and index.doc_keys.passes == 1
    first[:] = False                                             # the caller's array is its own
    assert index.mask_contains(key).tolist() == [False, True, True, True] and index.doc_keys.passes == 1
    assert index.mask_contains(key).flags.writeable
    for term in ("matte lipstick", "lipsticks", "pink gloss", "red", "nope", "free"):
        assert index.mask_contains(phrase_key(term)).tolist() == [phrase_key(term) in d for d in docs]
    for i in range(MASK_CACHE_TERMS):                            # bounded: the oldest key is evicted
        index.mask_contains(f" t{i} ")
    passes = index.doc_keys.passes
    index.mask_contains(key)
    assert index.doc_keys.passes == passes + 1


# -- product type and the multilingual signal -----------------------------------------------------
class _DictEmbedder:
    """A fake multilingual encoder: Chinese and English words for the same thing share one axis."""

    name = "fake-multilingual"
    dim = 4
    AXES = {"saree": 0, "纱丽": 0, "wig": 1, "假发": 1, "watch": 2, "手表": 2}

    def __init__(self):
        self.documents = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.full(self.dim, 0.01, dtype=np.float32)
        for word, axis in self.AXES.items():
            if word in text.lower():
                v[axis] += 1.0
        return v / np.linalg.norm(v)

    def embed_queries(self, texts):
        return np.stack([self._vec(t) for t in texts])

    def embed_documents(self, texts):
        self.documents += len(texts)
        return np.stack([self._vec(t) for t in texts])


SMALL = [
    Product(id="s1", title="Silk Saree with Blouse Piece", brand="Aura"),
    Product(id="s2", title="Curly Synthetic Wig for Women", brand="Lux"),
    Product(id="s3", title="Analogue Watch with Leather Strap", brand="Tempo"),
    Product(id="s4", title="Watch Strap Replacement Kit", brand="Tempo"),
    Product(id="s5", title="Steel Bracelet Watch for Men", brand="Tempo"),
]


@pytest.fixture
def small_searcher(registry):
    registry.import_products("small", SMALL)
    return lambda **kw: registry.searcher("small", **kw)


def test_cjk_query_uses_the_multilingual_signal(small_searcher):
    fake = _DictEmbedder()
    searcher = small_searcher(multilingual=fake)
    assert [h.id for h in searcher.search("纱丽", k=1)] == ["s1"]
    assert [h.id for h in searcher.search("假发", k=1)] == ["s2"]
    assert fake.documents == len(SMALL)                       # the catalog is embedded once, then reused
    assert searcher.search("wig", k=1)[0].id == "s2"           # English queries keep the main embedder
    assert fake.documents == len(SMALL)
    # Filters still hold on the multilingual route.
    ids = [h.id for h in searcher.search("手表", k=5, filters={"exclude": ["strap"]})]
    assert ids[0] == "s5" and not {"s3", "s4"} & set(ids)


def test_without_the_multilingual_signal_cjk_words_find_nothing_specific(small_searcher):
    searcher = small_searcher()
    hits = searcher.search("纱丽", k=5)
    assert all(h.components["lexical"] == 0 for h in hits)     # no Chinese word is in an English title


def test_a_product_holding_every_query_word_ranks_above_one_rare_word(tmp_path, chroma_client, hashing_embedder):
    # BM25 alone puts the title repeating the rare word "leather" first; the shopper asked for a leather watch
    products = [Product(id="w1", title="Leather Leather Leather Strap Replacement", brand="Kit"),
                Product(id="w2", title="Steel Watch with Leather Band", brand="Tempo"),
                Product(id="w3", title="Steel Watch", brand="Tempo"),
                Product(id="w4", title="Digital Watch", brand="Tempo"),
                Product(id="w5", title="Sports Watch", brand="Tempo")]
    registry = CatalogRegistry(tmp_path / "home", chroma_client, hashing_embedder)
    registry.import_products("watches", products)
    lexical_only = SearchConfig(dense_weight=0.0, dense_weight_partial=None, type_weight=0.0, phrase_weight=0.0)
    bm25_order = registry.searcher("watches", SearchConfig(**{**lexical_only.__dict__, "coverage_weight": 0.0}))
    assert bm25_order.search("leather watch", k=1)[0].id == "w1"
    hits = registry.searcher("watches", lexical_only).search("leather watch", k=2)
    assert hits[0].id == "w2" and hits[0].components["coverage"] == 1.0
    assert 0 < hits[1].components["coverage"] < 1.0


def test_query_naming_a_type_ranks_that_type_first(small_searcher):
    searcher = small_searcher(config=SearchConfig(type_weight=0.5))
    hits = searcher.search("tempo watch", k=3)
    assert hits[0].components["type"] == 1.0 and hits[0].id in {"s3", "s5"}
    assert next(h for h in hits if h.id == "s4").components["type"] == 0.0   # a strap kit, not a watch


def test_large_filtered_subset_takes_exact_dense_candidates(tmp_path, chroma_client, hashing_embedder,
                                                            make_products, monkeypatch):
    """A filter matching more than exact_below but within exact_dense_budget never queries the ANN
    (an over-fetched HNSW query cost ~50 ms at 100k products): its dense candidates are the exact
    filtered top n_dense, so with dense-only fusion the top k is the brute-force top k."""
    from retrieval import search as search_mod

    registry = CatalogRegistry(tmp_path / "c", chroma_client, hashing_embedder)
    registry.import_products("big", make_products(1000, seed=5))
    dense_only = dict(dense_weight=1.0, dense_weight_partial=1.0, coverage_weight=0.0, phrase_weight=0.0,
                      type_weight=0.0, n_dense=20, n_lexical=20, exact_below=50)
    searcher = registry.searcher("big", SearchConfig(**dense_only))
    dim = searcher.catalog.embeddings.shape[1]
    flt = {"max_price": 150}
    mask = searcher.filter_mask(flt)
    n_match = int(mask.sum())
    assert 50 < n_match < 1000 and searcher.exact_dense(n_match)

    real = search_mod.store.query_vectors

    def no_ann(*a, **kw):
        raise AssertionError("the ANN was queried for a filtered subset the budget scores exactly")

    monkeypatch.setattr(search_mod.store, "query_vectors", no_ann)
    for query in ("black running sneakers", "vitamin c serum", "acme lipstick"):
        vector = searcher._embed([query])[0]
        sims = np.where(mask, searcher.catalog.embeddings @ vector, -np.inf)
        brute = [searcher.catalog.ids[r] for r in np.lexsort((np.arange(len(sims)), -sims))[:10]]
        hits = searcher.search(query, k=10, filters=flt)
        assert [h.id for h in hits] == brute
        assert all(mask[h.row] for h in hits)

    # a budget below the subset: the over-fetched ANN again (and it is asked once per search)
    calls = []
    monkeypatch.setattr(search_mod.store, "query_vectors", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    ann = registry.searcher("big", SearchConfig(**dense_only, exact_dense_budget=n_match * dim - 1))
    assert not ann.exact_dense(n_match)
    hits = ann.search("black running sneakers", k=10, filters=flt)
    assert calls == [1] and len(hits) == 10 and all(mask[h.row] for h in hits)
