"""Prices as they print on a flyer."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_CENTS = Decimal("0.01")


def format_money(amount: Decimal, currency_symbol: str) -> str:
    """``£1,299.00``: symbol, thousands separators, always two decimals."""
    rounded = amount.quantize(_CENTS, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{currency_symbol}{abs(rounded):,.2f}"


def saving(sale_price: Decimal | None, rrp: Decimal | None) -> Decimal | None:
    """How much the customer saves against the RRP, or None when there is no saving to show."""
    if sale_price is None or rrp is None or rrp <= sale_price:
        return None
    return rrp - sale_price
