"""pytest fixtures: the fake Stripe over HTTP (loaded through the ``pytest11`` entry point)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from counterpromo_billing.testing.fake_stripe import FakeStripe


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    """A running fake Stripe for the session: ``base_url``, ``secret_key``, ``webhook_secret``."""
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def stripe_client(fake_stripe: FakeStripe) -> stripe.StripeClient:
    """A real ``StripeClient`` talking to ``fake_stripe`` over HTTP."""
    return fake_stripe.client()
