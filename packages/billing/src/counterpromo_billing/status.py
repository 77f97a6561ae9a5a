"""What an account's billing looks like to its members (``GET /v1/billing``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from counterpromo_core.db.models import Account

from counterpromo_billing.subscription_sync import PAST_DUE_GRACE


@dataclass(frozen=True)
class BillingStatus:
    """``ends_at``: when the paid plan stops (cancel at period end: the period's end).

    ``grace_until``: while ``past_due``, when the plan drops to free unless paid.
    """

    plan_code: str
    subscription_status: str | None
    current_period_end: dt.datetime | None
    cancel_at_period_end: bool
    ends_at: dt.datetime | None
    trial_end: dt.datetime | None
    grace_until: dt.datetime | None
    payment_failed_at: dt.datetime | None
    has_billing_account: bool


def billing_status(account: Account) -> BillingStatus:
    past_due = account.subscription_status == "past_due" and account.past_due_since is not None
    return BillingStatus(
        plan_code=account.plan_code,
        subscription_status=account.subscription_status,
        current_period_end=account.current_period_end,
        cancel_at_period_end=account.cancel_at_period_end,
        ends_at=account.current_period_end if account.cancel_at_period_end else None,
        trial_end=account.trial_end,
        grace_until=account.past_due_since + PAST_DUE_GRACE
        if past_due and account.past_due_since
        else None,
        payment_failed_at=account.payment_failed_at,
        has_billing_account=account.stripe_customer_id is not None,
    )


__all__ = ["BillingStatus", "billing_status"]
