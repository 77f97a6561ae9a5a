"""parse_product_file on well-formed CSV and XLSX product lists."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from decimal import Decimal

import openpyxl
import pytest
from counterpromo_worker.parsing import ParseResult, UnreadableFile, parse_product_file


def xlsx(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse_csv(
    text: str, encoding: str = "utf-8", mapping: dict[str, str] | None = None
) -> ParseResult:
    return parse_product_file(
        text.encode(encoding), filename="products.csv", content_type="text/csv", mapping=mapping
    )


def test_csv_with_common_headers_maps_every_field() -> None:
    result = parse_csv(
        "Product,Our Price,Item Code,UOM,Category,Brand,RRP\n"
        'Hammer drill,"£1,299.00",HD-1,each,Power tools,Makita,£1499\n'
        "Saw,12.5,SW-2,,Hand tools,Stanley,\n"
    )

    assert result.columns == {
        "Product": "name",
        "Our Price": "sale_price",
        "Item Code": "sku",
        "UOM": "unit",
        "Category": "category",
        "Brand": "vendor",
        "RRP": "rrp",
    }
    assert result.ignored_columns == []
    assert result.header_row == 1
    assert result.errors == []
    assert [row.row_number for row in result.rows] == [2, 3]
    drill, saw = (row.item for row in result.rows)
    assert drill.name == "Hammer drill"
    assert drill.sale_price == Decimal("1299.00")
    assert drill.rrp == Decimal("1499.00")
    assert (drill.sku, drill.unit, drill.category, drill.vendor) == (
        "HD-1",
        "each",
        "Power tools",
        "Makita",
    )
    assert saw.unit is None
    assert saw.rrp is None
    assert saw.sale_price == Decimal("12.50")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("NAME", "name"),
        ("  Description ", "name"),
        ("sale_price", "sale_price"),
        ("Sale-Price", "sale_price"),
        ("Part Number", "sku"),
        ("part_no", "sku"),
        ("Unit of measure", "unit"),
        ("Manufacturer", "vendor"),
        ("Supplier", "vendor"),
        ("List Price", "rrp"),
        ("MSRP", "rrp"),
        ("Was", "rrp"),
    ],
)
def test_header_names_are_matched_ignoring_case_spaces_and_punctuation(
    header: str, field: str
) -> None:
    base = {"name": "Name", "sale_price": "Price"}
    base[field] = header
    columns = list(dict.fromkeys(base.values()))
    line = ",".join("x" if c not in (base["sale_price"], base.get("rrp")) else "3" for c in columns)
    result = parse_csv(",".join(columns) + "\n" + line + "\n")
    assert result.columns[header.strip()] == field


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_sniffed(delimiter: str) -> None:
    text = delimiter.join(["Name", "Price", "SKU"]) + "\n"
    text += delimiter.join(["Bolts, zinc", "1,50" if delimiter != "," else "1.50", "B-1"]) + "\n"
    if delimiter == ",":
        text = text.replace("Bolts, zinc", '"Bolts, zinc"')

    result = parse_csv(text)
    assert result.rows[0].item.name == "Bolts, zinc"
    assert result.rows[0].item.sale_price == Decimal("1.50")
    assert result.rows[0].item.sku == "B-1"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_csv_encodings(encoding: str) -> None:
    result = parse_csv("Name,Price\nCafé crème tiles,£4.00\n", encoding=encoding)
    assert result.columns["Name"] == "name"
    assert result.rows[0].item.name == "Café crème tiles"
    assert result.rows[0].item.sale_price == Decimal("4.00")


def test_unparseable_price_is_reported_by_spreadsheet_row_and_skipped() -> None:
    result = parse_csv("Name,Price\nGood,1.00\n\nBad,twelve quid\nAlso good,2\n,3\nNeg,-4\n")

    assert [(row.row_number, row.item.name) for row in result.rows] == [
        (2, "Good"),
        (5, "Also good"),
    ]
    assert [error.row_number for error in result.errors] == [4, 6, 7]
    assert "Price: 'twelve quid' is not a price" in result.errors[0].message
    assert "name is empty" in result.errors[1].message
    assert "Price" in result.errors[2].message
    assert "greater than or equal to 0" in result.errors[2].message


def test_blank_price_is_allowed_and_means_no_price() -> None:
    result = parse_csv("Name,Price\nAsk me,\n")
    assert result.rows[0].item.sale_price is None


def test_explicit_mapping_wins_over_guessing() -> None:
    result = parse_csv(
        "Title,Price,Trade Price,Stock No\nDrill,99,80,D-1\n",
        mapping={"trade price": "sale_price", "Stock No": "sku"},
    )
    assert result.columns == {"Title": "name", "Trade Price": "sale_price", "Stock No": "sku"}
    assert result.ignored_columns == ["Price"]
    assert result.rows[0].item.sale_price == Decimal("80.00")
    assert result.rows[0].item.sku == "D-1"


def test_mapping_to_missing_column_or_unknown_field_is_refused() -> None:
    with pytest.raises(
        UnreadableFile,
        match=re.escape(
            "the column mapping names 'Code', but 'products.csv' has no such column in its "
            "first 20 rows; its first row reads: 'Name', 'Price'"
        ),
    ):
        parse_csv("Name,Price\nA,1\n", mapping={"Code": "sku"})
    with pytest.raises(UnreadableFile, match="'colour', which is not an item field;"):
        parse_csv("Name,Price\nA,1\n", mapping={"Name": "colour"})
    with pytest.raises(UnreadableFile, match=r'did you mean \{"Code": "sku"\}\?'):
        parse_csv("Name,Price,Code\nA,1,C\n", mapping={"sku": "Code"})
    with pytest.raises(UnreadableFile, match="sends both 'Code' and 'Ref' to sku"):
        parse_csv("Name,Price,Code\nA,1,C\n", mapping={"Code": "sku", "Ref": "sku"})


def test_xlsx_numbers_text_and_blank_rows() -> None:
    data = xlsx(
        [
            ["Name", "Price", "SKU", "RRP"],
            ["Hammer", 12.3, 10042, 15],
            [None, None, None, None],
            ["Tape", "£3,50", "T-1", None],
            ["Spanner", "n/a", "S-1", None],
        ]
    )

    result = parse_product_file(data, filename="list.xlsx", content_type=None)

    assert [(row.row_number, row.item.name) for row in result.rows] == [(2, "Hammer"), (4, "Tape")]
    hammer = result.rows[0].item
    assert hammer.sale_price == Decimal("12.30")
    assert hammer.sku == "10042"
    assert hammer.rrp == Decimal("15.00")
    assert result.rows[1].item.sale_price == Decimal("3.50")
    assert [(e.row_number, e.message) for e in result.errors] == [
        (5, "Price: 'n/a' is not a price")
    ]


def test_header_may_follow_blank_rows_and_row_numbers_stay_as_shown() -> None:
    data = xlsx([[], [], ["Name", "Price"], ["Hammer", 5]])
    result = parse_product_file(data, filename="list.xlsx", content_type=None)
    assert result.rows[0].row_number == 4


def test_too_long_values_are_row_errors_not_crashes() -> None:
    result = parse_csv("Name,Price,Unit\nHammer,1," + "u" * 60 + "\n")
    assert result.rows == []
    assert result.errors[0].row_number == 2
    assert result.errors[0].message.startswith("Unit:")
