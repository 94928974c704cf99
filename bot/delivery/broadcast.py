"""Turn an issue into outbox rows: who gets which of its messages."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import lru_cache

from sqlmodel import Session, col, select

from bot import storage
from bot.content.messages import issue_messages
from bot.content.parse import parse_issue
from bot.content.types import MessageKind, OutgoingMessage
from bot.storage.models import IssueRecord

# Issues and notices a MessageBook remembers; a broadcast touches one or two at a time.
BOOK_SIZE = 64


@lru_cache(maxsize=64)
def messages_of_text(raw_text: str, file_name: str) -> tuple[OutgoingMessage, ...]:
    """An issue's messages, rebuilt from its stored text and file name (whose date names the
    issue when the intro has none); deterministic, so a restart sends the very same parts.
    Cached: the sender asks for every delivery."""
    return tuple(issue_messages(parse_issue(raw_text, file_name=file_name)))


def issue_messages_of(session: Session, issue_id: str) -> tuple[OutgoingMessage, ...]:
    record = storage.get_issue(session, issue_id)
    if record is None:
        raise KeyError(issue_id)
    return messages_of_text(record.raw_text, record.file_name)


def indices_for(
    messages: Sequence[OutgoingMessage], item_numbers: Collection[int] | None
) -> list[int]:
    """Which messages a chat gets: all of them, or only those of the given items."""
    if item_numbers is None:
        return list(range(len(messages)))
    return [i for i, m in enumerate(messages) if m.item_number in item_numbers]


def broadcast_issue(session: Session, issue_id: str) -> int:
    """Queue an issue for every active subscribed chat (keyword chats: matching items only)
    and mark it published; returns how many deliveries are new."""
    messages = issue_messages_of(session, issue_id)
    audience = storage.audience_for_issue(session, storage.items_of(session, issue_id))
    targets = {chat_id: indices_for(messages, numbers) for chat_id, numbers in audience.items()}
    queued = storage.enqueue_deliveries(
        session, issue_id, targets, item_numbers=[m.item_number for m in messages]
    )
    storage.mark_published(session, issue_id)
    return queued


def request_for_chat(
    session: Session, chat_id: int, issue_id: str, item_numbers: Collection[int] | None
) -> int:
    """Queue an issue, or some of its items, for one chat that asked for it."""
    messages = issue_messages_of(session, issue_id)
    return storage.requeue_deliveries(
        session,
        chat_id,
        issue_id,
        indices_for(messages, item_numbers),
        item_numbers=[m.item_number for m in messages],
    )


def broadcast_notice(session: Session, text: str) -> int:
    """Store a notice (Telegram HTML) and queue it for every active subscribed chat."""
    notice = storage.Notice(text=text)
    session.add(notice)
    session.flush()
    assert notice.id is not None
    return storage.enqueue_notice(session, notice.id, storage.subscribed_chats(session))


class MessageBook:
    """What each claimed delivery sends, kept in memory per issue and per notice.

    The sender asks for a whole claimed batch at once: one small query for the batch's issue
    hashes (an issue file may change mid-broadcast) and the issue text only when its hash is
    new, instead of loading a 20 KB issue row per message.
    """

    def __init__(self) -> None:
        self._issues: dict[str, tuple[str, tuple[OutgoingMessage, ...]]] = {}
        self._notices: dict[int, str | None] = {}

    def messages(
        self, session: Session, deliveries: Sequence[storage.Delivery]
    ) -> list[OutgoingMessage | None]:
        """The message of each delivery; None where it no longer exists (the issue file lost
        a message, or the notice is gone)."""
        self._load_issues(session, {d.issue_id for d in deliveries if d.notice_id is None})
        self._load_notices(session, {d.notice_id for d in deliveries} - {None})
        return [self._message(d) for d in deliveries]

    def _load_issues(self, session: Session, issue_ids: set[str | None]) -> None:
        wanted = {i for i in issue_ids if i is not None}
        if not wanted:
            return
        hashes = dict(
            session.exec(
                select(IssueRecord.id, IssueRecord.content_hash).where(
                    col(IssueRecord.id).in_(wanted)
                )
            ).all()
        )
        if len(self._issues) + len(wanted) > BOOK_SIZE:
            self._issues.clear()
        for issue_id in wanted:
            content_hash = hashes.get(issue_id)
            known = self._issues.get(issue_id)
            if content_hash is None:
                self._issues.pop(issue_id, None)
            elif known is None or known[0] != content_hash:
                record = session.get(IssueRecord, issue_id)
                if record is not None:
                    messages = messages_of_text(record.raw_text, record.file_name)
                    self._issues[issue_id] = (record.content_hash, messages)

    def _load_notices(self, session: Session, notice_ids: set[int | None]) -> None:
        missing = {i for i in notice_ids if i is not None and i not in self._notices}
        if not missing:
            return
        if len(self._notices) + len(missing) > BOOK_SIZE:
            self._notices.clear()
        found = dict(
            session.exec(
                select(storage.Notice.id, storage.Notice.text).where(
                    col(storage.Notice.id).in_(missing)
                )
            ).all()
        )
        for notice_id in missing:
            self._notices[notice_id] = found.get(notice_id)  # notices never change

    def _message(self, delivery: storage.Delivery) -> OutgoingMessage | None:
        if delivery.notice_id is not None:
            text = self._notices.get(delivery.notice_id)
            return None if text is None else OutgoingMessage(kind=MessageKind.TEXT, text=text)
        known = self._issues.get(delivery.issue_id or "")
        if known is None:
            return None
        messages = known[1]
        return messages[delivery.message_index] if delivery.message_index < len(messages) else None
