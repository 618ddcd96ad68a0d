"""Importers: every format, column detection / mapping, and every class of bad input."""
from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from retrieval.catalog import (
    CatalogImportError,
    ColumnMapping,
    Product,
    parse_price,
    read_catalog,
)

ROWS = [
    {"id": "a1", "title": "Red Lipstick", "price": "9.99", "brand": "Acme", "category": "Lipstick",
     "description": "Matte red", "rating": "4.5", "color": "Red"},
    {"id": "a2", "title": "Dry Shampoo", "price": "", "brand": "Verde", "category": "Shampoo",
     "description": "For oily hair", "rating": "", "color": ""},
]
SHARED = Path("/work/shared/data")


def write_csv(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def check_two(products: list[Product]) -> None:
    assert [p.id for p in products] == ["a1", "a2"]
    a1, a2 = products
    assert a1.title == "Red Lipstick" and a1.price == 9.99 and a1.brand == "Acme"
    assert a1.category == "Lipstick" and a1.rating == 4.5 and a1.attributes == {"color": "Red"}
    assert a2.price is None and a2.rating is None and a2.attributes == {}


# -- happy paths -----------------------------------------------------------------------------------
def test_csv(tmp_path):
    products, report = read_catalog(write_csv(tmp_path / "c.csv", ROWS))
    check_two(products)
    assert report.format == "csv" and report.n_rows == 2 and not report.errors


def test_tsv(tmp_path):
    products, report = read_catalog(write_csv(tmp_path / "c.tsv", ROWS, delimiter="\t"))
    check_two(products)
    assert report.format == "tsv"


def test_json_array(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(ROWS))
    check_two(read_catalog(path)[0])


def test_json_numbers_and_wrapped_array(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"products": [{"sku": 17, "name": "Tote", "price": 12.5, "rating": 4}]}))
    (p,), _ = read_catalog(path)
    assert p.id == "17" and p.title == "Tote" and p.price == 12.5 and p.rating == 4.0


