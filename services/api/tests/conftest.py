"""The API served by uvicorn over HTTP, on a real PostgreSQL, moto's AWS and the fake Stripe."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.settings import ApiSettings
from counterpromo_api.testing import ServerThread, Tenant, make_tenant
from counterpromo_billing.testing.fake_stripe import FakeStripe
from counterpromo_storage.config import load_config
from counterpromo_storage.provision import ProvisionedEnv, provision
from counterpromo_storage.settings import AppConfig
from counterpromo_storage.testing import LocalAws
from sqlalchemy.orm import Session, sessionmaker

# The [testing] extras' pytest plugins are opt-in: registered here, nowhere else.
pytest_plugins = ["counterpromo_storage.testing.plugin", "counterpromo_billing.testing.plugin"]


@pytest.fixture(scope="session")
def aws_env(local_aws: LocalAws) -> ProvisionedEnv:
    """The ``apitest`` environment provisioned on moto's server (once per session)."""
    return provision("apitest", endpoint_url=local_aws.endpoint)


def config_for(env: ProvisionedEnv, database_url: str, stripe: FakeStripe) -> AppConfig:
    """The config as a deployed API reads it: env vars over SSM and Secrets Manager."""
    environ = {
        **env.environ(),
        "DATABASE_URL": database_url,
        "STRIPE_SECRET_KEY": stripe.secret_key,
        "STRIPE_WEBHOOK_SECRET": stripe.webhook_secret,
        "STRIPE_API_BASE": stripe.base_url,
    }
    return load_config(environ=environ)


@pytest.fixture(scope="module")
def api_config(aws_env: ProvisionedEnv, database_url: str, fake_stripe: FakeStripe) -> AppConfig:
    return config_for(aws_env, database_url, fake_stripe)


@pytest.fixture(scope="module")
def api_settings() -> ApiSettings:
    return ApiSettings(forwarded_allow_ips=["127.0.0.1"])


@pytest.fixture(scope="module")
def api_url(api_config: AppConfig, api_settings: ApiSettings) -> Iterator[str]:
    with ServerThread(create_app(api_config, settings=api_settings)) as server:
        yield server.url


@pytest.fixture(scope="module")
def http(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=30) as client:
        yield client


@pytest.fixture
def tenant(sessions: sessionmaker[Session]) -> Tenant:
    """A fresh account on the dealer plan (no monthly promo limit) with an owner key."""
    return make_tenant(sessions, plan="dealer")


PaidCheckout = Callable[[httpx.Client, Tenant], tuple[bytes, dict[str, str]]]


@pytest.fixture
def paid_checkout(fake_stripe: FakeStripe) -> PaidCheckout:
    """``pay(http, tenant)``: a Checkout of the starter plan started through the API and paid
    in the fake Stripe; the signed delivery of its ``checkout.session.completed`` event
    (body, headers), not yet sent."""

    def pay(http: httpx.Client, tenant: Tenant) -> tuple[bytes, dict[str, str]]:
        started = http.post(
            "/v1/billing/checkout", json={"plan_code": "starter"}, headers=tenant.headers
        )
        session_id = started.json()["session_id"]
        fake_stripe.complete_checkout(session_id)
        payload, signature = fake_stripe.sign(fake_stripe.checkout_completed_event(session_id))
        return payload, {"Stripe-Signature": signature, "Content-Type": "application/json"}

    return pay
