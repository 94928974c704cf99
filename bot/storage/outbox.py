"""The outbox: deliveries enqueued once per (chat, issue, message) and drained by the sender."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.storage.models import Delivery, DeliveryStatus, utcnow

DEFAULT_LEASE = timedelta(seconds=60)
# Rows per INSERT: 9 parameters each stays under SQLite's historic 999-parameter limit.
_CHUNK = 100
_UNIQUE_KEY = ["chat_id", "issue_id", "message_index"]
_NOTICE_KEY = ["chat_id", "notice_id"]
_NOTICE_ROWS = col(Delivery.notice_id).is_not(None)


def enqueue_deliveries(
    session: Session,
    issue_id: str,
    targets: Mapping[int, Iterable[int]],
    *,
    item_numbers: Sequence[int | None] = (),
    now: datetime | None = None,
) -> int:
    """Queue message indices of `issue_id` per chat; returns how many rows were new.

    `item_numbers[i]` is the item of message i (None for the header); missing means None.
    A (chat, issue, message) already queued, sent or dropped is left alone, so enqueueing
    twice (a second scan, a restart mid-broadcast) never sends anything twice.
    """
    now = now or utcnow()
    rows = [
        {
            "chat_id": chat_id,
            "issue_id": issue_id,
            "message_index": index,
            "item_number": item_numbers[index] if index < len(item_numbers) else None,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
        }
        for chat_id, indices in targets.items()
        for index in sorted(set(indices))
    ]
    inserted = 0
    for start in range(0, len(rows), _CHUNK):
        statement = _insert_ignoring_duplicates(session, rows[start : start + _CHUNK])
        # Count RETURNING rows: rowcount of an upsert is -1 on some driver versions.
        inserted += len(session.exec(statement.returning(col(Delivery.id))).all())
    return inserted


def _insert_ignoring_duplicates(
    session: Session,
    rows: list[dict[str, Any]],
    *,
    key: list[str] = _UNIQUE_KEY,
    where: Any = None,
) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return (
            sqlite.insert(Delivery)
            .values(rows)
            .on_conflict_do_nothing(index_elements=key, index_where=where)
        )
    if dialect == "postgresql":
        return (
            postgresql.insert(Delivery)
            .values(rows)
            .on_conflict_do_nothing(index_elements=key, index_where=where)
        )
    raise NotImplementedError(f"the outbox supports SQLite and PostgreSQL, not {dialect}")


def claim_pending(
    session: Session,
    limit: int = 100,
    *,
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
) -> list[Delivery]:
    """Claim the next message of up to `limit` chats, interleaved: oldest issue, first message.

    Only each chat's first pending message is eligible, so a chat's messages go out in order
    and one slow chat never holds back the others. A claimed row is leased: it is not handed
    out again for `lease` unless marked first, so a sender that dies mid-send leaves its rows
    to be claimed again after the lease. `attempts` counts claims.
    """
    now = now or utcnow()
    # Notices (no issue) sort first: an admin's announcement overtakes a long broadcast.
    issue_order = func.coalesce(col(Delivery.issue_id), "")
    ranked = (
        select(
            col(Delivery.id).label("id"),
            col(Delivery.chat_id).label("chat_id"),
            issue_order.label("issue_order"),
            col(Delivery.message_index).label("message_index"),
            col(Delivery.not_before).label("not_before"),
            func.row_number()
            .over(
                partition_by=col(Delivery.chat_id),
                order_by=(issue_order, col(Delivery.notice_id), col(Delivery.message_index)),
            )
            .label("position"),
        )
        .where(col(Delivery.status) == DeliveryStatus.PENDING.value)
        .subquery()
    )
    heads = (
        select(ranked.c.id)
        .where(
            ranked.c.position == 1,
            or_(ranked.c.not_before.is_(None), ranked.c.not_before <= now),
        )
        .order_by(ranked.c.issue_order, ranked.c.message_index, ranked.c.chat_id)
        .limit(limit)
    )
    claimed = list(
        session.exec(
            select(Delivery)
            .where(col(Delivery.id).in_(heads))
            .order_by(issue_order, col(Delivery.message_index), col(Delivery.chat_id))
            # PostgreSQL: concurrent claimers skip each other's rows instead of waiting.
            .with_for_update(skip_locked=True)
        )
    )
    for delivery in claimed:
        delivery.not_before = now + lease
        delivery.attempts += 1
        session.add(delivery)
    session.flush()
    return claimed


def mark_sent(session: Session, delivery_id: int, *, now: datetime | None = None) -> None:
    _set(session, delivery_id, status=DeliveryStatus.SENT, sent_at=now or utcnow(), not_before=None)


def mark_failed(
    session: Session,
    delivery_id: int,
    error: str,
    *,
    retry_at: datetime | None = None,
) -> None:
    """Record `error`; with `retry_at` the row stays pending until then, else it ends as failed."""
    if retry_at is not None:
        _set(
            session,
            delivery_id,
            status=DeliveryStatus.PENDING,
            last_error=error,
            not_before=retry_at,
        )
    else:
        _set(session, delivery_id, status=DeliveryStatus.FAILED, last_error=error, not_before=None)


def mark_uncertain(session: Session, delivery_id: int, error: str) -> None:
    """The send's outcome is unknown (it timed out once sent): settle it, never resend it."""
    _set(session, delivery_id, status=DeliveryStatus.UNCERTAIN, last_error=error, not_before=None)


