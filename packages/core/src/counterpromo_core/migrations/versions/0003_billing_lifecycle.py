"""billing lifecycle: trial end, past-due start, last failed payment, unattributed events

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

- ``accounts.trial_end``: the end of the subscription's trial (Stripe's ``trial_end``).
- ``accounts.past_due_since``: when the subscription was first seen ``past_due``
  (the grace period counts from here; cleared when it is paid again).
- ``accounts.payment_failed_at``: the last ``invoice.payment_failed`` for the account.
- ``stripe_events.ignored_reason``: why a stored event changed nothing (an
  unattributed event: a customer that is not ours, a price not in the map).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("trial_end", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "accounts", sa.Column("past_due_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "accounts", sa.Column("payment_failed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("stripe_events", sa.Column("ignored_reason", sa.Text(), nullable=True))
    op.create_index(
        "ix_stripe_events_unattributed",
        "stripe_events",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("ignored_reason IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_stripe_events_unattributed", table_name="stripe_events")
    op.drop_column("stripe_events", "ignored_reason")
    op.drop_column("accounts", "payment_failed_at")
    op.drop_column("accounts", "past_due_since")
    op.drop_column("accounts", "trial_end")
