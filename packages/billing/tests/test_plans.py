"""Plan <-> price lookups from the SSM maps (plain dicts or the config object)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from counterpromo_billing.errors import UnknownPlan, UnknownPrice
from counterpromo_billing.plans import plan_for_price, price_for_plan
from counterpromo_core.errors import ValidationFailed

SEED_STARTER_PRICE = "price_1SvgC3GTMcpBWf0yIiwTxLYq"


@dataclass
class ConfigLike:
    price_map: dict[str, str] = field(default_factory=dict)
    plan_prices: dict[str, str] = field(default_factory=dict)


def test_plan_for_a_known_price() -> None:
    assert plan_for_price({SEED_STARTER_PRICE: "starter"}, SEED_STARTER_PRICE) == "starter"


def test_unknown_price_is_an_error_naming_the_price() -> None:
    with pytest.raises(UnknownPrice) as caught:
        plan_for_price({SEED_STARTER_PRICE: "starter"}, "price_nobody_knows")
    assert caught.value.price_id == "price_nobody_knows"
    assert "price_nobody_knows" in caught.value.message


def test_price_for_a_paid_plan() -> None:
    assert price_for_plan({"pro": "price_pro"}, "pro") == "price_pro"


@pytest.mark.parametrize("plan", ["free", "platinum", ""])
def test_plan_without_a_price_is_a_validation_error(plan: str) -> None:
    with pytest.raises(UnknownPlan) as caught:
        price_for_plan({"pro": "price_pro"}, plan)
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.errors[0].field == "plan_code"


def test_config_object_is_accepted_in_place_of_the_maps() -> None:
    config = ConfigLike(
        price_map={SEED_STARTER_PRICE: "starter"}, plan_prices={"starter": SEED_STARTER_PRICE}
    )
    assert plan_for_price(config, SEED_STARTER_PRICE) == "starter"
    assert price_for_plan(config, "starter") == SEED_STARTER_PRICE
    with pytest.raises(UnknownPrice):
        plan_for_price(config, "price_other")
