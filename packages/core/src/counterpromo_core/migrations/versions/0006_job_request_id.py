"""jobs.request_id: the id of the API request that created the job

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-02

Nullable: jobs from before this revision, and jobs created outside a request (the CLI,
tests), have none. The API's request ids are at most 64 characters.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("request_id", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "request_id")
