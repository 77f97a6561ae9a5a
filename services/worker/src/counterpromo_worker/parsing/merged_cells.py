"""Merged cells of an XLSX sheet, so a merged value reaches every row it spans.

openpyxl's read-only (streaming) mode does not read a sheet's ``<mergeCells>``; they sit
after the cell data in the sheet's XML, so they are found by scanning the XML in chunks
before the rows are streamed (memory stays bounded whatever the sheet's size).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from openpyxl.utils.cell import range_boundaries

from counterpromo_worker.parsing.cells import CellValue
from counterpromo_worker.parsing.models import UnreadableFile

MAX_MERGED_RANGES = 10_000
_CHUNK = 256 * 1024
_OVERLAP = 256
_MERGE_CELL = re.compile(
    rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3}\d{1,7}:[A-Z]{1,3}\d{1,7})"'
)


@dataclass(frozen=True)
class MergedRange:
    min_row: int
    min_col: int
    max_row: int
    max_col: int


def merged_ranges(archive: zipfile.ZipFile, sheet_path: str, filename: str) -> list[MergedRange]:
    """Every merged range of the sheet, top row first."""
    ranges: list[MergedRange] = []
    seen: set[bytes] = set()
    for ref in _refs(archive, sheet_path.lstrip("/")):
        if ref in seen:
            continue
        seen.add(ref)
        if len(ranges) >= MAX_MERGED_RANGES:
            raise UnreadableFile(
                f"{filename!r} has more than {MAX_MERGED_RANGES:,} merged cell ranges; "
                "unmerge the cells or export the sheet as CSV"
            )
        bounds = range_boundaries(ref.decode("ascii"))  # the regex wants "A1:B2": no None
        min_col, min_row, max_col, max_row = (int(b or 1) for b in bounds)
        ranges.append(MergedRange(min_row, min_col, max_row, max_col))
    ranges.sort(key=lambda r: (r.min_row, r.min_col))
    return ranges


def _refs(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    with archive.open(member) as source:
        tail = b""
        while chunk := source.read(_CHUNK):
            window = tail + chunk
            last_end = 0
            for match in _MERGE_CELL.finditer(window):
                yield match.group(1)
                last_end = match.end()
            tail = window[max(last_end, len(window) - _OVERLAP) :]


class MergeFiller:
    """Copies the top-left value of each merged range into every cell it covers, row by row."""

    def __init__(self, ranges: list[MergedRange], max_columns: int) -> None:
        self._pending = list(reversed(ranges))  # popped from the end: top row first
        self._active: list[tuple[MergedRange, CellValue]] = []
        self._width = max_columns

    def fill(self, number: int, values: list[CellValue]) -> list[CellValue]:
        while self._pending and self._pending[-1].min_row <= number:
            merged = self._pending.pop()
            if merged.min_row == number and merged.min_col <= len(values):
                self._active.append((merged, values[merged.min_col - 1]))
        self._active = [(m, v) for m, v in self._active if m.max_row >= number]
        for merged, value in self._active:
            last = min(merged.max_col, self._width)
            if last > len(values):
                values.extend([None] * (last - len(values)))
            for column in range(merged.min_col, last + 1):
                values[column - 1] = value
        return values
