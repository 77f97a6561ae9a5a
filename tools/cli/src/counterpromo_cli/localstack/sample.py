"""The shipped sample product list (building materials, with co-op fields)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from importlib.resources import files

from counterpromo_core.schemas import ItemIn

SAMPLE_CSV = "sample-products.csv"


def sample_csv_bytes() -> bytes:
    return files("counterpromo_cli.data").joinpath(SAMPLE_CSV).read_bytes()


def _money(value: str) -> Decimal | None:
    return Decimal(value) if value.strip() else None


def sample_items(limit: int | None = None) -> list[ItemIn]:
    """The sample rows as items (for the demo account's first promo)."""
    rows = list(csv.DictReader(io.StringIO(sample_csv_bytes().decode("utf-8"))))
    return [
        ItemIn(
            sku=row["sku"],
            name=row["name"],
            sale_price=_money(row["sale_price"]),
            rrp=_money(row["rrp"]),
            unit=row["unit"] or None,
            category=row["category"] or None,
            vendor=row["vendor"] or None,
            coop_vendor=row["coop_vendor"] or None,
            coop_amount=_money(row["coop_amount"]),
            coop_note=row["coop_note"] or None,
        )
        for row in rows[:limit]
    ]
