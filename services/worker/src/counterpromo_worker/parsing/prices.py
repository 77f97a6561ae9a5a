"""Prices as people type them into spreadsheets: "£1,299.00", "1.299,00", "$12", "1 299,50"."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

_CODES = r"gbp|usd|eur|cad|aud|nzd"
_CURRENCY = re.compile(
    rf"^(?:us\$|a\$|c\$|[£$€¥]|{_CODES})\s*|\s*(?:[£$€¥]|{_CODES})$", re.IGNORECASE
)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_GROUPED_BY_SPACES = re.compile(r"^\d{1,3}(?:[\s\u00a0\u202f\u2009']\d{3})+(?:[.,]\d+)?$")
_DIGITS_AND_SEPARATORS = re.compile(r"^[\d.,]+$")
_PENNY = Decimal("0.01")


def parse_price(text: str) -> Decimal:
    """A price rounded to the penny; ValueError when ``text`` is not a price.

    Rules: a currency symbol or code may lead or trail; spaces and apostrophes may
    group thousands; when both "," and "." appear the last one is the decimal
    separator; a lone "," followed by exactly three digits groups thousands
    ("1,299"), otherwise it is a decimal comma ("12,50"); a lone "." is a decimal
    point; several of the same separator group thousands ("1.299.000").
    """
    original = text
    value = text.strip()
    negative = value.startswith("-")
    if negative:
        value = value[1:].strip()
    value = _strip_currency(value)
    if value.startswith("-") and not negative:
        negative = True
        value = value[1:].strip()
    if _GROUPED_BY_SPACES.match(value):
        value = _SPACES.sub("", value)
    if not value or not _DIGITS_AND_SEPARATORS.match(value):
        raise ValueError(f"{original!r} is not a price")
    number = _normalise(value, original)
    amount = Decimal(number).quantize(_PENNY, rounding=ROUND_HALF_UP)
    return -amount if negative else amount


def _strip_currency(value: str) -> str:
    for _ in range(2):  # a symbol and a code, e.g. "£12 GBP"
        value = _CURRENCY.sub("", value).strip()
    return value


def _normalise(value: str, original: str) -> str:
    """Digits with at most one "." as the decimal point."""
    last_comma, last_dot = value.rfind(","), value.rfind(".")
    if last_comma >= 0 and last_dot >= 0:
        decimal_sep = "," if last_comma > last_dot else "."
        group_sep = "." if decimal_sep == "," else ","
    elif last_comma >= 0:
        single = value.count(",") == 1
        decimal_sep = "," if single and len(value) - last_comma - 1 != 3 else ""
        group_sep = ","
    elif last_dot >= 0:
        decimal_sep = "." if value.count(".") == 1 else ""
        group_sep = "."
    else:
        return value

    if decimal_sep:
        whole, _, fraction = value.rpartition(decimal_sep)
        if not fraction.isdigit() or decimal_sep in whole:
            raise ValueError(f"{original!r} is not a price")
    else:
        whole, fraction = value, ""
    if group_sep in whole:
        groups = whole.split(group_sep)
        if not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:]):
            raise ValueError(f"{original!r} is not a price")
        whole = "".join(groups)
    if whole == "" and fraction:
        whole = "0"
    if not whole.isdigit():
        raise ValueError(f"{original!r} is not a price")
    return f"{whole}.{fraction}" if fraction else whole
