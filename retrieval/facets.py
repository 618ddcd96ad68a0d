"""Catalog facets: what a catalog has, learned from its own columns at import.

`learn_facets(products)` reads brands, colours, audiences, product types, price statistics and
currency, discounts and availability from whatever columns the catalog has:

- brands: the brand column, folded (case, accents, punctuation: "L'Oréal Paris" = "loreal paris"),
  with short aliases ("loreal", "maybelline" for "Maybelline New York");
- colours: a colour column (Myntra's Primary_Color, Adidas' color), else colour words in titles;
- audiences: a gender column (or Adidas' breadcrumbs, see retrieval.catalog), canonical lower case;
- product types: the leaf of category paths ("Beauty > Makeup > Nails > Nail Polish" -> "nail polish",
  "Creams & Moisturizers" -> "cream", "moisturizer"), breadcrumbs, a category column, and the head
  noun of titles ("Men Navy Blue Solid Polo T-shirt" -> "t shirt") when it recurs;
- price: count, min / quartiles / max and the currency; discounts: products whose list price
  (attribute `list_price`) is above the price; availability: in / out of stock counts.

The per-product readings (`product_types`, `product_colours`, `fold_brand` ...) are the same
functions the filter engine (retrieval.filters) uses, so what the facets list is what a filter
matches. Facets are stored as `facets.json` next to each catalog version (retrieval.registry).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from retrieval.lexical import stem, tokenize

FACETS_FORMAT = 2          # 2: one colour vocabulary ("clear" is a colour, "gray" folds to "grey")
MIN_HEAD_NOUN_COUNT = 3      # a title head noun becomes a product type when this many titles end in it
PATH_SPLIT = re.compile(r"\s*(?:>|/|\|)\s*")
_LEAF_SPLIT = re.compile(r"\s*(?:&|,|\band\b|\+)\s*")
_TITLE_CUT = re.compile(r"\s(?:with|for|by|in|from|of|-|–|—|\|)\s|[,(\[:;|]|\s-\s", re.I)
_BRAND_SUFFIXES = ("paris", "new york", "cosmetics", "professional", "beauty", "usa", "inc", "co", "ltd",
                   "london", "nyc", "international", "naturals", "pro")
# Category-path levels that name a department rather than a product type.
_NOT_TYPES = {"beauty", "makeup", "skin care", "hair care", "fragrance", "tools accessory", "face", "eye",
              "lip", "body", "nail", "bath body", "women", "men", "kid", "boy", "girl", "unisex", "baby",
              "originals", "training", "running", "clothing", "accessory", "sport", "other", "set", "kit",
              "personal care", "bath", "hair", "tool", "foot hand nail care", "shave", "men's", "women's"}
_NOT_TYPES = _NOT_TYPES | {" ".join(stem(t) for t in tokenize(w)) for w in _NOT_TYPES}
_UNITS = {"ml", "oz", "fl", "pack", "pc", "pcs", "set", "kit", "pair", "piece", "g", "kg", "cm", "mm", "inch", "new"}

# The one colour vocabulary (catalog colour columns, title words, shopper messages in English):
# folded spelling -> canonical colour. assistant.lexicon.COLORS_EN is a view of it, so the rules, the
# facets and the filter engine agree that "gray" is "grey" and "violet" is "purple".
COLOURS: dict[str, str] = {
    "red": "red", "pink": "pink", "blue": "blue", "navy": "navy", "navy blue": "navy", "black": "black",
    "white": "white", "off white": "white", "green": "green", "olive": "olive", "yellow": "yellow",
    "purple": "purple", "violet": "purple", "lavender": "lavender", "orange": "orange", "brown": "brown",
    "grey": "grey", "gray": "grey", "charcoal": "grey", "gold": "gold", "golden": "gold", "silver": "silver",
    "beige": "beige", "nude": "nude", "burgundy": "burgundy", "maroon": "maroon", "coral": "coral",
    "peach": "peach", "khaki": "khaki", "teal": "teal", "turquoise": "teal", "magenta": "magenta",
    "mustard": "mustard", "cream": "cream", "cream colored": "cream", "ivory": "ivory",
    "multicolor": "multicolor", "multicolour": "multicolor", "multi": "multicolor", "rose": "rose",
    "plum": "plum", "tan": "tan", "bronze": "bronze", "copper": "copper", "mauve": "mauve", "berry": "berry",
    "clear": "clear", "transparent": "clear",
}
# Spellings that are a colour in a colour column ("Multi") but not in a message ("multi-purpose balm").
COLUMN_ONLY_COLOURS = frozenset({"multi"})
# Colours a shopper may name that a catalog spells as another (a "blue" request also takes "navy").
COLOUR_FAMILY: dict[str, set[str]] = {"blue": {"navy", "teal"}, "red": {"maroon", "burgundy"},
                                      "grey": {"charcoal"}, "purple": {"lavender", "plum"}}
# Audience values (gender / age group columns) -> canonical.
AUDIENCES: dict[str, str] = {
    "women": "women", "woman": "women", "female": "women", "ladies": "women", "womens": "women",
    "men": "men", "man": "men", "male": "men", "mens": "men", "unisex": "unisex", "kids": "kids",
    "kid": "kids", "children": "kids", "boys": "boys", "boy": "boys", "girls": "girls", "girl": "girls",
    "baby": "baby", "infant": "baby", "unisex kids": "kids", "youth": "kids",
}
IN_STOCK = {"instock", "in stock", "available", "yes", "true", "1", "in_stock"}
OUT_OF_STOCK = {"outofstock", "out of stock", "soldout", "sold out", "unavailable", "no", "false", "0",
                "out_of_stock", "discontinued"}


# ------------------------------------------------------------------------------------------------
def fold(text: str | None) -> str:
    """Case, accents and punctuation folded: "L'Oréal Paris" -> "loreal paris", "e.l.f." -> "elf"."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"['’`.]", "", text)
    text = re.sub(r"[^\w]+|_", " ", text)
    return " ".join(text.split())


def colour(text: str | None) -> str | None:
    """The canonical colour a spelling names ("Gray" -> "grey", "navy blue" -> "navy"), or None."""
    return COLOURS.get(fold(text))


def fold_brand(brand: str | None) -> str:
    return fold(brand)


def brand_aliases(brand: str) -> set[str]:
    """Folded names a shopper may use for `brand`: the full name, without '&'/spaces, and without
    a trailing suffix such as 'Paris' / 'New York' / 'Cosmetics' ("Maybelline New York" -> "maybelline")."""
    key = fold(brand)
    if not key:
        return set()
    out = {key, key.replace(" ", "")}
    for suffix in _BRAND_SUFFIXES:
        if key.endswith(" " + suffix) and len(key) > len(suffix) + 3:
            short = key[: -len(suffix) - 1].strip()
            out.update({short, short.replace(" ", "")})
    if " and " in f" {key} ":
        out.add(key.replace(" and ", " "))
    return {a for a in out if len(a) >= 2}


def type_key(text: str) -> str:
    """Normalised product-type key: tokens stemmed to singular, space separated ("T-Shirts" -> "t shirt")."""
    return " ".join(stem(t) for t in tokenize(text) if t not in ("s",))


def _raw_levels(product) -> list[str]:
    attrs = getattr(product, "attributes", None) or {}
    out: list[str] = []
    for raw in (getattr(product, "category", None), attrs.get("subcategory"), attrs.get("breadcrumbs"),
                attrs.get("all_categories")):
        if not raw:
            continue
        for path in str(raw).split(" | "):
            out.extend(level for level in PATH_SPLIT.split(path) if level.strip())
    return out


def category_levels(product) -> list[str]:
    """Every level of the product's category, subcategory, breadcrumbs and category paths, as type keys."""
    out: list[str] = []
    for level in _raw_levels(product):
        key = type_key(level)
        if key and key not in out:
            out.append(key)
    return out


def path_types(product) -> list[str]:
    """Product types from category-path levels and their '&'-parts ("Creams & Moisturizers" ->
    "cream moisturizer", "cream", "moisturizer"); department names ("Beauty", "Women") are not types."""
    out: list[str] = []
    for level in _raw_levels(product):
        for part in [level, *_LEAF_SPLIT.split(level)]:
            key = type_key(part)
            if key and key not in _NOT_TYPES and key not in out:
                out.append(key)
    return out


def title_head(title: str | None) -> list[str]:
    """The head noun of a title and its compound: "Women Black Sneakers" -> ["sneaker"],
    "DKNY Unisex Black & Grey Printed Medium Trolley Bag" -> ["bag", "trolley bag"]."""
    if not title:
        return []
    head = _TITLE_CUT.split(title, maxsplit=1)[0]
    words = [stem(t) for t in tokenize(head) if not t.isdigit()]
    words = [w for w in words if not re.fullmatch(r"[\d.]+[a-z]*|[a-z]", w) or w == "t"]
    while words and words[-1] in _UNITS:
        words.pop()
    if not words:
        return []
    if len(words) >= 2 and words[-2] == "t" and words[-1] == "shirt":
        return ["t shirt"]
    out = [words[-1]]
    if len(words) >= 2:
        out.append(f"{words[-2]} {words[-1]}")
    return out


def product_colours(product) -> set[str]:
    """Canonical colours of a product: its colour column when it has one, else colour words in the title."""
    attrs = getattr(product, "attributes", None) or {}
    raw = attrs.get("color") or attrs.get("colour")
    words = fold(raw) if raw else fold(getattr(product, "title", ""))
    found: set[str] = set()
    padded = f" {words} "
    for spelling, canon in COLOURS.items():
        if f" {spelling} " in padded:
            found.add(canon)
    return found


def product_audiences(product) -> set[str]:
    attrs = getattr(product, "attributes", None) or {}
    out: set[str] = set()
    for key in ("gender", "age_group"):
        value = fold(attrs.get(key))
        if value in AUDIENCES:
            out.add(AUDIENCES[value])
        elif value:
            out.update(AUDIENCES[w] for w in value.split() if w in AUDIENCES)
    if "unisex" in out and "kids" in out:
        out.discard("unisex")
    return out


def in_stock(product) -> bool | None:
    """True / False from an availability column; None when the catalog does not say."""
    value = (getattr(product, "attributes", None) or {}).get("availability")
    if not value:
        return None
    key = " ".join(str(value).lower().replace("-", " ").split())
    if key in IN_STOCK or key.replace(" ", "") in IN_STOCK:
        return True
    if key in OUT_OF_STOCK or key.replace(" ", "") in OUT_OF_STOCK:
        return False
    return None


def list_price(product) -> float | None:
    value = (getattr(product, "attributes", None) or {}).get("list_price")
    if not value:
        return None
    match = re.search(r"\d+(?:[.,]\d+)*", str(value))
    if not match:
        return None
    try:
        return float(match.group().replace(",", ""))
    except ValueError:
        return None


def discount(product) -> float:
    """Share off the list price (0.25 = 25% off); 0 when there is no higher list price."""
    price, lp = getattr(product, "price", None), list_price(product)
    if price is None or lp is None or lp <= 0 or lp <= price:
        return 0.0
    return round(1.0 - price / lp, 4)


# ------------------------------------------------------------------------------------------------
@dataclass
class Facets:
    """What one catalog has. Counts are numbers of products."""

    n_products: int = 0
    brands: dict[str, int] = field(default_factory=dict)         # display name -> count
    brand_aliases: dict[str, str] = field(default_factory=dict)  # folded alias -> display name
    colours: dict[str, int] = field(default_factory=dict)
    colour_source: str = "none"                                  # "column", "title" or "none"
    audiences: dict[str, int] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)          # type key -> count
    type_source: str = "none"                                    # "category", "title" or "category+title"
    price: dict[str, Any] = field(default_factory=dict)          # n, min, p25, median, p75, max, currency
    n_discounted: int = 0
    availability: dict[str, int] = field(default_factory=dict)   # in_stock / out_of_stock / unknown
    format: int = FACETS_FORMAT

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Facets":
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    # -- look-ups -------------------------------------------------------------------------------
    def brand(self, name: str | None) -> str | None:
        """The catalog's spelling of a brand the shopper named (folded, alias-aware), or None."""
        if not name:
            return None
        key = fold(name)
        return self.brand_aliases.get(key) or self.brand_aliases.get(key.replace(" ", ""))

    def has_type(self, name: str | None) -> bool:
        return bool(name) and type_key(name) in self.types

    def top(self, what: str, n: int = 20) -> list[str]:
        """The n most common values of a facet ("brands", "colours", "audiences", "types")."""
        table = getattr(self, what)
        return [k for k, _ in sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def learn_facets(products: Iterable) -> Facets:
    """Facets of a product list (validated retrieval.catalog.Product objects or look-alikes)."""
    products = list(products)
    facets = Facets(n_products=len(products))
    brand_counts: Counter = Counter()
    spellings: dict[str, Counter] = {}
    colours: Counter = Counter()
    audiences: Counter = Counter()
    path_counts: Counter = Counter()
    head_counts: Counter = Counter()
    prices: list[float] = []
    currencies: Counter = Counter()
    availability: Counter = Counter()
    has_colour_col = has_paths = False
    for p in products:
        if getattr(p, "brand", None):
            key = fold(p.brand)
            spellings.setdefault(key, Counter())[p.brand.strip()] += 1
        attrs = getattr(p, "attributes", None) or {}
        has_colour_col = has_colour_col or bool(attrs.get("color") or attrs.get("colour"))
        colours.update(product_colours(p))
        audiences.update(product_audiences(p))
        types = path_types(p)
        has_paths = has_paths or bool(types)
        path_counts.update(types)
        head_counts.update(title_head(getattr(p, "title", "")))
        if getattr(p, "price", None) is not None:
            prices.append(float(p.price))
            if getattr(p, "currency", None):
                currencies[p.currency] += 1
        facets.n_discounted += discount(p) > 0
        stock = in_stock(p)
        availability["unknown" if stock is None else ("in_stock" if stock else "out_of_stock")] += 1
    for key, counter in spellings.items():
        display = counter.most_common(1)[0][0]
        brand_counts[display] += sum(counter.values())
    facets.brands = dict(brand_counts.most_common())
    aliases: dict[str, str] = {}
    for display in sorted(facets.brands, key=lambda b: -facets.brands[b]):   # common brands keep short aliases
        for alias in brand_aliases(display):
            aliases.setdefault(alias, display)
    facets.brand_aliases = aliases
    facets.colours = dict(colours.most_common())
    facets.colour_source = "column" if has_colour_col else ("title" if colours else "none")
    facets.audiences = dict(audiences.most_common())
    heads = {k: v for k, v in head_counts.items() if v >= MIN_HEAD_NOUN_COUNT and k not in _NOT_TYPES
             and len(k) >= 3}
    if has_paths:
        types = Counter(path_counts)
        # title heads count too where a path leaf names them (a coarse "Shoes" category and
        # "Running Shoes" titles); heads alone only for catalogs whose paths are coarse (few types)
        coarse = len(path_counts) < 30
        for key, count in heads.items():
            if coarse or key in types:
                types[key] = max(types[key], count)
        facets.types = dict(types.most_common())
        facets.type_source = "category+title" if coarse else "category"
    elif heads:
        facets.types = dict(sorted(heads.items(), key=lambda kv: -kv[1]))
        facets.type_source = "title"
    if prices:
        ordered = sorted(prices)

        def q(frac: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(frac * (len(ordered) - 1) + 0.5))], 2)

        facets.price = {"n": len(prices), "min": ordered[0], "p25": q(0.25), "median": q(0.5),
                        "p75": q(0.75), "max": ordered[-1],
                        "currency": currencies.most_common(1)[0][0] if currencies else None}
    facets.availability = dict(availability)
    return facets


