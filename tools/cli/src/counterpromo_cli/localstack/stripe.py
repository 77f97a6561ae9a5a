"""The fake Stripe in the local stack, so checkout works on a laptop without a Stripe account.

Runs unless ``STRIPE_SECRET_KEY`` is set (then the API talks to the real Stripe with that
key, and webhooks are yours to forward, e.g. with ``stripe listen``). The fake serves the
Stripe API to the API process, and the checkout page the checkout URL points at: paying
there completes the session and delivers the signed webhooks to the local API.
"""

from __future__ import annotations

import os

from counterpromo_billing.testing.fake_stripe import FakeStripe


def real_stripe_configured(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("STRIPE_SECRET_KEY"))


def start_fake_stripe(port: int, *, api_url: str) -> FakeStripe:
    """The fake on ``port`` (0: any free port), delivering webhooks to the local API."""
    fake = FakeStripe(port=port, webhook_url=f"{api_url.rstrip('/')}/webhooks/stripe")
    fake.start()
    return fake


def stripe_environ(fake: FakeStripe) -> dict[str, str]:
    """What the API and worker need to use the fake (key, webhook secret, address)."""
    return {
        "STRIPE_SECRET_KEY": fake.secret_key,
        "STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
        "STRIPE_API_BASE": fake.base_url,
    }


__all__ = ["real_stripe_configured", "start_fake_stripe", "stripe_environ"]
