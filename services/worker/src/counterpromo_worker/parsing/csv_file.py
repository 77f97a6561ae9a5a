"""Rows of a CSV (or tab-separated) text file, streamed: memory does not grow with the file.

The bytes are checked for their encoding chunk by chunk (nothing decoded is kept), then
read through a text stream one record at a time. A physical line longer than
MAX_LINE_CHARS is refused, so one record can never hold more than that many cells,
whatever the row shape (millions of tiny rows, or one row of millions of commas).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Generator, Iterator

from counterpromo_worker.parsing.cells import CellValue
from counterpromo_worker.parsing.models import UnreadableFile
from counterpromo_worker.parsing.sniff import UTF16_BOMS

DELIMITERS = (",", ";", "\t")
MAX_LINE_CHARS = 1024 * 1024
_CHUNK = 64 * 1024
_SNIFF_CHARS = 64 * 1024


def read_csv(
    data: bytes, filename: str, max_columns: int
) -> Generator[tuple[int, list[CellValue]], None, None]:
    """(row number, cells) for every record, at most ``max_columns + 1`` cells wide.

    Row 1 is the first record, as in a spreadsheet.
    """
    encoding = detect_encoding(data, filename)
    with io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="") as stream:
        delimiter = sniff_delimiter(stream.read(_SNIFF_CHARS))
        stream.seek(0)
        reader = csv.reader(_bounded_lines(stream, filename), delimiter=delimiter)
        number = 0
        try:
            for number, row in enumerate(reader, start=1):
                del row[max_columns + 1 :]
                yield number, list(row)
        except csv.Error as error:
            raise UnreadableFile(
                f"{filename!r} is not valid CSV near row {number + 1}: {error}"
            ) from error


def detect_encoding(data: bytes, filename: str) -> str:
    """UTF-16 with a BOM (Excel's "Unicode text"), else UTF-8 (BOM optional), else Windows-1252."""
    candidates = ("utf-16",) if data.startswith(UTF16_BOMS) else ("utf-8-sig", "cp1252")
    for encoding in candidates:
        if not _decodes(data, encoding):
            continue
        if _looks_binary(data[:_SNIFF_CHARS], encoding):
            break
        return encoding
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


def _bounded_lines(stream: io.TextIOWrapper, filename: str) -> Iterator[str]:
    number = 0
    while True:
        line = stream.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise UnreadableFile(
                f"{filename!r} has a line longer than {MAX_LINE_CHARS:,} characters "
                f"(line {number}); that is not a product list"
            )
        yield line


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(data[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _looks_binary(sample: bytes, encoding: str) -> bool:
    text = sample.decode(encoding, errors="ignore")
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\r\n\f")
    return controls > len(text) // 100
