"""Cell values as the readers hand them over, and how they become text or prices."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from counterpromo_worker.parsing.prices import parse_price

CellValue = str | int | float | Decimal | bool | dt.datetime | dt.date | dt.time | None
_PENNY = Decimal("0.01")


def is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: CellValue) -> str | None:
    """The cell as the user reads it; None when blank."""
    if is_blank(value):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def cell_price(value: CellValue) -> Decimal | None:
    """A price rounded to the penny; None when blank; ValueError when it is not a price."""
    if is_blank(value):
        return None
    if isinstance(value, str):
        return parse_price(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        # str() of a float is its shortest round-trip form: 12.3 stays 12.3, not 12.2999...
        amount = Decimal(str(value))
        if amount.is_finite():
            return amount.quantize(_PENNY, rounding=ROUND_HALF_UP)
    raise ValueError(f"{cell_text(value)!r} is not a price")
