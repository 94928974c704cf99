"""Deliveries a reader asked for (/latest, /issue, a button) are marked, and claimed before a
broadcast's: during a broadcast to thousands of chats, claims go message by message across
every chat, so an answer waited its turn behind each subscriber's copy of each message.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Not a partial index: SQLite uses one only when the query repeats its WHERE literally.
    op.create_index(
        "ix_deliveries_requested_order",
        "deliveries",
        ["status", "requested", "issue_id", "message_index", "chat_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_requested_order", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("requested")
