"""The Stripe price maps of an environment, read from SSM through ``counterpromo_storage``.

For the CLI and scripts; services that already hold an ``AppConfig`` pass it
(or ``prices_from_config(config)``) straight to the billing functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from counterpromo_storage.config import load_config

from counterpromo_billing.plans import HasPlanPrices, HasPriceMap


@dataclass(frozen=True)
class Prices:
    """``price_map``: price id -> plan code; ``plan_prices``: plan code -> price id."""

    price_map: Mapping[str, str] = field(default_factory=dict)
    plan_prices: Mapping[str, str] = field(default_factory=dict)


class HasPrices(HasPriceMap, HasPlanPrices, Protocol):
    """Anything with both maps, e.g. storage's ``AppConfig``."""


def prices_from_config(config: HasPrices) -> Prices:
    return Prices(price_map=dict(config.price_map), plan_prices=dict(config.plan_prices))


def load_prices(env: str | None = None, *, endpoint_url: str | None = None) -> Prices:
    """Read ``/counterpromo/{env}/billing/price_map/*`` and ``/stripe/price_*_monthly``.

    Raises storage's ``MissingConfiguration`` (naming every missing value) when the
    environment has no prices, or lacks what every process needs.
    """
    config = load_config(env, endpoint_url=endpoint_url, required=("price_map", "plan_prices"))
    return prices_from_config(config)


__all__ = ["HasPrices", "Prices", "load_prices", "prices_from_config"]
