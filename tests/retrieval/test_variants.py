"""One product in several sizes / pack counts is one product; shades and SPF levels are not."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.variants import same_product, title_words, variant_groups

SIZES = [  # five sizes of one cleanser, titled the way the Amazon Beauty catalog titles them
    "Cetaphil Gentle Skin Cleanser, For all skin types, 16-Ounce Bottles (Pack of 2)",
    "Cetaphil Gentle Skin Cleanser For All Skin Types 4 FL OZ",
    "Cetaphil Gentle Skin Cleanser 16 fl oz.",
    "Cetaphil Gentle Skin Cleanser, 4.0 -Ounce Bottles (Pack of 6)",
    "Cetaphil Gentle Skin Cleanser - 16 fl oz",
]


def test_sizes_and_pack_counts_are_removed_from_titles():
    assert title_words("Cetaphil Gentle Skin Cleanser, 4.0 -Ounce Bottles (Pack of 6)") == \
        {"cetaphil", "gentle", "skin", "cleanser"}
    assert title_words("Gentle Skin Cleansing Cloths, 25 Count") == {"gentle", "skin", "cleansing", "cloths"}
    assert title_words("Moisturizing Cream 20 oz (2 pack, 40oz total)") == {"moisturizing", "cream"}


def test_five_sizes_are_one_group_and_other_products_stay_apart():
    titles = SIZES[:2] + ["Cetaphil Gentle Skin Cleansing Cloths, 25 Count"] + SIZES[2:] + \
        ["Cetaphil Daily Facial Cleanser, Normal to Oily Skin - 8 fl oz"]
    groups = variant_groups([{"title": t, "brand": "Cetaphil"} for t in titles])
    assert groups == [[0, 1, 3, 4, 5], [2], [6]]


def test_shades_numbers_and_brands_keep_products_apart():
    colours = {"red", "pink"}
    assert not same_product(title_words("OPI Nail Lacquer, Red"), title_words("OPI Nail Lacquer, Pink"),
                            distinct_words=frozenset(colours))
    assert not same_product(title_words("Daily Facial Moisturizer SPF 15"),
                            title_words("Daily Facial Moisturizer SPF 50"))
    assert not same_product(title_words("Gentle Skin Cleanser 8 oz"), title_words("Gentle Skin Cleanser 16 oz"),
                            "cetaphil", "cerave")
    # "contains" needs a specific title: a three-word name does not swallow a longer product
    assert not same_product(title_words("Moisturizing Cream"), title_words("Moisturizing Cream for Hands"))
    assert same_product(title_words("Volume Shampoo 12 oz"), title_words("Volume Shampoo, 2 Pack"))


def test_a_colour_column_keeps_same_named_products_apart():
    shoes = [{"title": "Ultraboost 21 Shoes", "brand": "adidas", "attributes": {"color": "Black"}},
             {"title": "Ultraboost 21 Shoes", "brand": "adidas", "attributes": {"color": "White"}},
             {"title": "Ultraboost 21 Shoes", "brand": "adidas", "attributes": {"color": "black"}}]
    assert variant_groups(shoes) == [[0, 2], [1]]


# ------------------------------------------------------------------ the fast grouping = the plain one
def _same_product_reference(a, b, a_brand="", b_brand="", distinct=frozenset()):
    """same_product as first written (symmetric difference first)."""
    if a_brand and b_brand and a_brand != b_brand:
        return False
    if not a or not b:
        return False
    differ = a ^ b
    if any(any(ch.isdigit() for ch in w) for w in differ) or differ & distinct:
        return False
    if a == b:
        return True
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small) >= 4 and small <= large


def _groups_reference(products, distinct_words=()):
    """variant_groups as first written: each product against every member of every earlier group."""
    from retrieval.variants import _colour, _fold, _get

    distinct = frozenset(w.lower() for w in distinct_words)
    words = [title_words(_get(p, "title")) for p in products]
    brands = [_fold(_get(p, "brand")) for p in products]
    colours = [_colour(p) for p in products]
    groups = []
    for i in range(len(products)):
        for group in groups:
            if any((not colours[i] or not colours[j] or colours[i] == colours[j])
                   and _same_product_reference(words[i], words[j], brands[i], brands[j], distinct) for j in group):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


_VOCAB = ["gentle", "skin", "cleanser", "cream", "red", "pink", "spf", "15", "50", "no5", "daily", "face",
          "oil", "hair", "mask", "8 oz", "(Pack of 2)", "4 FL OZ", ""]
_product = st.fixed_dictionaries({
    "title": st.lists(st.sampled_from(_VOCAB), max_size=7).map(" ".join),
    "brand": st.sampled_from(["", "Cetaphil", "cetaphil", "CeraVe"]),
    "attributes": st.sampled_from([{}, {"color": "Black"}, {"color": "black"}, {"colour": "White"}]),
})


@settings(max_examples=300, deadline=None)
@given(st.lists(_product, max_size=40), st.sampled_from([(), ("red", "pink"), ("Red",)]))
def test_grouping_equals_the_plain_pairwise_grouping(products, distinct):
    assert variant_groups(products, distinct) == _groups_reference(products, distinct)
    for a in products[:8]:
        for b in products[:8]:
            wa, wb = title_words(a["title"]), title_words(b["title"])
            d = frozenset(w.lower() for w in distinct)
            assert same_product(wa, wb, a["brand"].lower(), b["brand"].lower(), d) == \
                _same_product_reference(wa, wb, a["brand"].lower(), b["brand"].lower(), d)


def test_grouping_equals_the_plain_grouping_on_the_demo_catalog_titles():
    """Real titles: random ranked-list-sized slices, and slices in title order (many sizes side by side)."""
    from assistant.settings import DATA_DIR
    from ranking.data import read_item_titles

    titles = sorted(read_item_titles(DATA_DIR / "beauty" / "items.tsv.gz").items())
    products = [{"title": t, "brand": t.split()[0] if t else ""} for _i, t in titles]
    by_title = sorted(products, key=lambda p: p["title"].lower())
    rng = random.Random(7)
    slices = [rng.sample(products, 150) for _ in range(20)]
    slices += [by_title[s : s + 150] for s in range(0, len(by_title), 1500)]
    merged = 0
    for chunk in slices:
        groups = variant_groups(chunk, ("red", "pink", "black", "white"))
        assert groups == _groups_reference(chunk, ("red", "pink", "black", "white"))
        merged += len(chunk) - len(groups)
    assert merged > 20   # the slices do hold products in several sizes: the check is not vacuous
