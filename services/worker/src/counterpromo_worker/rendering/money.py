"""Prices as they print on a flyer: Babel's CLDR formats for the account's currency and locale."""

from __future__ import annotations

from decimal import Decimal

from counterpromo_core.money import format_money, price_labels

__all__ = ["format_money", "price_labels", "saving"]


def saving(sale_price: Decimal | None, rrp: Decimal | None) -> Decimal | None:
    """How much the customer saves against the RRP, or None when there is no saving to show."""
    if sale_price is None or rrp is None or rrp <= sale_price:
        return None
    return rrp - sale_price
