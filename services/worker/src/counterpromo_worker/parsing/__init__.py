"""Uploaded product lists (CSV, XLSX) read into validated items, hostile files refused."""

from counterpromo_worker.parsing.models import (
    ParsedRow,
    ParseLimits,
    ParseResult,
    RowError,
    UnreadableFile,
)
from counterpromo_worker.parsing.prices import parse_price
from counterpromo_worker.parsing.product_file import parse_product_file

__all__ = [
    "ParseLimits",
    "ParseResult",
    "ParsedRow",
    "RowError",
    "UnreadableFile",
    "parse_price",
    "parse_product_file",
]