def drop_pending_for_chat(session: Session, chat_id: int, reason: str) -> int:
    """Give up every pending delivery of the chat with `reason`; returns how many."""
    result = session.exec(
        update(Delivery)
        .where(
            col(Delivery.chat_id) == chat_id,
            col(Delivery.status) == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.DROPPED.value, last_error=reason, not_before=None)
    )
    session.flush()
    return int(result.rowcount)


def outbox_counts(session: Session, issue_id: str | None = None) -> dict[DeliveryStatus, int]:
    """Deliveries by status, for one issue or all: broadcast progress and /stats."""
    statement = select(Delivery.status, func.count()).group_by(col(Delivery.status))
    if issue_id is not None:
        statement = statement.where(col(Delivery.issue_id) == issue_id)
    counts = dict.fromkeys(DeliveryStatus, 0)
    for status, count in session.exec(statement).all():
        counts[DeliveryStatus(status)] = count
    return counts


def _set(session: Session, delivery_id: int, **values: Any) -> None:
    values = {k: v.value if isinstance(v, DeliveryStatus) else v for k, v in values.items()}
    result = session.exec(update(Delivery).where(col(Delivery.id) == delivery_id).values(**values))
    if result.rowcount == 0:
        raise KeyError(delivery_id)
    session.flush()


def enqueue_notice(session: Session, notice_id: int, chat_ids: Iterable[int]) -> int:
    """Queue a notice for each chat (once per chat); returns how many rows were new."""
    now = utcnow()
    rows = [
        {
            "chat_id": chat_id,
            "notice_id": notice_id,
            "message_index": 0,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
        }
        for chat_id in sorted(set(chat_ids))
    ]
    inserted = 0
    for start in range(0, len(rows), _CHUNK):
        statement = _insert_ignoring_duplicates(
            session, rows[start : start + _CHUNK], key=_NOTICE_KEY, where=_NOTICE_ROWS
        )
        inserted += len(session.exec(statement.returning(col(Delivery.id))).all())
    return inserted


def requeue_deliveries(
    session: Session,
    chat_id: int,
    issue_id: str,
    indices: Iterable[int],
    *,
    item_numbers: Sequence[int | None] = (),
) -> int:
    """Queue messages for one chat again, even those sent before (a reader asked for them).

    Rows already pending are left as they are (they are on their way); sent, failed and
    dropped ones become pending again. Returns how many messages are now queued.
    """
    wanted = sorted(set(indices))
    enqueue_deliveries(session, issue_id, {chat_id: wanted}, item_numbers=item_numbers)
    session.exec(
        update(Delivery)
        .where(
            col(Delivery.chat_id) == chat_id,
            col(Delivery.issue_id) == issue_id,
            col(Delivery.message_index).in_(wanted),
            col(Delivery.status) != DeliveryStatus.PENDING.value,
        )
        .values(
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            last_error=None,
            not_before=None,
            sent_at=None,
        )
    )
    session.flush()
    return len(wanted)


def release_leases(session: Session) -> int:
    """Make every pending delivery claimable now, so a sender resumes what a stopped one had
    claimed without waiting for the leases to run out. Only the elected sender may call this
    (bot.storage.leader): it alone claims, so no lease it releases belongs to a live sender."""
    result = session.exec(
        update(Delivery)
        .where(
            col(Delivery.status) == DeliveryStatus.PENDING.value,
            col(Delivery.not_before).is_not(None),
        )
        .values(not_before=None)
    )
    session.flush()
    return int(result.rowcount)


def release_lease(session: Session, delivery_id: int, not_before: datetime | None) -> None:
    """Hand a claimed delivery back unsent, to be claimed again from `not_before` on."""
    _set(session, delivery_id, not_before=not_before, attempts=Delivery.attempts - 1)
