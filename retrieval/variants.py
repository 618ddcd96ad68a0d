"""Near-duplicate products: one product sold in several sizes or pack counts.

    groups = variant_groups(products)        # [[0, 3, 4], [1], [2]]: indices, in input order

Two products are variants of one product when their brands agree (or one has none) and their
titles, once sizes, counts and packaging are removed ("16 fl oz", "(Pack of 2)", "4.5-Ounce
Bottles", "25 Count"), have the same words, or the words of one contain those of the other and
the shorter still has at least `MIN_CONTAINED` words ("Cetaphil Gentle Skin Cleanser 16 fl oz"
and "Cetaphil Gentle Skin Cleanser, For all skin types, 4 FL OZ"). A number left in the title
(SPF 15 / SPF 50, No. 5), a word of `distinct_words` (colours, shades: the caller passes its
vocabulary) that only one of them has, or different values of a colour attribute (a catalog
column such as Adidas' `color`) keep them apart: a red and a pink polish are two products.
Pure functions on titles; products are duck-typed (.title/.brand or dict keys).

Speed (the live path groups ~100 ranked products per recommendation): a title's words (and brand
folding) are cached per string, and a product is compared only with the earlier products that could contain its
words or be contained in them (see `variant_groups`), not with every earlier product.
"""
from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import Any, Iterable, Sequence

MIN_CONTAINED = 4   # words the shorter title must keep for "contains" to make two titles one product

_UNIT = (r"(?:fl\.?\s*oz|fluid\s*ounces?|ounces?|oz|ml|millilit(?:er|re)s?|lit(?:er|re)s?|l|grams?|gm?|kg|"
         r"lbs?|pounds?|count|ct|pcs?|pieces?|packs?|pk|sheets?|capsules?|tablets?|pairs?|wipes?|cloths?)")
_PACKAGING = r"(?:bottles?|tubes?|jars?|bars?|cans?|packs?|pumps?|each|total|refills?|size)"
_SIZE_PATTERNS = [
    re.compile(r"\(\s*(?:pack|set|case|box|bundle|lot)\s+of\s+\d+[^)]*\)", re.I),
    re.compile(r"\b(?:pack|set|case|box|bundle|lot)\s+of\s+\d+\b", re.I),
    re.compile(r"\(\s*\d+\s*[- ]?\s*(?:pack|count|ct|pk|pcs?)\b[^)]*\)", re.I),
    re.compile(rf"\d+(?:[.,]\d+)?\s*(?:-\s*)?{_UNIT}\b\.?(?:\s+{_PACKAGING}\b)*", re.I),
    re.compile(r"\bpackaging\s+may\s+vary\b", re.I),
]
_FILLER = frozenset("a an and the of for with in by to new value".split())
_WORD = re.compile(r"[^\W_]+", re.U)


def _get(product: Any, name: str):
    return product.get(name) if isinstance(product, dict) else getattr(product, name, None)


@functools.lru_cache(maxsize=1 << 12)
def _fold(text: str | None) -> str:
    return re.sub(r"[^\w]+", "", (text or "").lower())


def title_words(title: str | None) -> frozenset[str]:
    """The title's words with sizes, counts, packaging and filler words removed."""
    return _words_and_key(title)[0]


@functools.lru_cache(maxsize=1 << 15)
def _words_and_key(title: str | None) -> tuple[frozenset[str], str]:
    """title_words, and its key word for `variant_groups` (the longest, ties by the larger string;
    "" for none): cached per title, a pure function of the string."""
    text = str(title or "")
    for pattern in _SIZE_PATTERNS:
        text = pattern.sub(" ", text)
    words = frozenset(w for w in _WORD.findall(text.lower()) if w not in _FILLER)
    return words, max(words, key=lambda w: (len(w), w)) if words else ""


def _numbers(words: frozenset[str]) -> frozenset[str]:
    return frozenset(w for w in words if any(ch.isdigit() for ch in w))


def same_product(a_words: frozenset[str], b_words: frozenset[str], a_brand: str = "", b_brand: str = "",
                 distinct_words: frozenset[str] = frozenset()) -> bool:
    """Whether two products (their `title_words` and folded brands) are one product in two sizes."""
    if a_brand and b_brand and a_brand != b_brand:
        return False
    if not a_words or not b_words:
        return False
    if a_words == b_words:
        return True
    small, large = (a_words, b_words) if len(a_words) <= len(b_words) else (b_words, a_words)
    if len(small) < MIN_CONTAINED or not small <= large:   # the cheap test first: most pairs fail it
        return False
    differ = large - small          # = a ^ b, since small is inside large
    return not (_numbers(differ) or differ & distinct_words)


def _colour(product: Any) -> str:
    attributes = _get(product, "attributes") or {}
    return next((_fold(str(v)) for k, v in attributes.items() if "colo" in str(k).lower() and v), "")


def variant_groups(products: Sequence[Any], distinct_words: Iterable[str] = ()) -> list[list[int]]:
    """Group `products` (in ranked order) into products sold in several sizes: a list of index
    lists, ordered by each group's first (best placed) member, members in input order."""
    distinct = frozenset(w.lower() for w in distinct_words)
    words, keys = zip(*[_words_and_key(_get(p, "title")) for p in products]) if products else ((), ())
    brands = [_fold(_get(p, "brand")) for p in products]
    colours = [_colour(p) for p in products]
    # Product i joins the first group (in creation order) holding an earlier product it is one
    # product with. `same_product` needs the words of one title inside the other's, so the smaller
    # title's words are all in the larger one - among them its key word (any one of its words: the
    # longest, a specific one that few products hold). The only earlier products to check are
    # those holding i's key (i the smaller) and those whose key is one of i's words (i the larger).
    # Only key words are ever looked up, so only they are indexed.
    key_set = frozenset(keys) - {""}
    holding: dict[str, list[int]] = defaultdict(list)   # key word -> earlier products with that word
    keyed: dict[str, list[int]] = defaultdict(list)     # key word -> earlier products with that key
    group_of: list[int] = []
    groups: list[list[int]] = []
    for i, ws in enumerate(words):
        best = len(groups)
        if ws:
            hits = ws & key_set          # i's words that are keys (its own among them)
            candidates = set(holding.get(keys[i], ()))
            for w in hits:
                candidates.update(keyed.get(w, ()))
            for j in candidates:
                if group_of[j] < best and (not colours[i] or not colours[j] or colours[i] == colours[j]) \
                        and same_product(ws, words[j], brands[i], brands[j], distinct):
                    best = group_of[j]
            for w in hits:
                holding[w].append(i)
            keyed[keys[i]].append(i)
        group_of.append(best)
        if best == len(groups):
            groups.append([i])
        else:
            groups[best].append(i)
    return groups
