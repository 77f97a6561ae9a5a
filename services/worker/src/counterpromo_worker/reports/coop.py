"""The co-op report: what each co-op vendor funds in a promo, line by line, with totals."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from counterpromo_core.money import currency_digits
from pydantic import BaseModel

from counterpromo_worker.reports.csv_safety import safe_cell


class CoopLine(BaseModel):
    sku: str | None = None
    name: str
    vendor: str | None = None
    coop_vendor: str | None = None
    coop_amount: Decimal | None = None
    coop_note: str | None = None
    sale_price: Decimal | None = None


def header(currency: str) -> tuple[str, ...]:
    return (
        "Co-op vendor",
        "SKU",
        "Product",
        "Vendor",
        f"Sale price ({currency})",
        f"Co-op amount ({currency})",
        "Note",
    )


def coop_report_csv(items: Sequence[CoopLine], currency: str) -> bytes:
    """UTF-8 CSV (with a BOM, so Excel shows accents): one block per co-op vendor.

    Only items with a co-op vendor are listed. Vendors come in alphabetical order,
    their lines in promo order, each block closed by a "<vendor> total" row; a
    grand total ends the file. The money columns name the account's ISO 4217
    ``currency`` in their header and hold plain numbers with the currency's decimals
    ("12.50", JPY "13"), never locale-formatted text, so any spreadsheet in any
    locale can add them up; an item without an amount counts as 0.
    """
    digits = currency_digits(currency)

    def _amount(value: Decimal | None) -> str:
        if value is None:
            return ""
        return f"{value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)}"

    groups: dict[str, list[CoopLine]] = {}
    for item in items:
        if item.coop_vendor and item.coop_vendor.strip():
            groups.setdefault(item.coop_vendor.strip(), []).append(item)

    rows: list[tuple[str, ...]] = [header(currency)]
    grand_total = Decimal("0")
    line_count = 0
    for vendor in sorted(groups, key=lambda name: (name.casefold(), name)):
        lines = groups[vendor]
        total = sum((line.coop_amount or Decimal("0") for line in lines), Decimal("0"))
        rows.extend(
            (
                vendor,
                line.sku or "",
                line.name,
                line.vendor or "",
                _amount(line.sale_price),
                _amount(line.coop_amount),
                line.coop_note or "",
            )
            for line in lines
        )
        rows.append((f"{vendor} total", "", "", "", "", _amount(total), _count(len(lines))))
        grand_total += total
        line_count += len(lines)
    rows.append(("Grand total", "", "", "", "", _amount(grand_total), _count(line_count)))

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(tuple(safe_cell(cell) for cell in row) for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _count(lines: int) -> str:
    return f"{lines} line" if lines == 1 else f"{lines} lines"
