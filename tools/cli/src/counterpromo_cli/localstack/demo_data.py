"""The demo account of the local stack: created once, a fresh owner key every run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from counterpromo_core import accounts, api_keys, promos
from counterpromo_core.db.models import Member
from counterpromo_core.plans import sync_plans
from counterpromo_core.ports import SystemClock
from counterpromo_core.schemas import PromoCreate
from sqlalchemy import select
from sqlalchemy.orm import Session

from counterpromo_cli.localstack.sample import sample_items

DEMO_EMAIL = "demo@counterpromo.local"
DEMO_NAME = "Demo Builders Merchant"
DEMO_PLAN = "pro"  # no watermark, room for many demo promos
# The demo dealer's money, chosen like any account's (PATCH /v1/account changes it).
DEMO_CURRENCY = "USD"
DEMO_LOCALE = "en-US"


@dataclass(frozen=True)
class DemoAccount:
    account_id: uuid.UUID
    created: bool
    api_key: str


def _existing(session: Session) -> uuid.UUID | None:
    return session.scalar(
        select(Member.account_id)
        .where(Member.email == DEMO_EMAIL, Member.role == "owner")
        .order_by(Member.created_at)
        .limit(1)
    )


def ensure_demo_account(session: Session) -> DemoAccount:
    """The demo account (with a sample promo) and a new owner key; plaintext only here."""
    sync_plans(session)
    account_id = _existing(session)
    created = account_id is None
    if account_id is None:
        account = accounts.create_account(
            session,
            name=DEMO_NAME,
            owner_email=DEMO_EMAIL,
            currency=DEMO_CURRENCY,
            locale=DEMO_LOCALE,
            plan_code=DEMO_PLAN,
        )
        account_id = account.id
        promos.create_promo(
            session,
            account_id,
            PromoCreate(
                title="Spring Trade Counter Deals",
                subhead="Prices valid while stocks last",
                cta="Ask at the trade counter",
                items=sample_items(limit=4),
            ),
            clock=SystemClock(),
        )
    key = api_keys.create_api_key(session, account_id, name="counterpromo dev", role="owner")
    return DemoAccount(account_id=account_id, created=created, api_key=key.plaintext)
