"""Search queries too long for a button, kept in the database rather than in memory, so their
page buttons survive a restart (SPEC §5: nothing needed across a restart only in memory).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_queries",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_search_queries_used_at", "search_queries", ["used_at"])


def downgrade() -> None:
    op.drop_index("ix_search_queries_used_at", table_name="search_queries")
    op.drop_table("search_queries")
