"""Hostile and malformed uploads are refused as a whole with a clear reason.

Every file here is built by the test itself.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence

import openpyxl
import pytest
from counterpromo_worker.parsing import (
    ParseLimits,
    ParseResult,
    UnreadableFile,
    parse_product_file,
)


def parse(
    data: bytes, filename: str = "upload.csv", limits: ParseLimits | None = None
) -> ParseResult:
    return parse_product_file(
        data, filename=filename, content_type="text/csv", limits=limits or ParseLimits()
    )


def xlsx(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, extra: dict[str, bytes]) -> bytes:
    """A copy of the zip ``data`` with members added or replaced."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename not in extra:
                target.writestr(info, source.read(info))
        for name, content in extra.items():
            target.writestr(name, content)
    return out.getvalue()


def png_bytes() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7\n1 0 obj <<>> endobj\n", "is a PDF document, not a spreadsheet"),
        (png_bytes(), "is a PNG image, not a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, r"old Excel 97-2003 \(.xls\)"),
        (b"Name,Price\n\x00\x01\x02\x03binary" * 10, "is a binary file"),
        (bytes(range(1, 32)) * 50, "not readable text"),
        (b"", "is empty"),
        (b"\xef\xbb\xbf\r\n  \n", "is empty"),
        (b"\n\n\n", "is empty"),
    ],
)
def test_wrong_type_or_empty_file_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        parse(data)


def test_word_document_renamed_xlsx_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(UnreadableFile, match="is a Word document, not an Excel workbook"):
        parse(buffer.getvalue(), filename="prices.xlsx")


def test_truncated_xlsx_is_refused_as_damaged() -> None:
    data = xlsx([["Name", "Price"], ["A", 1]])
    with pytest.raises(UnreadableFile, match="damaged"):
        parse(data[: len(data) // 2], filename="prices.xlsx")


def test_zip_bomb_xlsx_is_refused_before_decompressing() -> None:
    bomb = rezip(
        xlsx([["Name", "Price"], ["A", 1]]), {"xl/media/zeros.bin": bytes(100 * 1024 * 1024)}
    )
    assert len(bomb) < 1024 * 1024

    with pytest.raises(UnreadableFile, match="would expand to 100 MiB, over the 50 MiB limit"):
        parse(bomb, filename="prices.xlsx")


def test_highly_compressed_member_below_the_size_limit_is_refused() -> None:
    bomb = rezip(
        xlsx([["Name", "Price"], ["A", 1]]), {"xl/media/zeros.bin": bytes(20 * 1024 * 1024)}
    )
    with pytest.raises(UnreadableFile, match="possible zip bomb"):
        parse(bomb, filename="prices.xlsx")


def test_xml_entity_expansion_is_refused() -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1 or "") + ";") * 10}">' for n in range(1, 9)
    )
    sheet = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Price</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol8;</t></is></c><c r="B2"><v>1</v></c></row>'
        "</sheetData></worksheet>"
    )
    data = rezip(xlsx([["Name", "Price"], ["A", 1]]), {"xl/worksheets/sheet1.xml": sheet.encode()})
    with pytest.raises(UnreadableFile, match="damaged Excel workbook") as refused:
        parse(data, filename="prices.xlsx")
    chain: list[str] = []
    error: BaseException | None = refused.value
    while error is not None:
        chain.append(type(error).__name__)
        error = error.__cause__ or error.__context__
    assert "EntitiesForbidden" in chain  # stopped by defusedxml, not by luck


def test_xlsx_formula_is_refused_with_its_cell() -> None:
    data = xlsx([["Name", "Price"], ["Hammer", 10], ["Drill", "=B2*1.2"]])
    with pytest.raises(UnreadableFile, match=r"formula in row 3, column 2 \(=B2\*1.2\)"):
        parse(data, filename="prices.xlsx")


def test_million_row_csv_stops_at_the_limit_without_reading_on() -> None:
    # Past row 2002 the file turns into broken CSV: reading on would fail differently.
    tail = b'"' + b"x" * (200 * 1024) + b'",1\n'
    data = b"Name,Price\n" + b"Nail,0.01\n" * 1_000_000 + tail
    with pytest.raises(UnreadableFile, match="more than 2000 product rows"):
        parse(data, limits=ParseLimits(max_bytes=20 * 1024 * 1024))
    with pytest.raises(UnreadableFile, match="not valid CSV"):
        parse(b"Name,Price\n" + b"Nail,0.01\n" * 3 + tail)


def test_row_limit_counts_product_rows_not_the_header() -> None:
    data = b"Name,Price\n" + b"Nail,0.01\n" * 3
    assert (
        len(
            parse_product_file(
                data, filename="a.csv", content_type=None, limits=ParseLimits(max_rows=3)
            ).rows
        )
        == 3
    )
    with pytest.raises(UnreadableFile, match="more than 2 product rows"):
        parse(data, limits=ParseLimits(max_rows=2))


def test_million_row_xlsx_stops_at_the_limit() -> None:
    data = xlsx([["Name", "Price"]] + [["Nail", 0.01]] * 30)
    with pytest.raises(UnreadableFile, match="more than 20 product rows"):
        parse(data, filename="prices.xlsx", limits=ParseLimits(max_rows=20))


def test_endless_blank_rows_are_bounded() -> None:
    data = b"Name,Price\nNail,1\n" + b",\n" * 100_000
    with pytest.raises(UnreadableFile, match="counting blank ones"):
        parse(data, limits=ParseLimits(max_bytes=10 * 1024 * 1024))


def test_file_over_the_size_limit_is_refused() -> None:
    data = b"Name,Price\n" + b"x" * 2000
    with pytest.raises(UnreadableFile, match="the largest file accepted is 1000 bytes"):
        parse(data, limits=ParseLimits(max_bytes=1000))


def test_too_many_columns_is_refused() -> None:
    header = ",".join(["Name", "Price", *(f"c{n}" for n in range(60))])
    with pytest.raises(UnreadableFile, match="more than 50 columns"):
        parse(f"{header}\nA,1\n".encode())
    with pytest.raises(UnreadableFile, match="more than 50 columns"):
        parse(xlsx([header.split(","), ["A", 1]]), filename="wide.xlsx")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "Colour,Size\nred,XL\n",
            "'upload.csv' has no header row with a product name column and a price column "
            "in its first 20 rows; its first row reads: 'Colour', 'Size'",
        ),
        ("Name,Colour\nHammer,red\n", "its first row reads: 'Name', 'Colour'. Name the columns"),
        ("Name,Price\n", "has a header row but no product rows"),
    ],
)
def test_unusable_columns_are_refused_listing_what_was_found(text: str, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        parse(text.encode())


def test_malformed_csv_is_refused() -> None:
    data = b'Name,Price\n"' + b"x" * (200 * 1024) + b'",1\n'
    with pytest.raises(UnreadableFile, match="not valid CSV near row 2"):
        parse(data)
