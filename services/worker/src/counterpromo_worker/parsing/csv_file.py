"""Rows of a CSV (or tab-separated) text file."""

from __future__ import annotations

import csv
import io
from collections.abc import Generator

from counterpromo_worker.parsing.cells import CellValue
from counterpromo_worker.parsing.models import UnreadableFile
from counterpromo_worker.parsing.sniff import UTF16_BOMS

DELIMITERS = (",", ";", "\t")


def read_csv(data: bytes, filename: str) -> Generator[tuple[int, list[CellValue]], None, None]:
    """(row number, cells) for every record; row 1 is the first record, as in a spreadsheet."""
    text = decode(data, filename)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            yield number, list(row)
    except csv.Error as error:
        raise UnreadableFile(
            f"{filename!r} is not valid CSV near row {number + 1}: {error}"
        ) from error


def decode(data: bytes, filename: str) -> str:
    """UTF-16 with a BOM (Excel's "Unicode text"), else UTF-8 (BOM optional), else Windows-1252."""
    if data.startswith(UTF16_BOMS):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            break
        return text
    raise UnreadableFile(
        f"{filename!r} is not readable text (UTF-8 or Windows-1252); "
        "upload a CSV or Excel (.xlsx) file"
    )


def sniff_delimiter(text: str) -> str:
    """The separator used most often in the first line, outside quotes; "," by default."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\t\r\n\f")
    return controls > len(sample) // 100
