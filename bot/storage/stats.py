"""Counts for the admin's /stats."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.storage.models import Chat, Delivery, DeliveryStatus, IssueRecord, Subscription


@dataclass(frozen=True)
class Stats:
    chats: int  # every chat the bot has seen
    active_chats: int
    subscribers: int  # active chats with at least one subscription
    issues: int
    deliveries_sent: int
    deliveries_pending: int
    deliveries_failed: int
    deliveries_dropped: int
    deliveries_uncertain: int = 0  # timed out once sent: probably delivered, not resent
    # (reason, count) of failed and uncertain deliveries, commonest first
    failure_reasons: tuple[tuple[str, int], ...] = ()
    # Issues still on their way: (issue id, messages sent, messages pending), oldest first
    under_way: tuple[tuple[str, int, int], ...] = ()
    keyword_subscribers: int = 0  # of `subscribers`, those following keywords only
    # (keyword as a reader wrote it, active chats following it), most followed first: what
    # the readers care about, for the editor
    top_keywords: tuple[tuple[str, int], ...] = ()


TOP_REASONS = 5
TOP_KEYWORDS = 10
# Subscriptions of active chats (a correlated test: no join to repeat in every query).
_ACTIVE = (
    select(Chat.id)
    .where(col(Chat.id) == col(Subscription.chat_id), col(Chat.active))
    .correlate(Subscription)
    .exists(),
)


def stats(session: Session) -> Stats:
    chats = session.exec(select(func.count()).select_from(Chat)).one()
    active = session.exec(select(func.count()).select_from(Chat).where(col(Chat.active))).one()
    subscribers = session.exec(
        select(func.count(func.distinct(Subscription.chat_id))).where(*_ACTIVE)
    ).one()
    issues = session.exec(select(func.count()).select_from(IssueRecord)).one()
    by_issue = session.exec(
        select(Delivery.issue_id, Delivery.status, func.count()).group_by(
            col(Delivery.issue_id), col(Delivery.status)
        )
    ).all()
    outbox = dict.fromkeys(DeliveryStatus, 0)
    per_issue: dict[str, dict[DeliveryStatus, int]] = {}
    for issue_id, status, count in by_issue:
        outbox[DeliveryStatus(status)] += count
        if issue_id is not None:
            counts = per_issue.setdefault(issue_id, dict.fromkeys(DeliveryStatus, 0))
            counts[DeliveryStatus(status)] = count
    under_way = tuple(
        (issue_id, counts[DeliveryStatus.SENT], counts[DeliveryStatus.PENDING])
        for issue_id, counts in sorted(per_issue.items())
        if counts[DeliveryStatus.PENDING]
    )
    return Stats(
        chats=chats,
        active_chats=active,
        subscribers=subscribers,
        issues=issues,
        deliveries_sent=outbox[DeliveryStatus.SENT],
        deliveries_pending=outbox[DeliveryStatus.PENDING],
        deliveries_failed=outbox[DeliveryStatus.FAILED],
        deliveries_dropped=outbox[DeliveryStatus.DROPPED],
        deliveries_uncertain=outbox[DeliveryStatus.UNCERTAIN],
        failure_reasons=failure_reasons(session),
        under_way=under_way,
        keyword_subscribers=session.exec(
            select(func.count(func.distinct(Subscription.chat_id))).where(
                *_ACTIVE, col(Subscription.keyword).is_not(None)
            )
        ).one(),
        top_keywords=top_keywords(session),
    )


def top_keywords(session: Session, limit: int = TOP_KEYWORDS) -> tuple[tuple[str, int], ...]:
    """The keywords most active chats follow, each shown as one of its readers wrote it."""
    rows = session.exec(
        select(
            Subscription.keyword,
            func.min(func.coalesce(Subscription.label, Subscription.keyword)),
            func.count(),
        )
        .where(*_ACTIVE, col(Subscription.keyword).is_not(None))
        .group_by(col(Subscription.keyword))
    ).all()
    # Ties in code point order here: a database's collation may sort Chinese otherwise.
    ranked = sorted(rows, key=lambda row: (-row[2], row[0] or ""))
    return tuple((label, n) for _, label, n in ranked[:limit])


def failure_reasons(session: Session, limit: int = TOP_REASONS) -> tuple[tuple[str, int], ...]:
    """Why deliveries failed or became uncertain, commonest first: what an operator acts on."""
    count = func.count().label("count")
    rows = session.exec(
        select(col(Delivery.last_error), count)
        .where(
            col(Delivery.status).in_([DeliveryStatus.FAILED.value, DeliveryStatus.UNCERTAIN.value])
        )
        .group_by(col(Delivery.last_error))
        .order_by(count.desc(), col(Delivery.last_error))
        .limit(limit)
    ).all()
    return tuple((reason or "unknown", n) for reason, n in rows)
