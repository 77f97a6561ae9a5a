"""Test support: a fake Stripe HTTP server and a pytest plugin (``fake_stripe``)."""

from counterpromo_billing.testing.fake_stripe import (
    DEFAULT_SECRET_KEY,
    DEFAULT_WEBHOOK_SECRET,
    FakeStripe,
    RecordedRequest,
)

__all__ = ["DEFAULT_SECRET_KEY", "DEFAULT_WEBHOOK_SECRET", "FakeStripe", "RecordedRequest"]
