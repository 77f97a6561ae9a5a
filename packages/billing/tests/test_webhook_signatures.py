"""Deliveries that are not provably Stripe's are rejected with a specific error, storing nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from counterpromo_billing.errors import (
    BadSignature,
    InvalidPayloadError,
    MissingSignature,
    SignatureError,
    StaleTimestamp,
)
from counterpromo_billing.signatures import verify_signature
from counterpromo_billing.testing import FakeStripe
from counterpromo_billing.webhooks import receive_event
from counterpromo_core.db.models import StripeEvent
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker


def _stored(sessions: sessionmaker[Session], event_id: str) -> int:
    with sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(StripeEvent).where(StripeEvent.id == event_id)
        )
    return count or 0


def _an_event(fake: FakeStripe) -> dict[str, Any]:
    customer = fake.create_customer()
    sub = fake.create_subscription(customer["id"], "price_test_pro_monthly")
    return fake.subscription_event("customer.subscription.created", sub["id"])


def _tampered(fake: FakeStripe, event: dict[str, Any]) -> tuple[bytes, str | None]:
    payload, header = fake.sign(event)
    return payload.replace(b"price_test_pro_monthly", b"price_test_dealer_monthly"), header


def _wrong_secret(fake: FakeStripe, event: dict[str, Any]) -> tuple[bytes, str | None]:
    return fake.sign(event, secret="whsec_not_ours")


def _stale(fake: FakeStripe, event: dict[str, Any]) -> tuple[bytes, str | None]:
    return fake.sign(event, timestamp=int(time.time()) - 301)


def _stale_and_wrong_secret(fake: FakeStripe, event: dict[str, Any]) -> tuple[bytes, str | None]:
    return fake.sign(event, secret="whsec_not_ours", timestamp=int(time.time()) - 3600)


def _missing_header(fake: FakeStripe, event: dict[str, Any]) -> tuple[bytes, str | None]:
    return fake.sign(event)[0], None


def _empty_header(fake: FakeStripe, event: dict[str, Any]) -> tuple[bytes, str | None]:
    return fake.sign(event)[0], ""


def _garbled_header(fake: FakeStripe, event: dict[str, Any]) -> tuple[bytes, str | None]:
    return fake.sign(event)[0], "not-a-signature"


Forge = Callable[[FakeStripe, dict[str, Any]], tuple[bytes, str | None]]


@pytest.mark.parametrize(
    ("forge", "error"),
    [
        (_tampered, BadSignature),
        (_wrong_secret, BadSignature),
        (_stale, StaleTimestamp),
        (_stale_and_wrong_secret, BadSignature),
        (_missing_header, MissingSignature),
        (_empty_header, MissingSignature),
        (_garbled_header, BadSignature),
    ],
)
def test_rejected_and_nothing_stored(
    *,
    forge: Forge,
    error: type[SignatureError],
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    price_map: dict[str, str],
) -> None:
    event = _an_event(fake_stripe)
    payload, header = forge(fake_stripe, event)
    with pytest.raises(error):
        receive_event(
            sessions,
            payload,
            header,
            secrets=[fake_stripe.webhook_secret],
            stripe=stripe_client,
            price_map=price_map,
        )
    assert _stored(sessions, event["id"]) == 0


def test_any_of_the_rotating_secrets_verifies(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    price_map: dict[str, str],
) -> None:
    event = fake_stripe.event("customer.created", fake_stripe.create_customer())
    payload, header = fake_stripe.sign(event)
    outcome = receive_event(
        sessions,
        payload,
        header,
        secrets=["whsec_the_new_one", fake_stripe.webhook_secret],
        stripe=stripe_client,
        price_map=price_map,
    )
    assert outcome.status == "ignored"
    assert _stored(sessions, event["id"]) == 1


def test_signed_garbage_is_an_invalid_payload(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    price_map: dict[str, str],
) -> None:
    for body in (b"not json", b"[1, 2]", b'{"id": "evt_1", "type": "x"}'):
        payload, header = fake_stripe.sign(body)
        with pytest.raises(InvalidPayloadError):
            receive_event(
                sessions,
                payload,
                header,
                secrets=[fake_stripe.webhook_secret],
                stripe=stripe_client,
                price_map=price_map,
            )
    assert _stored(sessions, "evt_1") == 0


def test_a_non_utf8_body_is_a_bad_signature() -> None:
    with pytest.raises(BadSignature):
        verify_signature(b"\xff\xfe", f"t={int(time.time())},v1=00", ["whsec_x"])


def test_no_configured_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        verify_signature(b"{}", f"t={int(time.time())},v1=00", ["", " "])


def test_a_single_secret_string_counts_as_one_secret(fake_stripe: FakeStripe) -> None:
    payload, header = fake_stripe.sign(b'{"id": "evt_x"}')
    now = time.time()
    assert verify_signature(payload, header, fake_stripe.webhook_secret) <= now
