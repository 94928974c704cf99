"""Storage: SQLModel tables, engine, Alembic migrations and queries.

Queries are plain functions taking a Session. They flush but never commit: the caller owns
the transaction (`with Session(engine) as s: ...; s.commit()`), so one command or one send is
one unit of work.
"""

from bot.storage.chats import (
    deactivate_chat,
    get_chat,
    has_chats,
    migrate_chat,
    reactivate_chat,
    upsert_chat,
)
from bot.storage.engine import DatabaseUrlError, StorageError, describe, make_engine
from bot.storage.files import (
    bad_files,
    forget_bad_file,
    is_known_bad,
    record_bad_file,
    stored_hashes,
)
from bot.storage.issues import (
    UpsertResult,
    get_issue,
    get_item,
    issue_for_update,
    items_of,
    latest_issue,
    list_issues,
    mark_published,
    unpublished_issues,
    upsert_issue,
)
from bot.storage.leader import SenderLock, sender_lock
from bot.storage.migrate import current_revision, head_revision, migrate
from bot.storage.models import (
    BadFile,
    Chat,
    Delivery,
    DeliveryStatus,
    IssueRecord,
    ItemRecord,
    Notice,
    Subscription,
)
from bot.storage.outbox import (
    chats_receiving,
    claim_pending,
    drop_pending_for_chat,
    enqueue_deliveries,
    enqueue_notice,
    mark_failed,
    mark_sent,
    mark_uncertain,
    move_deliveries,
    outbox_counts,
    release_lease,
    release_leases,
    requeue_deliveries,
)
from bot.storage.queries import recall_query, remember_query
from bot.storage.search import SearchPage, search_items
from bot.storage.stats import Stats, stats
from bot.storage.subscriptions import (
    MAX_KEYWORD_LENGTH,
    audience_for_issue,
    normalize_keyword,
    subscribe,
    subscribed_chats,
    subscribers_for_item,
    subscriptions_of,
    unsubscribe,
)

__all__ = [
    "MAX_KEYWORD_LENGTH",
    "BadFile",
    "Chat",
    "DatabaseUrlError",
    "Delivery",
    "DeliveryStatus",
    "IssueRecord",
    "ItemRecord",
    "Notice",
    "SearchPage",
    "SenderLock",
    "Stats",
    "StorageError",
    "Subscription",
    "UpsertResult",
    "audience_for_issue",
    "bad_files",
    "chats_receiving",
    "claim_pending",
    "current_revision",
    "deactivate_chat",
    "describe",
    "drop_pending_for_chat",
    "enqueue_deliveries",
    "enqueue_notice",
    "forget_bad_file",
    "get_chat",
    "get_issue",
    "get_item",
    "has_chats",
    "head_revision",
    "is_known_bad",
    "issue_for_update",
    "items_of",
    "latest_issue",
    "list_issues",
    "make_engine",
    "mark_failed",
    "mark_published",
    "mark_sent",
    "mark_uncertain",
    "migrate",
    "migrate_chat",
    "move_deliveries",
    "normalize_keyword",
    "outbox_counts",
    "reactivate_chat",
    "recall_query",
    "record_bad_file",
    "release_lease",
    "release_leases",
    "remember_query",
    "requeue_deliveries",
    "search_items",
    "sender_lock",
    "stats",
    "stored_hashes",
    "subscribe",
    "subscribed_chats",
    "subscribers_for_item",
    "subscriptions_of",
    "unpublished_issues",
    "unsubscribe",
    "upsert_chat",
    "upsert_issue",
]
