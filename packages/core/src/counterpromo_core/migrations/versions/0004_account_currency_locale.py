"""accounts get a currency (ISO 4217) and a locale (BCP 47); process_image jobs

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02

Every account chooses both at creation from now on; there is no column default.
Accounts that exist already were created by the original, UK-only product: they get
GBP and en-GB, then the columns become NOT NULL.

Jobs may also be ``process_image`` (an uploaded logo or product picture, decoded and
re-encoded by the worker).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_JOB_TYPES_BEFORE = ("parse_upload", "render_promo", "export_bundle", "coop_report")
_JOB_TYPES_AFTER = (*_JOB_TYPES_BEFORE, "process_image")


def _job_type_check(types: tuple[str, ...]) -> str:
    return "type IN (" + ", ".join(f"'{t}'" for t in types) + ")"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_jobs_type"), "jobs", type_="check")
    op.create_check_constraint(op.f("ck_jobs_type"), "jobs", _job_type_check(_JOB_TYPES_AFTER))
    op.add_column("accounts", sa.Column("currency", sa.String(length=3), nullable=True))
    op.add_column("accounts", sa.Column("locale", sa.String(length=35), nullable=True))
    op.execute(
        "UPDATE accounts SET currency = 'GBP', locale = 'en-GB' "
        "WHERE currency IS NULL OR locale IS NULL"
    )
    op.alter_column("accounts", "currency", nullable=False)
    op.alter_column("accounts", "locale", nullable=False)
    op.create_check_constraint(
        op.f("ck_accounts_currency_iso_4217"), "accounts", "currency ~ '^[A-Z]{3}$'"
    )
    op.create_check_constraint(
        op.f("ck_accounts_locale_length"), "accounts", "length(locale) BETWEEN 2 AND 35"
    )


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE type = 'process_image'")
    op.drop_constraint(op.f("ck_jobs_type"), "jobs", type_="check")
    op.create_check_constraint(op.f("ck_jobs_type"), "jobs", _job_type_check(_JOB_TYPES_BEFORE))
    op.drop_constraint(op.f("ck_accounts_locale_length"), "accounts", type_="check")
    op.drop_constraint(op.f("ck_accounts_currency_iso_4217"), "accounts", type_="check")
    op.drop_column("accounts", "locale")
    op.drop_column("accounts", "currency")
