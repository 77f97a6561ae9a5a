"""parse_product_file: an uploaded CSV/XLSX product list in, validated items and row errors out."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from typing import Any

from counterpromo_core.schemas import ItemIn
from pydantic import ValidationError

from counterpromo_worker.parsing.cells import CellValue, cell_price, cell_text, is_blank
from counterpromo_worker.parsing.csv_file import read_csv
from counterpromo_worker.parsing.headers import (
    HEADER_SEARCH_ROWS,
    ColumnChoice,
    check_mapping,
    match_columns,
    no_header_found,
)
from counterpromo_worker.parsing.models import (
    ParsedRow,
    ParseLimits,
    ParseResult,
    RowError,
    UnreadableFile,
)
from counterpromo_worker.parsing.sniff import detect_kind
from counterpromo_worker.parsing.xlsx_file import read_xlsx

PRICE_FIELDS = frozenset({"sale_price", "rrp", "coop_amount"})
# Blank rows are skipped without counting as data, but the scan itself is bounded.
_ROWS_SCANNED_PER_DATA_ROW = 20


def parse_product_file(
    data: bytes,
    *,
    filename: str,
    content_type: str | None,
    mapping: dict[str, str] | None = None,
    limits: ParseLimits = ParseLimits(),  # noqa: B008 - frozen dataclass, safe as a default
) -> ParseResult:
    """Read every product row of the file; a row that cannot become an item is reported, not kept.

    The file's type is judged from its bytes, not from ``filename`` or
    ``content_type`` (which may lie); those only make messages clearer.
    Raises UnreadableFile when the file as a whole cannot be used.
    """
    del content_type  # deliberately unused: the bytes decide
    check_mapping(mapping or {})
    if len(data) > limits.max_bytes:
        raise UnreadableFile(
            f"{filename!r} is {_size(len(data))}; "
            f"the largest file accepted is {_size(limits.max_bytes)}"
        )
    kind = detect_kind(data, filename)
    rows: Generator[tuple[int, list[CellValue]], None, None] = (
        read_xlsx(data, filename, limits)
        if kind == "xlsx"
        else read_csv(data, filename, limits.max_columns)
    )
    try:
        return _parse_rows(rows, filename=filename, mapping=mapping, limits=limits)
    finally:
        rows.close()


def _parse_rows(
    rows: Iterator[tuple[int, list[CellValue]]],
    *,
    filename: str,
    mapping: dict[str, str] | None,
    limits: ParseLimits,
) -> ParseResult:
    header_row, headers, choice = _header(rows, filename, mapping, limits)
    columns = choice.fields
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    data_rows = scanned = 0
    for number, values in rows:
        scanned += 1
        if scanned > limits.max_rows * _ROWS_SCANNED_PER_DATA_ROW:
            raise UnreadableFile(
                f"{filename!r} has more than {scanned - 1} rows (counting blank ones); "
                "delete the empty rows or split the file"
            )
        if all(is_blank(value) for value in values):
            continue
        data_rows += 1
        if data_rows > limits.max_rows:
            raise UnreadableFile(
                f"{filename!r} has more than {limits.max_rows} product rows; "
                "split it into smaller files"
            )
        outcome = _row(number, values, columns, headers)
        if isinstance(outcome, RowError):
            errors.append(outcome)
        else:
            parsed.append(outcome)
    if not parsed and not errors:
        raise UnreadableFile(f"{filename!r} has a header row but no product rows")
    return ParseResult(
        rows=parsed,
        errors=errors,
        columns={headers[index]: field for field, index in sorted(columns.items(), key=_by_column)},
        ignored_columns=choice.ignored,
        header_row=header_row,
    )


def _by_column(entry: tuple[str, int]) -> int:
    return entry[1]


def _header(
    rows: Iterator[tuple[int, list[CellValue]]],
    filename: str,
    mapping: dict[str, str] | None,
    limits: ParseLimits,
) -> tuple[int, list[str], ColumnChoice]:
    """The first row among the first HEADER_SEARCH_ROWS that names a name and a price column.

    Rows above it (a title block, an address, a date) are passed over.
    """
    candidate: list[str] | None = None
    for number, values in rows:
        if number > HEADER_SEARCH_ROWS:
            break
        texts = [cell_text(value) or "" for value in values]
        width = max((i + 1 for i, text in enumerate(texts) if text), default=0)
        if width == 0:
            continue
        if width > limits.max_columns:
            raise UnreadableFile(
                f"{filename!r} has more than {limits.max_columns} columns; "
                "keep only the product columns"
            )
        headers = texts[:width]
        choice = match_columns(headers, mapping)
        if choice is not None:
            return number, headers, choice
        if candidate is None:
            candidate = headers
    raise no_header_found(filename, candidate, mapping)


def _row(
    number: int, values: Sequence[CellValue], columns: dict[str, int], headers: Sequence[str]
) -> ParsedRow | RowError:
    fields: dict[str, Any] = {}
    problems: list[str] = []
    for field, index in columns.items():
        value = values[index] if index < len(values) else None
        if field in PRICE_FIELDS:
            try:
                fields[field] = cell_price(value)
            except ValueError:
                problems.append(f"{headers[index]}: {cell_text(value)!r} is not a price")
        else:
            fields[field] = cell_text(value)
    if fields.get("name") is None:
        problems.insert(0, f"{headers[columns['name']]}: the product name is empty")
    if problems:
        return RowError(row_number=number, message="; ".join(problems))
    image_name = fields.pop("image", None)
    try:
        return ParsedRow(row_number=number, item=ItemIn(**fields), image_name=image_name)
    except ValidationError as error:
        messages = [
            f"{headers[columns[str(detail['loc'][0])]]}: {detail['msg']}"
            if detail["loc"] and str(detail["loc"][0]) in columns
            else detail["msg"]
            for detail in error.errors()
        ]
        return RowError(row_number=number, message="; ".join(messages))


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count} bytes"
