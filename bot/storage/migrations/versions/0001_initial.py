"""Initial schema: issues, items, chats, subscriptions, deliveries (the outbox), bad_files.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types: a migration must not change when the models do.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "issues",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
    )
    op.create_table(
        "items",
        sa.Column(
            "issue_id",
            sa.String(32),
            sa.ForeignKey("issues.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
    )
    op.create_table(
        "chats",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("title", sa.String(255), nullable=True),
        sa.Column("language_code", sa.String(16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("inactive_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("keyword", sa.String(64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("chat_id", "keyword", name="uq_subscriptions_chat_keyword"),
    )
    op.create_index(
        "uq_subscriptions_chat_all",
        "subscriptions",
        ["chat_id"],
        unique=True,
        sqlite_where=sa.text("keyword IS NULL"),
        postgresql_where=sa.text("keyword IS NULL"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", BIG_SERIAL, primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "issue_id",
            sa.String(32),
            sa.ForeignKey("issues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("message_index", sa.Integer(), nullable=False),
        sa.Column("item_number", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("not_before", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint(
            "chat_id", "issue_id", "message_index", name="uq_deliveries_chat_issue_message"
        ),
    )
    op.create_index(
        "ix_deliveries_status_chat",
        "deliveries",
        ["status", "chat_id", "issue_id", "message_index"],
    )
    op.create_table(
        "bad_files",
        sa.Column("file_name", sa.String(255), primary_key=True),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bad_files")
    op.drop_index("ix_deliveries_status_chat", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("uq_subscriptions_chat_all", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("chats")
    op.drop_table("items")
    op.drop_table("issues")
