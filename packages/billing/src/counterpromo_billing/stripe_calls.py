"""Calls to Stripe from a request: Stripe being unreachable is ``BillingUnavailable``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from stripe import APIConnectionError, APIError, RateLimitError

from counterpromo_billing.errors import BillingUnavailable

RETRY_AFTER_SECONDS = 30


@contextmanager
def stripe_reachable() -> Iterator[None]:
    """Turn "Stripe cannot answer now" (no connection, 5xx, 429) into ``BillingUnavailable``."""
    try:
        yield
    except APIConnectionError as exc:
        raise BillingUnavailable(
            f"Stripe cannot be reached ({exc.user_message})", retry_after=RETRY_AFTER_SECONDS
        ) from exc
    except RateLimitError as exc:
        raise BillingUnavailable(
            "Stripe is rate limiting this account", retry_after=RETRY_AFTER_SECONDS
        ) from exc
    except APIError as exc:
        if exc.http_status is not None and exc.http_status < 500:
            raise
        raise BillingUnavailable(
            f"Stripe answered {exc.http_status}", retry_after=RETRY_AFTER_SECONDS
        ) from exc


__all__ = ["RETRY_AFTER_SECONDS", "stripe_reachable"]
