"""Parser memory benchmark: peak memory of parse_product_file on 5 MiB files of every row shape.

Run ``uv run nox -s bench`` (or ``python services/worker/bench/parse_memory_bench.py``).
Figures, no pass/fail. Each file is as large as the upload limit allows; the peak is the
most Python memory (tracemalloc) held at once while parsing, over the input's own bytes.
A streaming parser's peak stays a small fraction of the file whatever the shape.
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable

import openpyxl
from counterpromo_core.uploads import MAX_UPLOAD_BYTES
from counterpromo_worker.parsing import UnreadableFile, parse_product_file

MIB = 1024 * 1024


def _fill(header: bytes, row: bytes) -> bytes:
    return header + row * ((MAX_UPLOAD_BYTES - len(header)) // len(row))


def _xlsx_tiny_rows() -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["Name", "Price"])
    for _ in range(400_000):
        sheet.append(["x", 1])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHAPES: dict[str, Callable[[], tuple[str, bytes]]] = {
    "CSV, tiny product rows": lambda: ("tiny.csv", _fill(b"Name,Price\n", b"x,1\n")),
    "CSV, blank rows": lambda: ("blank.csv", _fill(b"Name,Price\nx,1\n", b",\n")),
    "CSV, newlines only": lambda: ("newlines.csv", _fill(b"Name,Price\nx,1\n", b"\n")),
    "CSV, one huge row of empty cells": lambda: (
        "wide.csv",
        b"Name,Price\n" + b"," * (MAX_UPLOAD_BYTES - 12) + b"\n",
    ),
    "CSV, non-ASCII tiny rows": lambda: (
        "accents.csv",
        _fill(b"Name,Price\n", "é,1\n".encode()),
    ),
    "XLSX, tiny rows (400k)": lambda: ("tiny.xlsx", _xlsx_tiny_rows()),
}


def peak_mib(filename: str, data: bytes) -> tuple[float, str]:
    tracemalloc.start()
    try:
        try:
            result = parse_product_file(data, filename=filename, content_type=None)
            outcome = f"{len(result.rows)} rows"
        except UnreadableFile as error:
            outcome = f"refused: {error.message[:60]}"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / MIB, outcome


def main() -> None:
    limit = MAX_UPLOAD_BYTES / MIB
    print(f"parse_product_file peak memory (tracemalloc), files up to {limit:.0f} MiB")
    print(f"{'shape':36} {'file MiB':>8} {'peak MiB':>8}  outcome")
    for shape, make in SHAPES.items():
        filename, data = make()
        peak, outcome = peak_mib(filename, data)
        print(f"{shape:36} {len(data) / MIB:8.2f} {peak:8.2f}  {outcome}")


if __name__ == "__main__":
    main()
