"""Plans and Stripe prices, both ways.

The maps come from SSM through ``counterpromo_storage``'s ``AppConfig``
(``price_map``: price id -> plan code, ``plan_prices``: plan code -> price id).
Every function takes either the plain dict or anything that carries it (the
``AppConfig`` itself), so billing stays testable without AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from counterpromo_billing.errors import UnknownPlan, UnknownPrice


class HasPriceMap(Protocol):
    @property
    def price_map(self) -> Mapping[str, str]: ...


class HasPlanPrices(Protocol):
    @property
    def plan_prices(self) -> Mapping[str, str]: ...


def _price_map(source: Mapping[str, str] | HasPriceMap) -> Mapping[str, str]:
    return source if isinstance(source, Mapping) else source.price_map


def _plan_prices(source: Mapping[str, str] | HasPlanPrices) -> Mapping[str, str]:
    return source if isinstance(source, Mapping) else source.plan_prices


def plan_for_price(price_map: Mapping[str, str] | HasPriceMap, price_id: str) -> str:
    """The plan code a Stripe price buys; ``UnknownPrice`` when the map does not know it."""
    plan = _price_map(price_map).get(price_id)
    if not plan:
        raise UnknownPrice(price_id)
    return plan


def price_for_plan(plan_prices: Mapping[str, str] | HasPlanPrices, plan_code: str) -> str:
    """The monthly Stripe price id of a paid plan; ``UnknownPlan`` for free or unknown plans."""
    price = _plan_prices(plan_prices).get(plan_code)
    if not price:
        raise UnknownPlan(plan_code)
    return price


__all__ = ["HasPlanPrices", "HasPriceMap", "plan_for_price", "price_for_plan"]
