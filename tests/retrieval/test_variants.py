"""One product in several sizes / pack counts is one product; shades and SPF levels are not."""
from __future__ import annotations

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
