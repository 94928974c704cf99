"""Chats: who the bot talks to, and whether it still may."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete, select

from bot.storage.models import Chat, Delivery, Subscription, utcnow
from bot.storage.outbox import LONE_HEADER, drop_pending_for_chat


def has_chats(session: Session) -> bool:
    """Whether any chat has ever talked to the bot."""
    return session.exec(select(Chat.id).limit(1)).first() is not None


def get_chat(session: Session, chat_id: int) -> Chat | None:
    return session.get(Chat, chat_id)


def migration_reason(new_id: int) -> str:
    """Why a group's chat row went inactive: it became the supergroup `new_id`."""
    return f"migrated to {new_id}"


def migrated_into(session: Session, chat_id: int) -> int | None:
    """The group that became the supergroup `chat_id`, if the bot knew it."""
    statement = select(Chat.id).where(col(Chat.inactive_reason) == migration_reason(chat_id))
    return session.exec(statement).first()


def upsert_chat(
    session: Session,
    chat_id: int,
    *,
    chat_type: str,
    title: str | None = None,
    language_code: str | None = None,
    now: datetime | None = None,
) -> Chat:
    """Create the chat or refresh its details; a None language keeps the stored one.

    This does not reactivate an inactive chat: only an explicit /start does (reactivate_chat).
    """
    now = now or utcnow()
    chat = session.get(Chat, chat_id)
    if chat is None:
        chat = Chat(id=chat_id, type=chat_type, created_at=now)
    chat.type = chat_type
    chat.title = title
    if language_code is not None:
        chat.language_code = language_code
    chat.updated_at = now
    session.add(chat)
    session.flush()
    return chat


def deactivate_chat(
    session: Session, chat_id: int, reason: str, *, now: datetime | None = None
) -> int:
    """Mark the chat inactive with `reason` and drop its pending deliveries; returns how many.

    Subscriptions are kept, so /start brings the chat back as it was.
    """
    chat = session.get(Chat, chat_id)
    if chat is None:
        return 0
    chat.active = False
    chat.inactive_reason = reason
    chat.updated_at = now or utcnow()
    session.add(chat)
    session.flush()
    return drop_pending_for_chat(session, chat_id, reason)


def reactivate_chat(session: Session, chat_id: int, *, now: datetime | None = None) -> bool:
    """Make the chat active again; True when it had been inactive."""
    chat = session.get(Chat, chat_id)
    if chat is None or chat.active:
        return False
    chat.active = True
    chat.inactive_reason = None
    chat.updated_at = now or utcnow()
    session.add(chat)
    session.flush()
    return True


def migrate_chat(
    session: Session, old_id: int, new_id: int, *, now: datetime | None = None
) -> Chat:
    """A group became the supergroup `new_id`: move its subscriptions and deliveries there.

    Every delivery moves, sent ones too, so that enqueueing the same issue again for the new id
    does not resend what the group already got. Pending ones are due at once under the new id.
    The old chat stays, inactive, with the reason.
    """
    now = now or utcnow()
    old = session.get(Chat, old_id)
    new = session.get(Chat, new_id)
    if new is None:
        new = Chat(
            id=new_id,
            type="supergroup",
            title=old.title if old else None,
            language_code=old.language_code if old else None,
            created_at=now,
            updated_at=now,
        )
        session.add(new)
        session.flush()
    if old is None:
        return new

    have = set(session.exec(select(Subscription.keyword).where(Subscription.chat_id == new_id)))
    for sub in session.exec(select(Subscription).where(Subscription.chat_id == old_id)).all():
        if sub.keyword in have:
            session.delete(sub)
        else:
            sub.chat_id = new_id
            session.add(sub)

    taken = set(
        session.exec(
            select(Delivery.issue_id, Delivery.notice_id, Delivery.message_index).where(
                Delivery.chat_id == new_id
            )
        ).all()
    )
    moving = session.exec(select(Delivery).where(col(Delivery.chat_id) == old_id)).all()
    for delivery in moving:
        if (delivery.issue_id, delivery.notice_id, delivery.message_index) in taken:
            session.delete(delivery)
            continue
        delivery.chat_id = new_id
        delivery.not_before = None  # the failed send is retried at once in the new chat
        session.add(delivery)
    session.flush()
    # A keyword header whose items the supergroup had already came over alone.
    session.exec(delete(Delivery).where(col(Delivery.chat_id) == new_id, LONE_HEADER))

    new.active = True
    new.inactive_reason = None
    new.updated_at = now
    old.active = False
    old.inactive_reason = migration_reason(new_id)
    old.updated_at = now
    session.add_all([new, old])
    session.flush()
    return new
