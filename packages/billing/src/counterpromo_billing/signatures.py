"""Verifying the ``Stripe-Signature`` header on the raw request body.

The HMAC check is the ``stripe`` SDK's (``WebhookSignature.verify_header``,
constant-time compare); we run it once per configured secret (several during a
secret rotation) and check the timestamp ourselves so that a stale but genuine
delivery gets its own error.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import stripe

from counterpromo_billing.errors import BadSignature, MissingSignature, StaleTimestamp

DEFAULT_TOLERANCE = 300


def _timestamp(header: str) -> int:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise BadSignature("the Stripe-Signature header has no valid timestamp (t=...)")


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str] | str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check that ``payload`` was signed by Stripe with one of ``secrets``; returns the timestamp.

    Raises ``MissingSignature``, ``BadSignature`` or ``StaleTimestamp``.
    """
    candidates = [secrets] if isinstance(secrets, str) else secrets
    usable = [s for s in candidates if s.strip()]
    if not usable:
        raise ValueError("no Stripe webhook secret is configured")
    if header is None or not header.strip():
        raise MissingSignature()
    timestamp = _timestamp(header)
    try:
        body = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSignature("the body is not UTF-8, so it cannot be Stripe's") from None
    for secret in usable:
        try:
            stripe.WebhookSignature.verify_header(body, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
        break
    else:
        raise BadSignature()
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise StaleTimestamp(timestamp, tolerance)
    return timestamp


__all__ = ["DEFAULT_TOLERANCE", "verify_signature"]
