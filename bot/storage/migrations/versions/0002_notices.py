"""Notices: an admin's /broadcast text, delivered through the same outbox as issues.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    # Batch mode: SQLite rebuilds the table to change a column; PostgreSQL alters in place.
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("issue_id", existing_type=sa.String(32), nullable=True)
        batch.add_column(sa.Column("notice_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_deliveries_notice_id_notices", "notices", ["notice_id"], ["id"], ondelete="CASCADE"
        )
    op.create_index(
        "uq_deliveries_chat_notice",
        "deliveries",
        ["chat_id", "notice_id"],
        unique=True,
        sqlite_where=sa.text("notice_id IS NOT NULL"),
        postgresql_where=sa.text("notice_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_deliveries_chat_notice", table_name="deliveries")
    op.execute("DELETE FROM deliveries WHERE notice_id IS NOT NULL")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("fk_deliveries_notice_id_notices", type_="foreignkey")
        batch.drop_column("notice_id")
        batch.alter_column("issue_id", existing_type=sa.String(32), nullable=False)
    op.drop_table("notices")
