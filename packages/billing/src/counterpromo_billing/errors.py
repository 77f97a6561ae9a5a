"""Billing's typed errors.

Plan/price problems are domain errors (the API maps them like core's); webhook
rejections are their own family so the API can answer 400 without touching the body.
"""

from __future__ import annotations

from counterpromo_core.errors import DomainError, FieldError, ValidationFailed


class UnknownPrice(DomainError):  # noqa: N818 - named in docs/contracts.md
    """A Stripe price id that the price map does not know: never a silent downgrade."""

    def __init__(self, price_id: str) -> None:
        super().__init__(
            f"Stripe price {price_id!r} is not in the price map "
            "(/counterpromo/{env}/billing/price_map/{priceId}); add it and replay the event"
        )
        self.price_id = price_id


class UnknownPlan(ValidationFailed):
    """No Stripe price is configured for this plan (or it is not a paid plan)."""

    def __init__(self, plan_code: str) -> None:
        super().__init__(
            [FieldError("plan_code", f"no Stripe price is configured for plan {plan_code!r}")]
        )
        self.plan_code = plan_code


class BillingUnavailable(DomainError):  # noqa: N818 - pairs with core's errors
    """Stripe cannot be reached (or answers 5xx/429): try again later (API: 503)."""

    def __init__(self, reason: str, *, retry_after: int = 30) -> None:
        super().__init__(f"billing is temporarily unavailable: {reason}")
        self.reason = reason
        self.retry_after = retry_after


class WebhookError(Exception):
    """The request is not a genuine, well-formed Stripe event: nothing was stored."""


class SignatureError(WebhookError):
    """The ``Stripe-Signature`` header does not prove the body came from Stripe."""


class MissingSignature(SignatureError):  # noqa: N818 - named in docs/contracts.md
    def __init__(self) -> None:
        super().__init__("the Stripe-Signature header is missing")


class BadSignature(SignatureError):  # noqa: N818 - named in docs/contracts.md
    def __init__(self, reason: str = "no signature matches any configured webhook secret") -> None:
        super().__init__(reason)


class StaleTimestamp(SignatureError):  # noqa: N818 - named in docs/contracts.md
    def __init__(self, timestamp: int, tolerance: int) -> None:
        super().__init__(
            f"the signature timestamp {timestamp} is more than {tolerance} s old (a replay?)"
        )
        self.timestamp = timestamp
        self.tolerance = tolerance


class InvalidPayloadError(WebhookError):
    """Correctly signed, but not a Stripe event we can read (not JSON, no id/type/created)."""


class EventProcessingError(Exception):
    """Processing a stored event failed for a reason recorded on the event."""


class Unattributed(Exception):  # noqa: N818 - an outcome, not a failure
    """The event concerns no account of ours (another product's customer, an unknown price).

    Stored with the reason, answered 2xx, replayable once the mapping exists.
    """


__all__ = [
    "BadSignature",
    "BillingUnavailable",
    "EventProcessingError",
    "InvalidPayloadError",
    "MissingSignature",
    "SignatureError",
    "StaleTimestamp",
    "Unattributed",
    "UnknownPlan",
    "UnknownPrice",
    "WebhookError",
]
