"""``stripe_client(config)``: the configured key and base address, timeouts and retries."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import stripe
from counterpromo_billing.clients import StripeNotConfigured, stripe_client
from counterpromo_billing.testing import FakeStripe
from counterpromo_storage.config import ConfigurationError
from counterpromo_storage.settings import AppConfig
from pydantic import SecretStr


def _config(**fields: object) -> AppConfig:
    return AppConfig.model_validate(
        {
            "env": "test",
            "database_url": SecretStr("postgresql+psycopg://u@127.0.0.1/db"),
            "jobs_queue_url": "http://127.0.0.1/q",
            "jobs_dlq_url": "http://127.0.0.1/dlq",
            "uploads_bucket": "u",
            "assets_bucket": "a",
            "exports_bucket": "e",
            "app_url": "https://app.counterpromo.test",
            **fields,
        }
    )


def test_talks_to_the_configured_base_with_the_configured_key(fake_stripe: FakeStripe) -> None:
    config = _config(
        stripe_secret_key=SecretStr(fake_stripe.secret_key), stripe_api_base=fake_stripe.base_url
    )
    customer = stripe_client(config).v1.customers.create(params={"name": "Harbour Timber"})
    assert fake_stripe.customer(customer.id)["name"] == "Harbour Timber"


def test_a_wrong_key_is_refused_by_stripe(fake_stripe: FakeStripe) -> None:
    config = _config(
        stripe_secret_key=SecretStr("sk_test_wrong"), stripe_api_base=fake_stripe.base_url
    )
    with pytest.raises(stripe.AuthenticationError):
        stripe_client(config).v1.customers.list()


def test_without_a_key_the_error_says_where_to_set_it() -> None:
    with pytest.raises(StripeNotConfigured) as caught:
        stripe_client(_config())
    assert isinstance(caught.value, ConfigurationError)
    assert "STRIPE_SECRET_KEY" in str(caught.value)
    assert "/counterpromo/test/stripe/secret_key" in str(caught.value)


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """An HTTP address that accepts connections and never answers; yields the accepted ones."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    host, port = listener.getsockname()[:2]
    yield f"http://{host}:{port}", accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_silent_stripe_times_out_and_is_retried(
    silent_server: tuple[str, list[socket.socket]],
) -> None:
    base, accepted = silent_server
    config = _config(stripe_secret_key=SecretStr("sk_test_x"), stripe_api_base=base)
    client = stripe_client(config, timeout=(1.0, 0.5), max_network_retries=1)
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.list()
    assert time.monotonic() - started < 10  # not Stripe's default 80 s read timeout
    assert len(accepted) == 2  # the first try and one retry
