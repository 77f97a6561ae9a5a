"""parse_price: the ways people write prices, and junk that must be refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from counterpromo_worker.parsing import parse_price


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("£1,299.00", "1299.00"),
        ("1.299,00", "1299.00"),
        ("$12", "12.00"),
        ("12", "12.00"),
        ("1 299,50", "1299.50"),
        ("1\u00a0299,50", "1299.50"),
        ("1'299.50", "1299.50"),
        ("12,50", "12.50"),
        ("1,299", "1299.00"),
        ("1.299.000", "1299000.00"),
        ("1,299,000.5", "1299000.50"),
        (".5", "0.50"),
        ("€ 3,20", "3.20"),
        ("12.99 GBP", "12.99"),
        ("USD 10", "10.00"),
        ("  7.5  ", "7.50"),
        ("2.345", "2.35"),
        ("-5", "-5.00"),
    ],
)
def test_parses_common_price_formats(text: str, expected: str) -> None:
    assert parse_price(text) == Decimal(expected)
    assert parse_price(text).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "text",
    ["", "   ", "£", "abc", "12abc", "1e5", "nan", "Infinity", "12..5", "12.3.4,5", "1,2,3",
     "12,34,56", "1.299,000,00", "(12)", "12 34", "12-", "0x1F", "12 £ 3"],
)  # fmt: skip
def test_refuses_junk_with_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="is not a price"):
        parse_price(text)
