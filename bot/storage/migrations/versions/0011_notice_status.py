"""A notice is a draft until its admin confirms it (sent) or decides against it (dropped); the
confirmation claims the draft with one conditional UPDATE, so two taps, or two instances,
send it once. Notices from before were sent at once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="sent"))


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("status")
