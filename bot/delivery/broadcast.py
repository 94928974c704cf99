"""Turn an issue into outbox rows: who gets which of its messages."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import storage
from bot.content.messages import issue_messages, keyword_header, whole_issue
from bot.content.parse import parse_issue
from bot.content.types import MessageKind, OutgoingMessage
from bot.storage.models import Delivery, IssueRecord, NoticeStatus, utcnow

# A draft's buttons stop working after this: the number of chats they name has gone stale.
DRAFT_KEPT_FOR = timedelta(days=1)
# Issues and notices a MessageBook remembers; a broadcast touches one or two at a time.
BOOK_SIZE = 64
# Reads of a batch's places and messages before giving up on an issue that keeps changing.
_ATTEMPTS = 3
_ID_CHUNK = 1000  # ids per IN (...), well under SQLite's parameter limit


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
    """Queue an issue for every active subscribed chat (keyword chats: matching items only,
    after a header of their own saying why they came) and mark it published; returns how
    many deliveries are new."""
    record = storage.get_issue(session, issue_id)
    if record is None:
        raise KeyError(issue_id)
    messages = messages_of_text(record.raw_text, record.file_name)
    items = storage.items_of(session, issue_id)
    audience = storage.audience_of(session, items)
    targets: dict[int, Sequence[int]] = dict.fromkeys(audience.everything, range(len(messages)))
    for chat_id, match in audience.keywords.items():
        targets[chat_id] = indices_for(messages, match.numbers)
    queued = storage.enqueue_deliveries(
        session,
        issue_id,
        targets,
        item_numbers=[m.item_number for m in messages],
        headers=_keyword_headers(record, len(items), audience.keywords),
    )
    # A chat that had the items already (a second /push) gets no header on its own.
    queued -= storage.delete_lone_headers(session, issue_id)
    storage.mark_published(session, issue_id)
    return queued


def _keyword_headers(
    issue: IssueRecord, total: int, matches: Mapping[int, storage.KeywordMatch]
) -> dict[int, str]:
    """Each keyword chat's header (Telegram HTML) for the items of `issue` it follows."""
    return {
        chat_id: keyword_header(issue.id, issue.title, len(match.numbers), total, match.labels).text
        for chat_id, match in matches.items()
    }


def broadcast_new_items(
    session: Session,
    issue_id: str,
    messages: Sequence[OutgoingMessage],
    numbers: Collection[int],
    receiving: Collection[int],
) -> int:
    """Queue items just added to an issue (their numbers are new) for the `receiving` chats,
    those still due some of its messages, that its broadcast would send them to; returns how
    many deliveries are new. Chats the issue has fully reached are not sent it again. A
    keyword chat whose header is gone (the items it introduced left the issue) gets one."""
    items = storage.items_of(session, issue_id)
    audience = storage.audience_of(session, items)
    added = set(numbers)
    targets = {c: indices_for(messages, added) for c in audience.everything if c in receiving}
    following: dict[int, storage.KeywordMatch] = {}
    for chat_id, match in audience.keywords.items():
        if chat_id in receiving and (new := match.numbers & added):
            targets[chat_id] = indices_for(messages, new)
            following[chat_id] = match
    record = storage.get_issue(session, issue_id)
    return storage.enqueue_deliveries(
        session,
        issue_id,
        targets,
        item_numbers=[m.item_number for m in messages],
        headers=_keyword_headers(record, len(items), following) if record else {},
    )


def reword_keyword_headers(session: Session, issue_id: str, *, chat_id: int | None = None) -> int:
    """Have each keyword header of the issue still to be sent (or the one chat's) say again
    what follows it: how many of the items queued after it mention the chat's keywords, and
    which keywords brought them. After an edit items may have come or gone; after a changed
    subscription, keywords. A header left introducing none of them (only items the reader
    asked for besides) goes. Returns how many headers changed or went."""
    pending = storage.pending_headers(session, issue_id, chat_id=chat_id)
    record = storage.get_issue(session, issue_id)
    if not pending or record is None:
        return 0
    items = storage.items_of(session, issue_id)
    matches = storage.audience_of(session, items, chat_id=chat_id).keywords
    texts: dict[int, str] = {}
    gone: list[int] = []
    for chat, (old, queued) in pending.items():
        match = matches.get(chat)
        introduced = queued & match.numbers if match is not None else set()
        if match is None or not introduced:
            gone.append(chat)
            continue
        labels = match.labels_for(introduced)
        text = keyword_header(issue_id, record.title, len(introduced), len(items), labels).text
        if text != old:
            texts[chat] = text
    reworded = storage.reword_headers(session, issue_id, texts)
    return reworded + storage.delete_headers(session, issue_id, gone)


def follow_changed_subscription(session: Session, chat_id: int, reason: str) -> int:
    """After the chat's subscription changed, drop the broadcast messages still queued for it
    that it no longer follows (with `reason`: it narrowed), and have its keyword headers still
    to be sent say what is left; returns how many deliveries were dropped."""
    dropped = storage.drop_deliveries_not_followed(session, chat_id, reason)
    for issue_id in storage.issues_with_pending_header(session, chat_id):
        reword_keyword_headers(session, issue_id, chat_id=chat_id)
    return dropped


