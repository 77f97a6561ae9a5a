"""Price maps read from SSM (moto over HTTP) as provisioned by counterpromo_storage."""

from __future__ import annotations

import uuid

import pytest
from counterpromo_billing.errors import UnknownPrice
from counterpromo_billing.live_prices import LivePrices
from counterpromo_billing.plans import plan_for_price, price_for_plan
from counterpromo_billing.prices import load_prices
from counterpromo_billing.single_subscription import refresh_prices
from counterpromo_storage import naming
from counterpromo_storage.clients import ssm_client
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


def test_live_prices_follow_ssm_without_a_restart(provisioned_aws: ProvisionedEnv) -> None:
    """A mapping set in SSM is used at once on an unknown price, and within max_age anyway."""
    ssm = ssm_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    now = [0.0]
    live = LivePrices.from_ssm(ssm, provisioned_aws.env, max_age=60, clock=lambda: now[0])
    assert plan_for_price(live, SEED_STARTER_PRICE) == "starter"
    legacy = f"gold-monthly-{uuid.uuid4().hex[:6]}"  # a legacy plan id, not price_...
    with pytest.raises(UnknownPrice):
        plan_for_price(live, legacy)
    ssm.put_parameter(
        Name=naming.EnvNames(provisioned_aws.env).path(naming.PRICE_MAP_PREFIX + legacy),
        Value="dealer",
        Type="String",
        Overwrite=True,
    )
    with pytest.raises(UnknownPrice):
        plan_for_price(live, legacy)  # cached for up to a minute...
    now[0] += 61
    assert plan_for_price(live, legacy) == "dealer"  # ...and no longer


def test_an_unknown_price_makes_webhook_processing_reread_the_map(
    provisioned_aws: ProvisionedEnv,
) -> None:
    ssm = ssm_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    live = LivePrices.from_ssm(ssm, provisioned_aws.env, max_age=3600)
    price = f"price_new_{uuid.uuid4().hex[:8]}"
    assert price not in live.price_map
    ssm.put_parameter(
        Name=naming.EnvNames(provisioned_aws.env).path(naming.PRICE_MAP_PREFIX + price),
        Value="pro",
        Type="String",
        Overwrite=True,
    )
    assert price not in live.price_map  # the cache is an hour old at most
    assert plan_for_price(refresh_prices(live), price) == "pro"
    assert live.price_map[price] == "pro"
