"""The tables. Alembic migrations (migrations/versions/) create them; nothing calls create_all.

Column types are spelled out (sa_type) so that the hand-written migrations match the models
exactly; a test compares the two. Telegram ids need BIGINT: PostgreSQL's INTEGER is 32-bit and
supergroup ids look like -1001234567890.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones and hands back naive values; we always store UTC, so attach it.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)  # stored as text; keep one format for ordering
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# An outbox of tens of thousands of readers outgrows 32-bit ids; SQLite only autoincrements a
# column declared INTEGER, hence the variant.
BIG_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


# The place of a keyword reader's header among an issue's deliveries: before message 0.
HEADER_INDEX = -1


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after errors; last_error says why
    DROPPED = "dropped"  # not sent on purpose (chat blocked the bot, left, …); last_error says why
    # The send timed out after the request went out: Telegram may well have delivered it, and
    # a resend would then be a duplicate, so it is not resent (see the README's Production).
    # A plain string column, so this needed no migration.
    UNCERTAIN = "uncertain"


class IssueRecord(SQLModel, table=True):
    __tablename__ = "issues"

    id: str = Field(primary_key=True, sa_type=sa.String(32))  # the issue date, "20210305"
    content_hash: str = Field(sa_type=sa.String(128))
    file_name: str = Field(sa_type=sa.String(255))
    # The decoded file: messages are rebuilt from it, so a sender restart sends the same parts.
    raw_text: str = Field(sa_type=sa.Text)
    title: str = Field(default="", sa_type=sa.String(255))
    item_count: int = Field(default=0, sa_type=sa.Integer)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ItemRecord(SQLModel, table=True):
    __tablename__ = "items"

    issue_id: str = Field(
        primary_key=True,
        sa_type=sa.String(32),
        sa_column_args=[sa.ForeignKey("issues.id", ondelete="CASCADE")],
    )
    number: int = Field(
        primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False}
    )
    title: str = Field(sa_type=sa.Text)
    url: str | None = Field(default=None, sa_type=sa.Text)
    source: str = Field(default="", sa_type=sa.String(255))
    body_text: str = Field(default="", sa_type=sa.Text)
    # casefold(title + body_text), so LIKE matches case-insensitively on every backend
    # (SQLite's lower() only folds ASCII).
    search_text: str = Field(default="", sa_type=sa.Text)
    # What the search index holds: bot.storage.search.search_grams(search_text).
    search_grams: str = Field(default="", sa_type=sa.Text)


class Chat(SQLModel, table=True):
    __tablename__ = "chats"

    id: int = Field(
        primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    type: str = Field(sa_type=sa.String(16))  # private, group, supergroup, channel
    title: str | None = Field(default=None, sa_type=sa.String(255))
    language_code: str | None = Field(default=None, sa_type=sa.String(16))
    active: bool = Field(default=True, sa_type=sa.Boolean)
    inactive_reason: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Subscription(SQLModel, table=True):
    """keyword NULL: every item; otherwise only items whose text contains the keyword."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.UniqueConstraint("chat_id", "keyword", name="uq_subscriptions_chat_keyword"),
        # NULLs are distinct in a unique constraint, so "everything" needs its own index.
        sa.Index(
            "uq_subscriptions_chat_all",
            "chat_id",
            unique=True,
            sqlite_where=sa.text("keyword IS NULL"),
            postgresql_where=sa.text("keyword IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.Integer)
    chat_id: int = Field(
        sa_type=sa.BigInteger,
        sa_column_args=[sa.ForeignKey("chats.id", ondelete="CASCADE")],
    )
    keyword: str | None = Field(default=None, sa_type=sa.String(64))  # stored casefolded
    # The keyword as the reader first wrote it ("GPT"), to show back; NULL: show `keyword`.
    label: str | None = Field(default=None, sa_type=sa.String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Delivery(SQLModel, table=True):
    """The outbox: one row per (chat, issue, message), unique, so enqueueing is idempotent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint(
            "chat_id", "issue_id", "message_index", name="uq_deliveries_chat_issue_message"
        ),
        # the sender's query: pending rows by chat, in order (which row is a chat's head)
        sa.Index("ix_deliveries_status_chat", "status", "chat_id", "issue_id", "message_index"),
        # ...and pending rows in claim order, so a claim stops after its batch of heads
        sa.Index("ix_deliveries_pending_order", "status", "issue_id", "message_index", "chat_id"),
        # ...the same with the rows readers asked for first, claimed before a broadcast's
        # (migration 0007; not partial: SQLite would not match `requested = ?` to its WHERE)
        sa.Index(
            "ix_deliveries_requested_order",
            "status",
            "requested",
            "issue_id",
            "message_index",
            "chat_id",
        ),
        # A notice row has no issue: its own key keeps it once per chat.
        sa.Index(
            "uq_deliveries_chat_notice",
            "chat_id",
            "notice_id",
            unique=True,
            sqlite_where=sa.text("notice_id IS NOT NULL"),
            postgresql_where=sa.text("notice_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_SERIAL)
    chat_id: int = Field(
        sa_type=sa.BigInteger,
        sa_column_args=[sa.ForeignKey("chats.id", ondelete="CASCADE")],
    )
    # What to send: message `message_index` of issue `issue_id`, or else notice `notice_id`.
    issue_id: str | None = Field(
        default=None,
        sa_type=sa.String(32),
        sa_column_args=[sa.ForeignKey("issues.id", ondelete="CASCADE")],
    )
    notice_id: int | None = Field(
        default=None,
        sa_type=sa.Integer,
        sa_column_args=[sa.ForeignKey("notices.id", ondelete="CASCADE")],
    )
    message_index: int = Field(sa_type=sa.Integer)  # position in the issue's message list
    # A message of this chat's own, sent instead of one of the issue's: the header of a keyword
    # reader's share of an issue, at HEADER_INDEX (before the issue's messages). Telegram HTML.
    text: str | None = Field(default=None, sa_type=sa.Text)
    item_number: int | None = Field(default=None, sa_type=sa.Integer)  # None: header, notes, links
    status: str = Field(default=DeliveryStatus.PENDING.value, sa_type=sa.String(16))
    attempts: int = Field(default=0, sa_type=sa.Integer)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    # Not to be claimed before this time: a claim's lease, or a retry after 429/5xx.
    not_before: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # A reader asked for it (/latest, /issue, a button): it goes before broadcast rows, so the
    # answer does not wait behind every subscriber's copy of a big broadcast.
    requested: bool = Field(
        default=False, sa_type=sa.Boolean, sa_column_kwargs={"server_default": sa.false()}
    )


class NoticeStatus(StrEnum):
    DRAFT = "draft"  # shown to its admin, waiting for a tap
    SENT = "sent"  # queued for every subscribed chat
    DROPPED = "dropped"  # the admin decided against it; kept, so its id is never reused


class Notice(SQLModel, table=True):
    """An admin's /broadcast: one text for every subscribed chat."""

    __tablename__ = "notices"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.Integer)
    text: str = Field(sa_type=sa.Text)  # Telegram HTML
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    status: str = Field(
        default=NoticeStatus.SENT.value,
        sa_type=sa.String(16),
        sa_column_kwargs={"server_default": NoticeStatus.SENT.value},
    )


class BadFile(SQLModel, table=True):
    """A file that failed to decode or parse; skipped until its content hash changes."""

    __tablename__ = "bad_files"

    file_name: str = Field(primary_key=True, sa_type=sa.String(255))
    content_hash: str = Field(sa_type=sa.String(128))
    reason: str = Field(sa_type=sa.Text)
    # Its problem code and details as JSON (bot.content.problems), so that a later scan can
    # word it in the editor's language too; None for failures without a code.
    problem: str | None = Field(default=None, sa_type=sa.Text)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class SearchQuery(SQLModel, table=True):
    """A /search query too long for its page buttons' callback data (64 bytes), kept under
    the digest the buttons carry instead, so they still turn pages after a restart."""

    __tablename__ = "search_queries"

    digest: str = Field(primary_key=True, sa_type=sa.String(64))
    query: str = Field(sa_type=sa.Text)
    used_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
