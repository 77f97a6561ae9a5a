"""What members see of their account's billing, and Stripe's outages as BillingUnavailable."""

from __future__ import annotations

import datetime as dt
import socket
import uuid

import pytest
from counterpromo_billing.clients import connect
from counterpromo_billing.errors import BillingUnavailable
from counterpromo_billing.status import billing_status
from counterpromo_billing.stripe_calls import RETRY_AFTER_SECONDS, stripe_reachable
from counterpromo_billing.subscription_sync import PAST_DUE_GRACE
from counterpromo_core.db.models import Account
from stripe import APIError, InvalidRequestError, RateLimitError

PERIOD_END = dt.datetime(2027, 1, 31, tzinfo=dt.UTC)


def _account(**fields: object) -> Account:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "name": "Acme",
        "plan_code": "pro",
        "currency": "GBP",
        "locale": "en-GB",
        "subscription_status": "active",
        "current_period_end": PERIOD_END,
        "cancel_at_period_end": False,
        "stripe_customer_id": "cus_1",
        "past_due_since": None,
        "trial_end": None,
        "payment_failed_at": None,
    }
    values.update(fields)
    return Account(**values)


def test_an_active_plan_has_no_end_and_no_grace() -> None:
    status = billing_status(_account())
    assert (status.plan_code, status.subscription_status) == ("pro", "active")
    assert status.ends_at is None
    assert status.grace_until is None
    assert status.has_billing_account is True


def test_cancel_at_period_end_ends_at_the_period_end() -> None:
    status = billing_status(_account(cancel_at_period_end=True))
    assert status.ends_at == PERIOD_END


def test_past_due_shows_when_the_grace_ends() -> None:
    since = dt.datetime(2027, 1, 3, 9, 30, tzinfo=dt.UTC)
    status = billing_status(_account(subscription_status="past_due", past_due_since=since))
    assert status.grace_until == since + PAST_DUE_GRACE
    # The grace is about past_due only: an unpaid subscription has none left.
    unpaid = billing_status(_account(subscription_status="unpaid", past_due_since=since))
    assert unpaid.grace_until is None


def test_no_customer_means_no_billing_account() -> None:
    assert billing_status(_account(stripe_customer_id=None)).has_billing_account is False


def test_stripe_unreachable_is_billing_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    client = connect("sk_test_dead", api_base=dead, timeout=(1.0, 1.0), max_network_retries=0)
    with pytest.raises(BillingUnavailable) as raised, stripe_reachable():
        client.v1.customers.retrieve("cus_1")
    assert raised.value.retry_after == RETRY_AFTER_SECONDS
    assert "cannot be reached" in str(raised.value)


@pytest.mark.parametrize(
    "error",
    [RateLimitError("slow down", http_status=429), APIError("boom", http_status=502)],
    ids=["429", "5xx"],
)
def test_rate_limits_and_server_errors_are_billing_unavailable(error: APIError) -> None:
    with pytest.raises(BillingUnavailable), stripe_reachable():
        raise error


def test_a_request_error_is_not_an_outage() -> None:
    # stripe declares no types for this initialiser.
    error = InvalidRequestError(  # type: ignore[no-untyped-call]
        "No such customer", param="customer", http_status=404
    )
    with pytest.raises(InvalidRequestError), stripe_reachable():
        raise error
