"""Price maps read from SSM (moto over HTTP) as provisioned by counterpromo_storage."""

from __future__ import annotations

import pytest
from counterpromo_billing.plans import plan_for_price, price_for_plan
from counterpromo_billing.prices import load_prices
from counterpromo_storage.config import MissingConfiguration
from counterpromo_storage.provision import ProvisionedEnv

SEED_STARTER_PRICE = "price_1SvgC3GTMcpBWf0yIiwTxLYq"


def test_prices_of_a_provisioned_environment(provisioned_aws: ProvisionedEnv) -> None:
    prices = load_prices(provisioned_aws.env, endpoint_url=provisioned_aws.endpoint_url)
    assert plan_for_price(prices, SEED_STARTER_PRICE) == "starter"
    for plan, price in provisioned_aws.plan_prices.items():
        assert price_for_plan(prices, plan) == price
        assert plan_for_price(prices, price) == plan


def test_an_environment_without_prices_is_a_clear_error(
    provisioned_aws: ProvisionedEnv,
) -> None:
    with pytest.raises(MissingConfiguration) as caught:
        load_prices("nowhere", endpoint_url=provisioned_aws.endpoint_url)
    assert {"price_map", "plan_prices"} <= set(caught.value.missing)
