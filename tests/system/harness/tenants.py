"""Accounts for the tests, made with core's use-cases (as the CLI would make them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from counterpromo_core import accounts, api_keys, branches
from counterpromo_core.schemas import BranchIn
from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class Tenant:
    account_id: uuid.UUID
    key: str
    tag: str
    """Appears in every promo title this tenant creates: another tenant's tag is a leak."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def create_tenant(
    sessions: sessionmaker[Session], *, plan: str = "dealer", branch_count: int = 0
) -> Tenant:
    tag = uuid.uuid4().hex[:10]
    with sessions.begin() as session:
        account = accounts.create_account(
            session,
            name=f"Dealer {tag}",
            owner_email=f"owner-{tag}@example.com",
            currency="USD",
            locale="en-US",
            plan_code=plan,
        )
        key = api_keys.create_api_key(session, account.id, name="system test", role="owner")
        for n in range(branch_count):
            branches.create_branch(
                session,
                account.id,
                BranchIn(
                    name=f"Branch {n + 1}", address=f"{n + 1} Yard Lane", phone="01632 960000"
                ),
            )
        return Tenant(account.id, key.plaintext, tag)


def promo_body(
    tenant: Tenant, *, items: int = 8, title: str = "Spring Trade Event"
) -> dict[str, Any]:
    """A promo as a dealer's system would POST it."""
    return {
        "title": f"{title} [{tenant.tag}]",
        "subhead": "Account holders only",
        "cta": "Order at the counter",
        "template": "multi-product",
        "items": [
            {
                "sku": f"HT-{n:03d}",
                "name": f"Trade item {n} {('Claw hammer', 'Spirit level', 'Wood screws')[n % 3]}",
                "sale_price": str(Decimal("9.95") + n),
                "rrp": str(Decimal("14.50") + n),
                "unit": "each",
                "category": "Hand tools",
                "vendor": ("Stanley", "Bahco", "Spax")[n % 3],
            }
            for n in range(1, items + 1)
        ],
    }