def test_jsonl(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n\n")
    check_two(read_catalog(path)[0])


def test_gzip(tmp_path):
    text = write_csv(tmp_path / "plain.csv", ROWS).read_text(encoding="utf-8")
    path = tmp_path / "c.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write(text)
    check_two(read_catalog(path)[0])


def test_format_flag_overrides_extension(tmp_path):
    path = tmp_path / "products.txt"
    path.write_text("\n".join(json.dumps(r) for r in ROWS))
    check_two(read_catalog(path, format="jsonl")[0])


def test_column_aliases_and_mapping(tmp_path):
    rows = [{"Product ID": "x1", "Product_Name": "Blue Kurta", "Selling Price": "₹ 1,299", "Product_Brand": "Libas",
             "Primary_Color": " Blue", "Gender": "Women", "Notes": "cotton", "": ""}]
    products, report = read_catalog(write_csv(tmp_path / "m.csv", rows))
    (p,) = products
    assert (p.id, p.title, p.price, p.currency, p.brand) == ("x1", "Blue Kurta", 1299.0, "INR", "Libas")
    assert p.attributes == {"color": "Blue", "gender": "Women"}
    assert "Notes" in report.ignored_columns
    # explicit flags: text columns are searched, attribute columns kept
    mapping = ColumnMapping(title="Notes", text=["Notes"], attributes=["Notes"])
    (p,), _ = read_catalog(tmp_path / "m.csv", mapping=mapping, currency="INR")
    assert p.title == "cotton" and "cotton" in p.search_text() and p.attributes["notes"] == "cotton"


def test_price_formats():
    assert parse_price("12.50") == (12.5, None)
    assert parse_price("$1,299.00") == (1299.0, "USD")
    assert parse_price("15 EUR") == (15.0, "EUR")
    assert parse_price("") == (None, None)
    assert parse_price(3) == (3.0, None)


def test_search_text_has_brand_category_attributes():
    p = Product(id="1", title="Runner", brand="Acme", category="Shoes", description="light",
                attributes={"color": "Black", "gender": "Women", "availability": "InStock"})
    text = p.search_text()
    assert all(w in text for w in ("Runner", "Acme", "Shoes", "Black", "Women", "light"))
    assert "InStock" not in text


def test_duplicates_reported_last_wins(tmp_path):
    rows = [dict(ROWS[0]), dict(ROWS[1]), dict(ROWS[0], title="Red Lipstick v2")]
    products, report = read_catalog(write_csv(tmp_path / "d.csv", rows))
    assert [p.id for p in products] == ["a1", "a2"]
    assert products[0].title == "Red Lipstick v2"
    assert report.duplicates == {"a1": [1, 3]}
    assert any("duplicate id 'a1'" in line and "kept row 3" in line for line in report.summary_lines())


def test_default_title_for_empty_titles(tmp_path):
    rows = [dict(ROWS[0], title="")]
    (p,), _ = read_catalog(write_csv(tmp_path / "t.csv", rows), default_title="Item {id}")
    assert p.title == "Item a1"


# -- bad input -------------------------------------------------------------------------------------
def raises(path, match, **kwargs) -> CatalogImportError:
    with pytest.raises(CatalogImportError, match=match) as info:
        read_catalog(path, **kwargs)
    return info.value


def test_missing_required_column(tmp_path):
    path = write_csv(tmp_path / "m.csv", [{"id": "1", "colour": "red"}])
    err = raises(path, "no title column found")
    assert "--title-col" in str(err) and "id, colour" in str(err)


def test_mapping_names_unknown_column(tmp_path):
    path = write_csv(tmp_path / "m.csv", ROWS)
    raises(path, "column 'cost' given for --price-col is not in the file", mapping={"price": "cost"})


def test_bad_price_names_file_row_column_value(tmp_path):
    rows = [ROWS[0], dict(ROWS[1], price="twelve")]
    err = raises(write_csv(tmp_path / "p.csv", rows), "nothing was imported")
    assert (f"file {tmp_path / 'p.csv'}, row 2, column price: value 'twelve' is not a valid price "
            "(expected a non-negative number like 12.50)") in str(err)


def test_negative_price(tmp_path):
    raises(write_csv(tmp_path / "p.csv", [dict(ROWS[0], price="-3")]), "value '-3' is not a valid price")


def test_bad_rating(tmp_path):
    raises(write_csv(tmp_path / "r.csv", [dict(ROWS[0], rating="7.5")]),
           r"column rating: value '7.5' is not a valid rating \(expected a number from 0 to 5")


def test_empty_title(tmp_path):
    raises(write_csv(tmp_path / "t.csv", [dict(ROWS[0], title="  ")]),
           r"row 1, column title: value '  ' is not a valid title \(expected non-empty text\)")


def test_empty_id(tmp_path):
    raises(write_csv(tmp_path / "i.csv", [dict(ROWS[0], id="")]), "column id: value '' is not a valid id")


def test_unknown_format(tmp_path):
    path = tmp_path / "c.xlsx"
    path.write_text("whatever")
    raises(path, r"cannot tell the format from the extension '.xlsx'.*--format csv\|tsv\|json\|jsonl")


def test_malformed_json_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{\"id\": \"x\", \"title\": \n" + json.dumps(ROWS[1]) + "\n")
    err = raises(path, "row 2: not valid JSON")
    assert len(err.errors) == 1
    products, report = read_catalog(path, skip_bad_rows=True)
    assert [p.id for p in products] == ["a1", "a2"] and report.n_skipped == 1 and report.n_rows == 3


def test_malformed_json_array(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('[{"id": "1", "title": "x"},')
    raises(path, r"line 1, column \d+: not valid JSON")


def test_empty_file(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("")
    raises(path, "is empty")


def test_header_only(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,title\n")
    raises(path, "has no valid product rows")


def test_missing_file(tmp_path):
    raises(tmp_path / "nope.csv", "does not exist")


def test_not_utf8(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("id,title\n1,caf\xe9\n".encode("latin-1"))
    raises(path, "is not UTF-8 text")


def test_skip_bad_rows_imports_the_rest(tmp_path):
    rows = [ROWS[0], dict(ROWS[1], price="abc"), dict(ROWS[1], id="a3", rating="x")]
    products, report = read_catalog(write_csv(tmp_path / "s.csv", rows), skip_bad_rows=True)
    assert [p.id for p in products] == ["a1"]
    assert report.n_skipped == 2 and [e.row for e in report.errors] == [2, 3]


def test_error_list_is_capped(tmp_path):
    rows = [dict(ROWS[0], id=f"x{i}", price="bad") for i in range(30)]
    err = raises(write_csv(tmp_path / "many.csv", rows), r"30 of 30 row\(s\)")
    assert "... and 10 more" in str(err)
    assert len(err.errors) == 30


# -- real catalogs (small slices; the full files are read only by the benchmarks) ----------------
def head(src: Path, dst: Path, n_rows: int) -> Path:
    """The header and the first n_rows CSV records (records may span lines), copied verbatim."""
    with open(src, encoding="utf-8", newline="") as fh, open(dst, "w", encoding="utf-8", newline="") as out:
        reader = csv.reader(fh)
        writer = csv.writer(out)
        for i, record in enumerate(reader):
            if i > n_rows:
                break
            writer.writerow(record)
    return dst


@pytest.mark.skipif(not (SHARED / "myntra-fashion/products.csv").exists(), reason="shared data not present")
def test_myntra_slice(tmp_path):
    path = head(SHARED / "myntra-fashion/products.csv", tmp_path / "myntra.csv", 50)
    products, report = read_catalog(path)
    assert len(products) == 50 and not report.errors
    p = products[0]
    assert p.id == "10017413" and p.brand == "DKNY" and p.price == 11745.0
    assert p.attributes["color"] == "Black" and p.attributes["gender"] == "Unisex"
    assert "Unisex" in p.search_text() and "Black" in p.search_text()


@pytest.mark.skipif(not (SHARED / "adidas-usa/products.csv").exists(), reason="shared data not present")
def test_adidas_slice(tmp_path):
    path = head(SHARED / "adidas-usa/products.csv", tmp_path / "adidas.csv", 50)
    products, report = read_catalog(path)
    assert len(products) == 50 and not report.errors
    p = products[0]
    assert (p.id, p.title, p.price, p.currency, p.category, p.rating) == (
        "FJ5089", "Beach Shorts", 40.0, "USD", "Clothing", 4.5)
    assert p.attributes["color"] == "Black" and p.attributes["gender"] == "Women"
    assert report.columns["id"] == "sku" and report.columns["price"] == "selling_price"


def test_jsonl_line_separators_inside_strings_and_crlf(tmp_path):
    # U+2028 / U+0085 are legal inside JSON strings (json.dumps(ensure_ascii=False) leaves them raw);
    # only "\n" ends a JSONL record. Windows line ends are fine too.
    rows = [{"id": "a\u2028b", "title": "Line\u2028separator tote"}, {"id": "c", "title": "Next\x85line mug"}]
    path = tmp_path / "c.jsonl"
    path.write_bytes("\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode("utf-8"))
    products, report = read_catalog(path)
    assert [p.id for p in products] == ["a\u2028b", "c"], report
    assert products[0].title.startswith("Line") and products[1].title.endswith("mug")
