"""The one filter engine: hard constraints over a catalog, used by search, recommend and chat alike.

`SearchFilters` says what must hold; `filter_index(catalog).mask(filters)` is the boolean mask of
the products that satisfy it. retrieval.search (HybridSearcher.filter_mask), ranking.profile
(CatalogFeatures.filter_mask, hence RecommendationService.recommend) and the assistant's chat turn
all call this, so "exclude red" means the same everywhere: a whole-word, plural-folded phrase match
("Tired Eyes Cream" does not contain "red"), plus the colour column where the catalog has one.

What each field matches (text comparisons fold case, accents and plurals):
- min_price / max_price: the price (products without a price never pass a price filter);
- brand (any of) / exclude_brand: the brand column, folded and alias-aware ("loreal" = "L'Oreal
  Paris"); a product without a brand matches when its title starts with the brand (and, for
  exclude_brand, is dropped when its title names it anywhere);
- category (any of): any level of category / subcategory / breadcrumbs paths (title when no category);
- product_type (any of): the catalog's product types (retrieval.facets.resolve_type: synonyms and
  head nouns, "shoe" covers "running shoe"); a type the catalog does not list falls back to the title;
- color (any of): the colour column, else colour words in the title;
- audience (any of): the gender / age column ("women" also takes "unisex", "kids" "boys" / "girls");
- must_have / exclude: every / no phrase in the product's searchable text (exclude also checks the
  colour column for colour words; "sulfate-free" / "no sulfates" do not count as naming sulfates);
- attributes: {key: value} on a free attribute column (any level of "A / B" values);
- in_stock: True drops products the availability column says are out of stock;
- on_sale: True keeps products whose list price is above their price.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from retrieval import facets as fx
from retrieval.lexical import INDEX_FORMAT, phrase_key, stem, tokenize

MASK_CACHE_TERMS = 256   # phrase masks kept per index (12,101 products = 12 KB a mask)
_PATH_SPLIT = re.compile(r"\s*(?:>|/|\||,|;)\s*")
AUDIENCE_ALSO = {"women": {"unisex"}, "men": {"unisex"}, "kids": {"boys", "girls"},
                 "boys": {"kids"}, "girls": {"kids"}}


class SearchFilters(BaseModel):
    """Hard constraints. Text comparisons ignore case, accents and plural endings."""

    model_config = ConfigDict(extra="forbid")

    min_price: float | None = Field(default=None, ge=0)   # products with unknown price never match a price filter
    max_price: float | None = Field(default=None, ge=0)
    category: str | list[str] | None = None  # any of; matches any level of "A > B" / "A/B" paths
    brand: str | list[str] | None = None     # any of
    exclude_brand: list[str] = Field(default_factory=list)   # none of
    product_type: list[str] = Field(default_factory=list)    # any of, e.g. ["shampoo"]
    color: list[str] = Field(default_factory=list)           # any of
    audience: list[str] = Field(default_factory=list)        # any of: women, men, kids, boys, girls, unisex
    must_have: list[str] = Field(default_factory=list)  # every term / phrase must occur in the product text
    exclude: list[str] = Field(default_factory=list)    # no term / phrase may occur in the product text
    attributes: dict[str, str] = Field(default_factory=dict)  # e.g. {"color": "black", "gender": "women"}
    in_stock: bool | None = None   # True: drop products known to be out of stock
    on_sale: bool | None = None    # True: only products priced below their list price

    @field_validator("must_have", "exclude", "exclude_brand", "product_type", "color", "audience", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("category", "brand", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, list):
            value = [v for v in value if isinstance(v, str) and v.strip()] or None
        return value

    @model_validator(mode="after")
    def _range(self) -> "SearchFilters":
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError(f"Expected min_price <= max_price, got {self.min_price} > {self.max_price}")
        return self

    def is_empty(self) -> bool:
        return (self.min_price is None and self.max_price is None and not self.category and not self.brand
                and not self.exclude_brand and not self.product_type and not self.color and not self.audience
                and not self.must_have and not self.exclude and not self.attributes
                and not self.in_stock and not self.on_sale)

    def hard_fields(self) -> list[str]:
        """Names of the constraints that are set (for 'fewer than k match' notes)."""
        return [k for k, v in self.model_dump().items() if v not in (None, [], {}, False)]


def as_filters(filters: SearchFilters | dict | None) -> SearchFilters | None:
    """SearchFilters from a dict / SearchFilters / None; None when nothing is constrained."""
    if filters is None:
        return None
    if isinstance(filters, dict):
        filters = SearchFilters(**filters)
    if not isinstance(filters, SearchFilters):
        raise TypeError(f"Expected SearchFilters or dict, got {type(filters).__name__}")
    return None if filters.is_empty() else filters


def norm_label(text: str) -> str:
    return " ".join(stem(t) for t in tokenize(fx.fold(text)))


def _levels(text: str | None) -> set[str]:
    if not text:
        return set()
    out = {norm_label(text)}
    out.update(norm_label(part) for part in _PATH_SPLIT.split(text) if part.strip())
    out.discard("")
    return out


FILTER_FORMAT = 1   # bump when what FilterIndex holds, or how it is computed, changes: saved indexes are rebuilt
_ARRAYS = ("price", "has_category", "has_colour_col", "out_of_stock", "discount")   # numpy, saved as .npz
_STRINGS = ("brand", "title_key", "title_phrase", "doc_keys")                     # one str per product
_SETS = ("category", "types", "colours", "audiences")   # one set of str per product (loaded as frozensets)


class FilterIndex:
    """Per-catalog arrays for vectorised filters (built once per catalog version and saved beside it,
    see filter_index / load_or_build)."""

    def __init__(self, catalog, _state: dict | None = None):
        products = list(getattr(catalog, "products", None) or [catalog.get(i) for i in catalog.ids])
        self.n = len(products)
        self.facets: fx.Facets = getattr(catalog, "facets", None) or fx.learn_facets(products)
        if _state is not None:   # loaded from disk (load_or_build)
            for name in _ARRAYS + _STRINGS:
                setattr(self, name, _state[name])
            for name in _SETS:   # saved as a table of distinct sets + one row each (few distinct)
                setattr(self, name, Coded([frozenset(v) for v in _state[name]], _state[name + "_row"]))
        else:
            self._build(products, _texts(catalog, products))
        self._products = products
        self._attr: dict[str, Coded] = {}
        self._masks = functools.lru_cache(maxsize=MASK_CACHE_TERMS)(self._scan)
        self._mentions = functools.lru_cache(maxsize=MASK_CACHE_TERMS)(self._scan_mentions)
        self._absence: np.ndarray | None = None
        self._lock = threading.Lock()
        # brands as codes too: one membership test per distinct brand, not per product
        self._brands = Coded.of(self.brand)
        self._no_brand = np.flatnonzero(np.asarray([not b for b in self._brands.table])[self._brands.row])
        self._no_category = np.flatnonzero(~np.asarray(self.has_category, dtype=bool))

    def _build(self, products, texts) -> None:
        self.price = np.array([p.price if getattr(p, "price", None) is not None else np.nan for p in products],
                              dtype=np.float64)
        self.brand = [fx.fold(getattr(p, "brand", None)) for p in products]
        self.title_key = [" " + fx.fold(getattr(p, "title", "")) + " " for p in products]
        self.title_phrase = [phrase_key(getattr(p, "title", "")) for p in products]
        attrs = [getattr(p, "attributes", None) or {} for p in products]
        self.category = Coded.of([
            frozenset(_levels(getattr(p, "category", None)) | _levels(a.get("subcategory")) | _levels(a.get("breadcrumbs")))
            for p, a in zip(products, attrs)
        ])
        self.has_category = np.array([bool(getattr(p, "category", None)) for p in products], dtype=bool)
        self.types = Coded.of([frozenset(fx.product_type_keys(p, self.facets)) for p in products])
        self.colours = Coded.of([frozenset(fx.product_colours(p)) for p in products])
        self.has_colour_col = np.array([bool(a.get("color") or a.get("colour")) for a in attrs], dtype=bool)
        self.audiences = Coded.of([frozenset(fx.product_audiences(p)) for p in products])
        stock = [fx.in_stock(p) for p in products]
        self.out_of_stock = np.array([s is False for s in stock], dtype=bool)
        self.discount = np.array([fx.discount(p) for p in products], dtype=np.float64)
        self.doc_keys = [phrase_key(t) for t in texts]

    # -- persistence ----------------------------------------------------------------------------
    @staticmethod
    def fingerprint(catalog) -> str:
        """What the index is built from: every product (all its fields), its searchable text, the
        catalog's facets, and the code's formats (this one, phrase_key's, the facets')."""
        products = list(getattr(catalog, "products", None) or [catalog.get(i) for i in catalog.ids])
        facets = getattr(catalog, "facets", None)
        h = hashlib.sha256(f"{FILTER_FORMAT}|{INDEX_FORMAT}|{fx.FACETS_FORMAT}|{len(products)}".encode())
        h.update(json.dumps(facets.to_dict() if facets is not None else None, sort_keys=True, default=str).encode())
        for p, text in zip(products, _texts(catalog, products)):
            h.update(p.model_dump_json().encode() if hasattr(p, "model_dump_json") else repr(vars(p)).encode())
            h.update(b"\0")
            h.update(text.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()

    @classmethod
    def load_or_build(cls, catalog, directory) -> "FilterIndex":
        """The index saved in `directory` when its fingerprint matches `catalog`, else a new one,
        saved there (written to a temporary directory, then renamed: readers never see half)."""
        directory = Path(directory)
        want = cls.fingerprint(catalog)
        try:
            meta = json.loads((directory / "meta.json").read_text())
            if meta.get("fingerprint") == want:
                state = json.loads((directory / "index.json").read_text(encoding="utf-8"))
                with np.load(directory / "arrays.npz", allow_pickle=False) as arrays:
                    state.update({name: arrays[name] for name in _ARRAYS + tuple(f + "_row" for f in _SETS)})
                n = len(getattr(catalog, "products", None) or catalog.ids)
                if all(len(state[name]) == n for name in _ARRAYS + _STRINGS + tuple(f + "_row" for f in _SETS)):
                    return cls(catalog, _state=state)
        except (FileNotFoundError, ValueError, KeyError, OSError, TypeError):
            pass
        index = cls(catalog)
        try:
            index.save(directory, want)
        except OSError as exc:   # read-only catalog directory (a shared, read-only home): keep it in memory
            logging.getLogger(__name__).warning("filter index not saved to %s: %s", directory, exc)
        return index

    def save(self, directory, fingerprint: str) -> None:
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".filters-", dir=directory.parent))
        try:
            arrays = {name: getattr(self, name) for name in _ARRAYS}
            state = {name: getattr(self, name) for name in _STRINGS}
            for name in _SETS:
                coded = getattr(self, name)
                arrays[name + "_row"] = coded.row.astype(np.int64)
                state[name] = [sorted(v) for v in coded.table]
            np.savez(tmp / "arrays.npz", **arrays)
            (tmp / "index.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
            (tmp / "meta.json").write_text(json.dumps({"fingerprint": fingerprint, "n": self.n,
                                                       "format": FILTER_FORMAT}))
            if directory.exists():
                shutil.rmtree(directory, ignore_errors=True)
            os.replace(tmp, directory)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- per-field masks ------------------------------------------------------------------------
    def _scan(self, key: str) -> np.ndarray:
        """Products whose doc key holds the phrase key " w1 w2 " (cached per key by _masks)."""
        mask = np.fromiter((key in d for d in self.doc_keys), dtype=bool, count=self.n)
        mask.flags.writeable = False
        return mask

    def _scan_mentions(self, key: str) -> np.ndarray:
        """Products that name the phrase other than as its absence ("sulfate-free", "no sulfates").
        Only products holding the phrase and one of the absence words are counted phrase by phrase
        (7 counts for every holder cost 36-164 ms a term at 100k products)."""
        word = key.strip()
        absent = [f" {a} " for a in (f"{word} free", f"no {word}", f"without {word}", f"free of {word}",
                                     f"free from {word}", f"non {word}", f"zero {word}")]
        mentions = self._masks(key).copy()
        docs = self.doc_keys
        for i in np.flatnonzero(mentions & self._absence_words()).tolist():
            d = docs[i]
            mentions[i] = d.count(key) > sum(d.count(a) for a in absent)
        mentions.flags.writeable = False
        return mentions

    def _absence_words(self) -> np.ndarray:
        """Products whose text has a word that can mark an absence (free, no, without, non, zero)."""
        with self._lock:
            if self._absence is None:
                marks = (" free ", " no ", " without ", " non ", " zero ")
                self._absence = np.fromiter((any(m in d for m in marks) for d in self.doc_keys),
                                            dtype=bool, count=self.n)
        return self._absence

    def contains(self, term: str) -> np.ndarray:
        """Products whose searchable text contains the phrase `term` (whole words, plurals folded)."""
        key = phrase_key(term)
        if not key.strip():
            return np.ones(self.n, dtype=bool)
        return self._masks(key).copy()

    def mentions(self, term: str) -> np.ndarray:
        """Products whose text names `term` other than as its absence: "Sulfate-Free Shampoo",
        "no parabens" and "without sulfates" do not mention sulfates / parabens for an exclusion."""
        key = phrase_key(term)
        if not key.strip():
            return np.zeros(self.n, dtype=bool)
        return self._mentions(key).copy()

    def attr_levels(self, key: str) -> "Coded":
        if key not in self._attr:
            self._attr[key] = Coded.of([frozenset(_levels((getattr(p, "attributes", None) or {}).get(key)))
                                        for p in self._products])
        return self._attr[key]

    def brand_keys(self, names) -> set[str]:
        keys = set()
        for name in [names] if isinstance(names, str) else names:
            canon = self.facets.brand(name)
            keys.add(fx.fold(canon or name))
        keys.discard("")
        return keys

    def brand_mask(self, names, anywhere_in_title: bool = False) -> np.ndarray:
        """The brand column (folded, alias-aware); a product without a brand matches when its title
        starts with the brand (anywhere_in_title: names it anywhere, for exclusions)."""
        keys = self.brand_keys(names)
        mask = self._brands.where(lambda b: b in keys)
        phrases = [" " + k + " " for k in keys]
        titles = self.title_key
        if anywhere_in_title:
            hit = [i for i in self._no_brand.tolist() if any(ph in titles[i] for ph in phrases)]
        else:
            hit = [i for i in self._no_brand.tolist() if any(titles[i].startswith(ph) for ph in phrases)]
        mask[hit] = True
        return mask

    def type_mask(self, names: list[str]) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        for name in names:
            keys = fx.resolve_type(name, self.facets)
            if keys:
                mask |= self.types.where(lambda t: bool(t & keys))
            else:   # the catalog has no such type: the title must name it
                key = phrase_key(name)
                mask |= np.fromiter((key in t for t in self.title_phrase), dtype=bool, count=self.n)
        return mask

    def colour_mask(self, names: list[str]) -> np.ndarray:
        wanted: set[str] = set()
        for name in names:
            canon = fx.COLOURS.get(fx.fold(name), fx.fold(name))
            wanted |= {canon} | fx.COLOUR_FAMILY.get(canon, set())
        return self.colours.where(lambda c: bool(c & wanted))

    def audience_mask(self, names: list[str]) -> np.ndarray:
        wanted: set[str] = set()
        for name in names:
            canon = fx.AUDIENCES.get(fx.fold(name), fx.fold(name))
            wanted |= {canon} | AUDIENCE_ALSO.get(canon, set())
        return self.audiences.where(lambda a: bool(a & wanted))

    # -- the mask -------------------------------------------------------------------------------
    def mask(self, filters: SearchFilters | dict | None) -> np.ndarray:
        """Boolean mask over all products: which satisfy every constraint of `filters`."""
        out = np.ones(self.n, dtype=bool)
        filters = as_filters(filters)
        if filters is None:
            return out
        with np.errstate(invalid="ignore"):
            if filters.min_price is not None:
                out &= self.price >= filters.min_price  # NaN (unknown price) compares False
            if filters.max_price is not None:
                out &= self.price <= filters.max_price
        if filters.brand:
            out &= self.brand_mask(filters.brand)
        if filters.exclude_brand:
            out &= ~self.brand_mask(filters.exclude_brand, anywhere_in_title=True)
        if filters.category:
            wanted = [filters.category] if isinstance(filters.category, str) else filters.category
            keys = {norm_label(c) for c in wanted} - {""}
            phrases = [" " + key + " " for key in keys]
            in_category = self.category.where(lambda levels: bool(levels & keys))
            titles = self.title_phrase   # a product without a category: its title names one
            in_category[[i for i in self._no_category.tolist() if any(ph in titles[i] for ph in phrases)]] = True
            out &= in_category
        if filters.product_type:
            out &= self.type_mask(filters.product_type)
        if filters.color:
            out &= self.colour_mask(filters.color)
        if filters.audience:
            out &= self.audience_mask(filters.audience)
        for key, value in filters.attributes.items():
            wanted = {norm_label(value)}
            if key == "gender" and wanted & {"women", "men", "woman", "man"}:
                wanted.add("unisex")
            out &= self.attr_levels(key).where(lambda lv: bool(lv & wanted))
        for term in filters.must_have:
            out &= self.contains(term)
        for term in filters.exclude:
            out &= ~self.mentions(term)
            if fx.fold(term) in fx.COLOURS:
                out &= ~(self.colour_mask([term]) & self.has_colour_col)
        if filters.in_stock:
            out &= ~self.out_of_stock
        if filters.on_sale:
            out &= self.discount > 0
        return out


class Coded:
    """One value per product stored as a table of the distinct values and each product's row in it:
    a per-query test runs once per distinct value (a catalog has few distinct colour / type /
    audience / category sets and brands), then one vectorised take over the products."""

    __slots__ = ("table", "row")

    def __init__(self, table: list, row: np.ndarray):
        self.table = table
        self.row = np.asarray(row, dtype=np.int32)

    @classmethod
    def of(cls, values: list) -> "Coded":
        index: dict = {}
        row = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int32, count=len(values))
        return cls(list(index), row)

    def where(self, test) -> np.ndarray:
        """Boolean mask over the products: test(value) for each product's value."""
        if not self.table:
            return np.zeros(len(self.row), dtype=bool)
        return np.fromiter((bool(test(v)) for v in self.table), dtype=bool, count=len(self.table))[self.row]

    def __len__(self) -> int:
        return len(self.row)

    def __getitem__(self, i: int):
        return self.table[self.row[i]]

    def __iter__(self):
        table = self.table
        return (table[r] for r in self.row.tolist())

    def __eq__(self, other) -> bool:   # the same value for every product (tables may be ordered apart)
        return isinstance(other, Coded) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None


_INDEXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _texts(catalog, products) -> list[str]:
    texts = getattr(catalog, "texts", None)
    if texts is None:
        texts = [p.search_text() if hasattr(p, "search_text")
                 else f"{getattr(p, 'title', '')}. {getattr(p, 'description', '')}" for p in products]
    return texts


def _load_or_build(catalog) -> FilterIndex:
    path = getattr(catalog, "path", None)
    return FilterIndex.load_or_build(catalog, Path(path) / "filters") if path is not None else FilterIndex(catalog)


def filter_index(catalog) -> FilterIndex:
    """The FilterIndex of a loaded catalog, built once and shared (search, recommend and chat); a
    catalog version on disk keeps it beside it (`filters/`), so later starts and workers load it."""
    try:
        found = _INDEXES.get(catalog)
    except TypeError:   # not weak-referenceable (a test double): build one
        return FilterIndex(catalog)
    if found is None:
        with _LOCK:
            found = _INDEXES.get(catalog)
            if found is None:
                found = _load_or_build(catalog)
                _INDEXES[catalog] = found
    return found


def filter_mask(catalog, filters: SearchFilters | dict | None) -> np.ndarray:
    """Which products of `catalog` satisfy `filters` (the one filter engine)."""
    return filter_index(catalog).mask(filters)
