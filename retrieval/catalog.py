"""Product schema and catalog importers (CSV, TSV, JSON array, JSONL; optionally gzip-compressed).

`read_catalog()` validates every row and either returns all products or raises
`CatalogImportError` listing the bad rows, each as
"file X, row N, column C: value 'V' is not a valid price (expected a non-negative number like 12.50)".
With `skip_bad_rows=True` bad rows are reported in the `ImportReport` and left out instead.
Row numbers count data records from 1 (a CSV header is not a row; in JSONL, row = line number).

Columns are found by common names (see `COLUMN_ALIASES`) unless a `ColumnMapping` names them.
Nothing here writes anything: storing a catalog is `retrieval.registry.CatalogRegistry`'s job.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

FORMATS = ("csv", "tsv", "json", "jsonl")
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
MAX_LISTED_ERRORS = 20
DESCRIPTION_CHARS_IN_SEARCH_TEXT = 1000  # the embedder truncates long text anyway; keeps BM25 focused

# Field -> column names recognised automatically (normalised: lower case, spaces/dashes -> "_").
# Order matters: the first one present wins.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "product_id", "productid", "item_id", "sku", "asin", "parent_asin", "uniq_id", "product_code"),
    "title": ("title", "name", "product_name", "product_title", "item_name", "productname"),
    "description": ("description", "product_description", "desc", "long_description"),
    "price": ("price", "selling_price", "sale_price", "final_price", "current_price", "price_usd", "list_price"),
    "currency": ("currency", "currency_code"),
    "brand": ("brand", "product_brand", "brand_name", "manufacturer", "vendor"),
    "category": ("category", "product_category", "main_category", "category_name", "categories", "product_type"),
    "rating": ("rating", "average_rating", "avg_rating", "stars", "review_rating"),
    "url": ("url", "product_url", "link", "product_link"),
}
# Attributes kept on the product but not added to the searchable text (noise for matching).
UNSEARCHED_ATTRIBUTES = frozenset({"availability"})
GENDER_WORDS = {"women": "Women", "woman": "Women", "men": "Men", "man": "Men", "kids": "Kids",
                "boys": "Boys", "girls": "Girls", "unisex": "Unisex", "baby": "Baby"}
# Free attributes: canonical key -> column names. Their values become searchable text and filters.
ATTRIBUTE_ALIASES: dict[str, tuple[str, ...]] = {
    "color": ("color", "colour", "primary_color", "primary_colour", "base_colour", "base_color"),
    "gender": ("gender", "sex", "department"),
    "size": ("size", "sizes"),
    "material": ("material", "fabric"),
    "pattern": ("pattern",),
    "style": ("style",),
    "age_group": ("age_group",),
    "subcategory": ("subcategory", "sub_category", "article_type", "articletype"),
    "breadcrumbs": ("breadcrumbs", "category_path"),
    "availability": ("availability", "in_stock", "stock_status"),
}


def _norm_col(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


# ------------------------------------------------------------------------------------------------
class Product(BaseModel):
    """One validated catalog product. `search_text()` is what gets embedded and BM25-indexed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=512)
    title: str = Field(min_length=1)
    description: str = ""
    brand: str | None = None
    category: str | None = None
    price: float | None = Field(default=None, ge=0)
    currency: str | None = None
    rating: float | None = Field(default=None, ge=0, le=5)
    url: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("Expected id to be text or a number, got a boolean")
        if isinstance(value, (int, float)):
            return str(int(value)) if float(value).is_integer() else str(value)
        return value

    @field_validator("title")
    @classmethod
    def _collapse_title(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("Expected a non-empty title")
        return value

    @field_validator("price", "rating")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError(f"Expected a finite number, got {value}")
        return value

    @field_validator("brand", "category", "currency", "url")
    @classmethod
    def _empty_to_none(cls, value: str | None) -> str | None:
        return value or None

    def search_text(self) -> str:
        """Title, brand, category, attribute values and (the start of) the description."""
        parts = [self.title]
        lowered = self.title.lower()
        if self.brand and self.brand.lower() not in lowered:
            parts.append(self.brand)
        if self.category:
            parts.append(self.category)
        for key, value in self.attributes.items():
            if key not in UNSEARCHED_ATTRIBUTES and value and value.lower() not in lowered:
                parts.append(value)
        if self.description:
            parts.append(self.description[:DESCRIPTION_CHARS_IN_SEARCH_TEXT])
        return ". ".join(parts)


# ------------------------------------------------------------------------------------------------
@dataclass
class ColumnMapping:
    """Which source column feeds which product field; None = detect from common column names."""

    id: str | None = None
    title: str | None = None
    description: str | None = None
    text: list[str] = field(default_factory=list)        # extra text columns appended to the description
    price: str | None = None
    currency: str | None = None
    brand: str | None = None
    category: str | None = None
    rating: str | None = None
    url: str | None = None
    attributes: list[str] = field(default_factory=list)  # extra columns kept as free attributes

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "ColumnMapping":
        values = dict(values or {})
        for key in ("text", "attributes"):
            if isinstance(values.get(key), str):
                values[key] = [c.strip() for c in values[key].split(",") if c.strip()]
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"Unknown column-mapping key(s) {', '.join(sorted(unknown))}; "
                f"expected some of {', '.join(cls.__dataclass_fields__)}"
            )
        return cls(**{k: v for k, v in values.items() if v is not None})


