"""room for the original application's data: id map, promo keywords, brand kit URLs

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-02

The rows themselves are carried by ``counterpromo_core.legacy`` after the
migrations reach head (``db.upgrade`` does it in the same transaction), so this
revision only adds what the carried rows need: ``legacy_ids`` (original TEXT id
-> our UUID, per original table) and the columns the original schema had and
ours lacked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legacy_ids",
        sa.Column("source_table", sa.String(length=40), nullable=False),
        sa.Column("legacy_id", sa.Text(), nullable=False),
        sa.Column("new_id", sa.UUID(), nullable=False),
        sa.Column(
            "adopted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("source_table", "legacy_id", name=op.f("pk_legacy_ids")),
        sa.UniqueConstraint(
            "source_table", "new_id", name=op.f("uq_legacy_ids_source_table_new_id")
        ),
    )
    op.add_column(
        "promos",
        sa.Column(
            "keywords",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.add_column("brand_kits", sa.Column("logo_url", sa.String(length=2048), nullable=True))
    op.add_column("brand_kits", sa.Column("website_url", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    op.drop_column("brand_kits", "website_url")
    op.drop_column("brand_kits", "logo_url")
    op.drop_column("promos", "keywords")
    op.drop_table("legacy_ids")
