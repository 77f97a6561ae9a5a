"""Product files as dealers and their ERPs export them: title blocks, their header words, merges."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from counterpromo_worker.parsing import ParseLimits, UnreadableFile, parse_product_file
from counterpromo_worker.parsing.csv_file import MAX_LINE_CHARS


def test_a_title_block_above_the_header_row_is_passed_over() -> None:
    text = (
        "Acme Building Supplies - Spring Promo,,\n"
        "Printed 2026-03-01,,\n"
        ",,\n"
        "Item #,Description,Reg. Price,Sale\n"
        "HD-1,Hammer drill,149.00,129.00\n"
    )
    result = parse_product_file(text.encode(), filename="export.csv", content_type="text/csv")
    assert result.header_row == 4
    assert result.columns == {
        "Item #": "sku",
        "Description": "name",
        "Reg. Price": "rrp",
        "Sale": "sale_price",
    }
    [row] = result.rows
    assert row.row_number == 5
    assert (row.item.sku, row.item.name) == ("HD-1", "Hammer drill")
    assert (row.item.rrp, row.item.sale_price) == (Decimal("149.00"), Decimal("129.00"))


def test_a_header_row_below_the_first_20_rows_is_not_looked_for() -> None:
    text = "".join(f"note {n}\n" for n in range(1, 21)) + "Name,Price\nHammer,1\n"
    with pytest.raises(UnreadableFile) as caught:
        parse_product_file(text.encode(), filename="late.csv", content_type="text/csv")
    assert caught.value.message.startswith(
        "'late.csv' has no header row with a product name column and a price column in its "
        "first 20 rows; its first row reads: 'note 1'."
    )


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Item #", "sku"),
        ("Item No", "sku"),
        ("Item No.", "sku"),
        ("ITEM_NUMBER", "sku"),
        ("Part #", "sku"),
        ("Part Number", "sku"),
        ("SKU", "sku"),
        ("Desc", "name"),
        ("Item Description", "name"),
        ("Reg. Price", "rrp"),
        ("Regular", "rrp"),
        ("Regular Price", "rrp"),
        ("Was", "rrp"),
        ("RRP", "rrp"),
        ("MSRP", "rrp"),
        ("List", "rrp"),
        ("UOM", "unit"),
        ("Unit", "unit"),
        ("Vendor", "vendor"),
        ("Mfr", "vendor"),
        ("Brand", "vendor"),
        ("Category", "category"),
        ("Dept", "category"),
    ],
)
def test_dealer_and_erp_headers_are_recognised(header: str, field: str) -> None:
    price_like = field == "rrp"
    name_header = "Description" if field != "name" else header
    columns = [name_header, "Sale Price"] + ([header] if field != "name" else [])
    values = ["Hammer", "9.99"] + (["12.00" if price_like else "X1"] if field != "name" else [])
    result = parse_product_file(
        (",".join(columns) + "\n" + ",".join(values) + "\n").encode(),
        filename="export.csv",
        content_type="text/csv",
    )
    assert result.columns[header] == field
    assert result.ignored_columns == []


@pytest.mark.parametrize("header", ["Sale", "Promo", "Now", "Our Price", "Net", "Sale Price"])
def test_sale_price_headers_are_recognised(header: str) -> None:
    result = parse_product_file(
        f"Description,{header},Colour\nHammer,9.99,red\n".encode(),
        filename="export.csv",
        content_type="text/csv",
    )
    assert result.columns == {"Description": "name", header: "sale_price"}
    assert result.ignored_columns == ["Colour"]
    assert result.rows[0].item.sale_price == Decimal("9.99")


def test_item_number_with_a_description_is_the_sku_not_the_name() -> None:
    result = parse_product_file(
        b"Item No,Desc,Price,MSRP,Mfr,Dept,UOM\n4411,Deck screws,8.49,10.99,GRK,Fasteners,box\n",
        filename="erp.csv",
        content_type="text/csv",
    )
    item = result.rows[0].item
    assert (item.sku, item.name, item.vendor, item.category, item.unit) == (
        "4411",
        "Deck screws",
        "GRK",
        "Fasteners",
        "box",
    )
    assert item.rrp == Decimal("10.99")


def test_merged_cells_fill_every_row_they_span() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Spring flyer"])
    sheet.merge_cells("A1:E1")
    sheet.append(["Category", "Vendor", "Name", "Price", "SKU"])
    sheet.append(["Power tools", "Makita", "Drill", 99, "D-1"])
    sheet.append([None, None, "Saw", 49, "S-1"])
    sheet.append([None, "DeWalt", "Sander", 39, "S-2"])
    sheet.append(["Hand tools", "Stanley", "Hammer", 9, "H-1"])
    sheet.merge_cells("A3:A5")  # the category spans three products
    sheet.merge_cells("B3:B4")  # the vendor two
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = parse_product_file(buffer.getvalue(), filename="merged.xlsx", content_type=None)

    assert result.header_row == 2
    assert [(r.item.name, r.item.category, r.item.vendor) for r in result.rows] == [
        ("Drill", "Power tools", "Makita"),
        ("Saw", "Power tools", "Makita"),
        ("Sander", "Power tools", "DeWalt"),
        ("Hammer", "Hand tools", "Stanley"),
    ]


def test_a_csv_line_longer_than_the_limit_is_refused_without_reading_it_whole() -> None:
    data = b"Name,Price\n" + b"," * (MAX_LINE_CHARS + 10) + b"\n"
    with pytest.raises(UnreadableFile, match="has a line longer than 1,048,576 characters"):
        parse_product_file(data, filename="wide.csv", content_type="text/csv")


def test_the_parser_reads_up_to_the_upload_limit_and_no_further() -> None:
    limits = ParseLimits()
    row = b"Hammer,1\n"
    fits = b"Name,Price\n" + row * ((limits.max_bytes - 11) // len(row))
    with pytest.raises(UnreadableFile, match="more than 2000 product rows"):
        parse_product_file(fits, filename="big.csv", content_type="text/csv")
    with pytest.raises(UnreadableFile, match=r"the largest file accepted is 5\.0 MB"):
        parse_product_file(fits + b" " * 10, filename="big.csv", content_type="text/csv")