@dataclass
class RowError:
    file: str
    row: int
    column: str | None
    value: Any
    message: str  # e.g. "is not a valid price (expected a non-negative number like 12.50)"

    def __str__(self) -> str:
        where = f"file {self.file}, row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
            return f"{where}: value {_show(self.value)} {self.message}"
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    path: str
    format: str
    columns: dict[str, str | list[str] | None] = field(default_factory=dict)  # field -> source column(s)
    ignored_columns: list[str] = field(default_factory=list)
    n_rows: int = 0
    n_products: int = 0
    errors: list[RowError] = field(default_factory=list)          # bad rows (skipped if asked to)
    duplicates: dict[str, list[int]] = field(default_factory=dict)  # id -> rows; the last row wins

    @property
    def n_skipped(self) -> int:
        return len({e.row for e in self.errors})

    def summary_lines(self, limit: int = MAX_LISTED_ERRORS) -> list[str]:
        lines = [str(e) for e in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"... and {len(self.errors) - limit} more bad value(s)")
        for item_id, rows in list(self.duplicates.items())[:limit]:
            lines.append(
                f"file {self.path}: duplicate id {item_id!r} in rows {', '.join(map(str, rows))}; "
                f"kept row {rows[-1]}"
            )
        if len(self.duplicates) > limit:
            lines.append(f"... and {len(self.duplicates) - limit} more duplicate id(s)")
        return lines


class CatalogImportError(ValueError):
    """A catalog file could not be imported. The message names file, row, column, value and what is accepted."""

    def __init__(self, message: str, errors: list[RowError] | None = None):
        super().__init__(message)
        self.errors = errors or []


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"'{text}'"


# ------------------------------------------------------------------------------------------------
# Value parsers: return the parsed value or raise _Bad(message-after-the-value).
class _Bad(Exception):
    pass


_CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "Rs": "INR", "Rs.": "INR", "¥": "JPY"}
_PRICE_RE = re.compile(
    r"^\s*(?P<pre>US\$|Rs\.?|[$€£₹¥]|[A-Z]{3})?\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*(?P<post>[A-Z]{3}|[$€£₹¥])?\s*$"
)
PRICE_EXPECTED = "is not a valid price (expected a non-negative number like 12.50)"
RATING_EXPECTED = "is not a valid rating (expected a number from 0 to 5 like 4.5)"


