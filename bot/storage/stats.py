"""Counts for the admin's /stats."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.storage.models import Chat, DeliveryStatus, IssueRecord, Subscription
from bot.storage.outbox import outbox_counts


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


def stats(session: Session) -> Stats:
    chats = session.exec(select(func.count()).select_from(Chat)).one()
    active = session.exec(select(func.count()).select_from(Chat).where(col(Chat.active))).one()
    subscribers = session.exec(
        select(func.count(func.distinct(Subscription.chat_id)))
        .join(Chat, col(Chat.id) == col(Subscription.chat_id))
        .where(col(Chat.active))
    ).one()
    issues = session.exec(select(func.count()).select_from(IssueRecord)).one()
    outbox = outbox_counts(session)
    return Stats(
        chats=chats,
        active_chats=active,
        subscribers=subscribers,
        issues=issues,
        deliveries_sent=outbox[DeliveryStatus.SENT],
        deliveries_pending=outbox[DeliveryStatus.PENDING],
        deliveries_failed=outbox[DeliveryStatus.FAILED],
        deliveries_dropped=outbox[DeliveryStatus.DROPPED],
    )