def product_type_keys(product, facets: Facets) -> set[str]:
    """The catalog types this product is: its category-path types, plus title head nouns the
    catalog lists as types (where its paths are coarse or it has none)."""
    keys = set(path_types(product))
    if facets.type_source != "category" or not keys:
        keys.update(h for h in title_head(getattr(product, "title", "")) if h in facets.types)
    return keys


# Shopper type words -> the catalog type keys that count as that type (besides the word itself and
# any catalog type ending in it: "shoe" covers "running shoe"). Keys are type_key() forms.
TYPE_SYNONYMS: dict[str, set[str]] = {
    "perfume": {"eau de parfum", "eau de toilette", "perfume", "cologne", "fragrance", "parfum"},
    "fragrance": {"eau de parfum", "eau de toilette", "perfume", "cologne", "parfum"},
    "cologne": {"cologne", "eau de toilette"},
    "moisturizer": {"moisturizer", "cream moisturizer"},
    "face cream": {"cream moisturizer", "moisturizer", "face cream"},
    "eyeshadow": {"eye shadow", "eyeshadow"},
    "nail polish": {"nail polish", "nail lacquer", "nail color"},
    "gel nail polish": {"nail polish", "gel polish"},
    "t shirt": {"t shirt", "tee", "tshirt"},
    "tee": {"tee", "t shirt", "tshirt"},
    "pant": {"pant", "trouser", "jogger", "track pant"},
    "trouser": {"trouser", "pant"},
    "shoe": {"shoe", "sneaker", "trainer"},
    "sneaker": {"sneaker", "trainer"},
    "running shoe": {"running shoe", "run shoe"},
    "hoodie": {"hoodie", "hooded sweatshirt"},
    "hair dye": {"hair color", "hair dye", "chemical hair dye", "hair colour"},
    "hair straightener": {"flattening iron", "hair straightener", "straightener"},
    "sunscreen": {"sunscreen", "sunblock"},
    "lip gloss": {"lip gloss", "lip glosse"},
    "body wash": {"body wash", "shower gel"},
    "cleanser": {"cleanser", "face wash"},
    "false eyelashes": {"fake eyelash adhesive", "fake eyelash", "false eyelash"},
    "jean": {"jean", "jeans"},
    "bag": {"bag", "handbag", "backpack"},
}
# "shirt" must not take in "t shirt" through the head-noun rule
_NOT_HEAD_OF = {"shirt": {"t shirt", "sweatshirt"}}


def resolve_type(name: str | None, facets: Facets) -> set[str]:
    """The catalog type keys that satisfy a shopper's type word (empty: the catalog lacks it)."""
    if not name:
        return set()
    key = type_key(name)
    wanted = {key} | TYPE_SYNONYMS.get(key, set())
    out = set()
    for t in facets.types:
        for w in wanted:
            if t == w or (t.endswith(" " + w) and t not in _NOT_HEAD_OF.get(w, set())):
                out.add(t)
    return out