def parse_price(value: Any) -> tuple[float | None, str | None]:
    """'12.50', '$1,299.00', '₹ 799', '15 EUR' -> (amount, currency code or None). Empty -> (None, None)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        raise _Bad(PRICE_EXPECTED)
    if isinstance(value, (int, float)):
        try:
            amount = float(value)
        except OverflowError:  # an integer too large for a float
            raise _Bad(PRICE_EXPECTED) from None
        if not math.isfinite(amount) or amount < 0:
            raise _Bad(PRICE_EXPECTED)
        return amount, None
    if not isinstance(value, str):
        raise _Bad(PRICE_EXPECTED)
    match = _PRICE_RE.match(str(value))
    if not match:
        raise _Bad(PRICE_EXPECTED)
    amount = float(match.group("num").replace(",", ""))
    code = match.group("pre") or match.group("post")
    return amount, (_CURRENCY_SYMBOLS.get(code, code) if code else None)


CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}


def format_price(price: Any, currency: str | None = None) -> str:
    """The one way a price is shown (chat text, cards, CLI, why-lines): '$12.00', '€6.50',
    '1,234.50 CHF'; no currency means USD; '' when the price is unknown (None, NaN, not a number)."""
    if price is None or isinstance(price, bool):
        return ""
    try:
        price = float(price)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(price):
        return ""
    code = (currency or "").strip().upper() or "USD"
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{price:,.2f}" if symbol else f"{price:,.2f} {code}"


def parse_rating(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Bad(RATING_EXPECTED)
    try:
        rating = float(str(value).strip().split("/")[0].split(" out of")[0]) if isinstance(value, str) else float(value)
    except (ValueError, OverflowError):
        raise _Bad(RATING_EXPECTED) from None
    if not math.isfinite(rating) or not 0 <= rating <= 5:
        raise _Bad(RATING_EXPECTED)
    return rating


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value if _text(v))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items() if _text(v))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ------------------------------------------------------------------------------------------------
def detect_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    raise CatalogImportError(
        f"file {path}: cannot tell the format from the extension {ext or '(none)'!r}; expected one of "
        f"{', '.join(EXTENSIONS)} (optionally followed by .gz), or pass --format {'|'.join(FORMATS)}"
    )


def _open_text(path: Path):
    raw = gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")
    with raw:
        data = raw.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogImportError(
            f"file {path}: byte {exc.start} is not UTF-8 text; save the file as UTF-8 and import again"
        ) from None


def _iter_records(path: Path, fmt: str, errors: list[RowError]) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """(column names, iterator of (row number, record)). Unparseable JSONL lines go to `errors`."""
    text = _open_text(path)
    if not text.strip():
        raise CatalogImportError(f"file {path} is empty: expected a header row or JSON records, and at least one product")
    if fmt in ("csv", "tsv"):
        csv.field_size_limit(16 * 1024 * 1024)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="," if fmt == "csv" else "\t")
        try:
            header = next(reader)
        except csv.Error as exc:
            raise CatalogImportError(f"file {path}, header: not valid {fmt.upper()} ({exc})") from None
        header = [h.strip() for h in header]

        def rows() -> Iterator[tuple[int, dict]]:
            n = 0
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    n += 1
                    errors.append(RowError(str(path), n, None, None, f"not valid {fmt.upper()} ({exc})"))
                    continue
                if not any(v.strip() for v in values):
                    continue  # blank line
                n += 1
                yield n, {h: v for h, v in zip(header, values) if h}

        return [h for h in header if h], rows()

    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogImportError(
                f"file {path}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}); "
                "expected an array of product objects (use .jsonl for one object per line)"
            ) from None
        except RecursionError:
            raise CatalogImportError(
                f"file {path}: JSON nested too deeply to be a product list; "
                "expected an array of flat product objects"
            ) from None
        if isinstance(data, dict):
            for key in ("products", "items", "data", "records"):
                if isinstance(data.get(key), list):
                    data = data[key]
                    break
        if not isinstance(data, list):
            raise CatalogImportError(
                f"file {path}: expected a JSON array of product objects, got {type(data).__name__}"
            )
        records: list[tuple[int, dict]] = []
        for i, rec in enumerate(data, start=1):
            if isinstance(rec, dict):
                records.append((i, rec))
            else:
                errors.append(RowError(str(path), i, None, None, f"expected a JSON object, got {type(rec).__name__}"))
        return _union_keys(r for _, r in records), iter(records)

    if fmt == "jsonl":
        records = []
        # split on \n only: str.splitlines() also breaks on U+0085/U+2028/U+2029, valid inside JSON strings
        for lineno, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(RowError(str(path), lineno, None, None,
                                       f"not valid JSON ({exc.msg} at character {exc.colno}); "
                                       "expected one JSON object per line"))
                continue
            except RecursionError:
                errors.append(RowError(str(path), lineno, None, None,
                                       "JSON nested too deeply; expected one flat JSON object per line"))
                continue
            if not isinstance(rec, dict):
                errors.append(RowError(str(path), lineno, None, None,
                                       f"expected a JSON object, got {type(rec).__name__}"))
                continue
            records.append((lineno, rec))
        return _union_keys(r for _, r in records), iter(records)

    raise CatalogImportError(f"Expected format to be one of {', '.join(FORMATS)}, got {fmt!r}")


def _union_keys(records: Iterator[dict], limit: int = 2000) -> list[str]:
    keys: dict[str, None] = {}
    for i, rec in enumerate(records):
        if i >= limit:
            break
        keys.update(dict.fromkeys(rec))
    return list(keys)


def resolve_columns(columns: list[str], mapping: ColumnMapping, path: Path) -> tuple[dict[str, Any], list[str]]:
    """Map product fields to source columns: explicit mapping first, then COLUMN_ALIASES."""
    by_norm = {}
    for col in columns:
        by_norm.setdefault(_norm_col(col), col)
    available = ", ".join(columns) if columns else "(none)"

    def explicit(flag: str, col: str) -> str:
        if col in columns:
            return col
        if _norm_col(col) in by_norm:
            return by_norm[_norm_col(col)]
        raise CatalogImportError(
            f"file {path}: column {col!r} given for {flag} is not in the file (columns: {available})"
        )

    resolved: dict[str, Any] = {}
    used: set[str] = set()
    for fld, aliases in COLUMN_ALIASES.items():
        given = getattr(mapping, fld)
        if given:
            col = explicit(f"--{fld}-col", given)
        else:
            col = next((by_norm[a] for a in aliases if a in by_norm and by_norm[a] not in used), None)
        resolved[fld] = col
        if col:
            used.add(col)
    for fld in ("id", "title"):
        if not resolved[fld]:
            raise CatalogImportError(
                f"file {path}: no {fld} column found (looked for: {', '.join(COLUMN_ALIASES[fld])}; "
                f"columns are: {available}); name it with --{fld}-col COLUMN"
            )
    resolved["text"] = [explicit("--text-cols", c) for c in mapping.text]
    attributes: dict[str, str] = {}
    for key, aliases in ATTRIBUTE_ALIASES.items():
        col = next((by_norm[a] for a in aliases if a in by_norm and by_norm[a] not in used), None)
        if col:
            attributes[key] = col
            used.add(col)
    for given in mapping.attributes:
        col = explicit("--attr-cols", given)
        attributes[_norm_col(col)] = col
        used.add(col)
    resolved["attributes"] = attributes
    used.update(resolved["text"])
    ignored = [c for c in columns if c not in used]
    return resolved, ignored


def _convert(rec: dict, row: int, cols: dict[str, Any], path: str, currency: str | None,
             default_title: str | None, errors: list[RowError]) -> Product | None:
    """One record -> Product, or None with the problems appended to `errors`."""
    n_before = len(errors)

    def bad(fld: str, value: Any, message: str) -> None:
        errors.append(RowError(path, row, cols[fld], value, message))

    raw_id = rec.get(cols["id"])
    item_id = _text(raw_id)
    if not item_id:
        bad("id", "" if raw_id is None else raw_id, "is not a valid id (expected non-empty text or a number)")
    raw_title = rec.get(cols["title"])
    title = " ".join(_text(raw_title).split())
    if not title and default_title and item_id:
        title = default_title.format(id=item_id)
    if not title:
        bad("title", "" if raw_title is None else raw_title, "is not a valid title (expected non-empty text)")

    price, price_currency = None, None
    if cols["price"]:
        try:
            price, price_currency = parse_price(rec.get(cols["price"]))
        except _Bad as exc:
            bad("price", rec.get(cols["price"]), str(exc))
    rating = None
    if cols["rating"]:
        try:
            rating = parse_rating(rec.get(cols["rating"]))
        except _Bad as exc:
            bad("rating", rec.get(cols["rating"]), str(exc))
    if len(errors) > n_before:
        return None

    description = _text(rec.get(cols["description"])) if cols["description"] else ""
    extra = [_text(rec.get(c)) for c in cols["text"] if c != cols["description"]]
    description = "\n".join(t for t in [description, *extra] if t)
    cur = _text(rec.get(cols["currency"])) if cols["currency"] else ""
    attributes = {}
    for key, col in cols["attributes"].items():
        value = " ".join(_text(rec.get(col)).split())
        if value:
            attributes[key] = value
    if "gender" not in attributes and attributes.get("breadcrumbs"):
        # "Women/Clothing" (Adidas) -> gender Women, so gender is a field whenever the source has it.
        first = re.split(r"\s*[/>|]\s*", attributes["breadcrumbs"])[0].strip().lower()
        if first in GENDER_WORDS:
            attributes["gender"] = GENDER_WORDS[first]
    try:
        return Product(
            id=item_id,
            title=title,
            description=description,
            brand=_text(rec.get(cols["brand"])) if cols["brand"] else None,
            category=_text(rec.get(cols["category"])) if cols["category"] else None,
            price=price,
            currency=(cur.upper() if cur else None) or price_currency or currency,
            rating=rating,
            url=_text(rec.get(cols["url"])) if cols["url"] else None,
            attributes=attributes,
        )
    except Exception as exc:  # pydantic.ValidationError: keep the first problem, named by column
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
        fld = str(first["loc"][0]) if first.get("loc") else None
        col = cols.get(fld) if fld and isinstance(cols.get(fld), str) else None
        errors.append(RowError(path, row, col, first.get("input"), f"is not valid ({first['msg']})"))
        return None


def read_catalog(
    path: str | Path,
    *,
    format: str | None = None,
    mapping: ColumnMapping | dict | None = None,
    skip_bad_rows: bool = False,
    currency: str | None = None,
    default_title: str | None = None,
) -> tuple[list[Product], ImportReport]:
    """Read and validate a catalog file. Raises CatalogImportError on any bad row unless skip_bad_rows.

    currency: the currency of prices when the file has no currency column (e.g. "INR").
    default_title: template for rows whose title is empty, e.g. "Item {id}" (default: such rows are bad).
    Duplicate ids: the last row wins, at the position of the first; all are listed in the report.
    """
    path = Path(path)
    if not path.exists():
        raise CatalogImportError(f"file {path} does not exist")
    if path.is_dir():
        raise CatalogImportError(f"file {path} is a directory; expected a .csv, .tsv, .json or .jsonl file")
    if format is not None and format not in FORMATS:
        raise CatalogImportError(f"Expected format to be one of {', '.join(FORMATS)}, got {format!r}")
    fmt = format or detect_format(path)
    mapping = mapping if isinstance(mapping, ColumnMapping) else ColumnMapping.from_dict(mapping)
    errors: list[RowError] = []
    columns, records = _iter_records(path, fmt, errors)
    cols, ignored = resolve_columns(columns, mapping, path)
    report = ImportReport(path=str(path), format=fmt, columns=cols, ignored_columns=ignored)

    products: dict[str, Product] = {}
    rows_of: dict[str, list[int]] = {}
    seen_rows: set[int] = set()
    for row, rec in records:
        seen_rows.add(row)
        product = _convert(rec, row, cols, str(path), currency, default_title, errors)
        if product is None:
            continue
        rows_of.setdefault(product.id, []).append(row)
        products[product.id] = product  # dict keeps the first position, the last value
    n_rows = len(seen_rows | {e.row for e in errors})  # unparseable records are rows too
    report.n_rows = n_rows
    report.errors = sorted(errors, key=lambda e: e.row)
    report.duplicates = {i: r for i, r in rows_of.items() if len(r) > 1}
    report.n_products = len(products)

    if report.errors and not skip_bad_rows:
        n_bad = report.n_skipped
        lines = [str(e) for e in report.errors[:MAX_LISTED_ERRORS]]
        if len(report.errors) > MAX_LISTED_ERRORS:
            lines.append(f"... and {len(report.errors) - MAX_LISTED_ERRORS} more")
        raise CatalogImportError(
            f"{n_bad} of {n_rows} row(s) in {path} are invalid; nothing was imported. Fix them, or pass "
            "--skip-bad-rows to import the other rows:\n  " + "\n  ".join(lines),
            errors=report.errors,
        )
    if not products:
        raise CatalogImportError(f"file {path} has no valid product rows (read {n_rows} row(s)); nothing was imported")
    return list(products.values()), report


class Catalog:
    """One loaded catalog version: products, their ids and row index, and the vector matrix."""

    def __init__(self, name: str, version: int, products: list[Product], embeddings: np.ndarray,
                 meta: dict, path: Path | None = None):
        self.name = name
        self.version = version
        self.products = products
        self.ids = [p.id for p in products]
        self.index = {item_id: row for row, item_id in enumerate(self.ids)}
        self.embeddings = embeddings
        self.meta = meta
        self.path = path
        self._texts: list[str] | None = None

    def __len__(self) -> int:
        return len(self.products)

    def __repr__(self) -> str:
        return f"Catalog(name={self.name!r}, version={self.version}, n={len(self)})"

    @property
    def collection_name(self) -> str:
        return self.meta["collection"]

    @property
    def embedder_name(self) -> str:
        return self.meta["embedder"]

    @property
    def texts(self) -> list[str]:
        """search_text() of every product, row-aligned."""
        if self._texts is None:
            self._texts = [p.search_text() for p in self.products]
        return self._texts

    def get(self, item_id: str) -> Product:
        row = self.index.get(item_id)
        if row is None:
            raise KeyError(f"No product with id {item_id!r} in catalog {self.name!r}")
        return self.products[row]