def copy_on_its_way(session: Session, chat_id: int, issue_id: str) -> bool:
    """Whether the issue in full is part way to the chat: some of it arrived and the rest is
    queued in order, so asking for it again goes on with that copy (request_for_chat)."""
    messages = issue_messages_of(session, issue_id)
    return storage.resumes_copy(session, chat_id, issue_id, range(len(messages)))


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
    notice_id = _store_notice(session, text, NoticeStatus.SENT)
    return storage.enqueue_notice(session, notice_id, storage.subscribed_chats(session))


def draft_notice(session: Session, text: str) -> int:
    """Store a notice (Telegram HTML) that goes nowhere until confirmed; returns its id."""
    return _store_notice(session, text, NoticeStatus.DRAFT)


def _store_notice(session: Session, text: str, status: NoticeStatus) -> int:
    notice = storage.Notice(text=text, status=status.value)
    session.add(notice)
    session.flush()
    assert notice.id is not None
    return notice.id


@dataclass(frozen=True)
class NoticeOutcome:
    """What confirming a drafted notice did: queued it for `queued` chats (0 when dropped), or
    found it `gone` (dropped, too old or never made) or `sent_before`."""

    queued: int = 0
    gone: bool = False
    sent_before: bool = False


def confirm_notice(
    session: Session, notice_id: int, *, send: bool, now: datetime | None = None
) -> NoticeOutcome:
    """Send a draft to every active subscribed chat, or drop it. The draft is claimed with one
    conditional UPDATE, so however often and wherever it is confirmed (two taps, two
    instances), it is sent or dropped once."""
    cutoff = (now or utcnow()) - DRAFT_KEPT_FOR
    notices = storage.Notice
    claimed = session.exec(
        update(notices)
        .where(
            col(notices.id) == notice_id,
            col(notices.status) == NoticeStatus.DRAFT.value,
            col(notices.created_at) >= cutoff,
        )
        .values(status=(NoticeStatus.SENT if send else NoticeStatus.DROPPED).value)
    ).rowcount
    if claimed and send:
        chats = storage.subscribed_chats(session)
        return NoticeOutcome(queued=storage.enqueue_notice(session, notice_id, chats))
    if claimed:
        return NoticeOutcome()
    status = session.exec(select(notices.status).where(col(notices.id) == notice_id)).first()
    return NoticeOutcome(sent_before=status == NoticeStatus.SENT, gone=status != NoticeStatus.SENT)


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
        for _ in range(_ATTEMPTS):
            places = _current_places(session, deliveries)
            if self._load_issues(session, {issue: digest for issue, _, digest in places.values()}):
                break  # else the issue changed once more between the two reads
        self._load_notices(session, {d.notice_id for d in deliveries} - {None})
        return [self._message(d, places.get(d.id or 0)) for d in deliveries]

    def _load_issues(self, session: Session, hashes: dict[str, str]) -> bool:
        """Hold the messages of each issue in the version `hashes` names; False when an issue
        has moved on to another version meanwhile."""
        if len(self._issues) + len(hashes) > BOOK_SIZE:
            self._issues.clear()
        current = True
        for issue_id, content_hash in hashes.items():
            known = self._issues.get(issue_id)
            if known is None or known[0] != content_hash:
                record = session.get(IssueRecord, issue_id, populate_existing=True)
                if record is not None:
                    messages = messages_of_text(record.raw_text, record.file_name)
                    self._issues[issue_id] = (record.content_hash, messages)
                    current = current and record.content_hash == content_hash
        return current

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

    def _message(
        self, delivery: storage.Delivery, place: tuple[str, int, str] | None
    ) -> OutgoingMessage | None:
        if delivery.notice_id is not None:
            text = self._notices.get(delivery.notice_id)
            return None if text is None else OutgoingMessage(kind=MessageKind.TEXT, text=text)
        if place is None:  # the row is gone: its message left the issue
            return None
        issue_id, index, content_hash = place
        if delivery.text is not None:  # the chat's own header (keyword_header)
            button = whole_issue(issue_id)
            return OutgoingMessage(kind=MessageKind.TEXT, text=delivery.text, buttons=(button,))
        known = self._issues.get(issue_id)
        if known is None or known[0] != content_hash:
            return None
        messages = known[1]
        return messages[index] if 0 <= index < len(messages) else None


def _current_places(
    session: Session, deliveries: Sequence[storage.Delivery]
) -> dict[int, tuple[str, int, str]]:
    """Per issue delivery, its issue, its place and that issue's version, read in one query:
    when an issue file changes, its rows move with their messages (storage.move_deliveries),
    so the place a claim read earlier may belong to the old version."""
    ids = [d.id for d in deliveries if d.notice_id is None and d.id is not None]
    places: dict[int, tuple[str, int, str]] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        rows = session.exec(
            select(Delivery.id, IssueRecord.id, Delivery.message_index, IssueRecord.content_hash)
            .join(IssueRecord, col(IssueRecord.id) == col(Delivery.issue_id))
            .where(col(Delivery.id).in_(ids[start : start + _ID_CHUNK]))
        ).all()
        places.update((row_id, (issue, index, digest)) for row_id, issue, index, digest in rows)
    return places
