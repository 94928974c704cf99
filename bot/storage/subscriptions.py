"""Subscriptions: everything (keyword NULL) or keywords, and who gets which item."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, select

from bot.storage.issues import items_of
from bot.storage.models import (
    HEADER_INDEX,
    Chat,
    Delivery,
    DeliveryStatus,
    Subscription,
    utcnow,
)
from bot.storage.outbox import LONE_HEADER, drop_pending
from bot.storage.text import fold, without_invisible

MAX_KEYWORD_LENGTH = 64  # also the column width


class Matchable(Protocol):
    """Anything with an item's words: bot.content.types.Item or a stored ItemRecord."""

    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def body_text(self) -> str: ...


def keyword_key(keyword: str) -> str:
    """The form a keyword is stored and matched in (`GPT`, `gpt` and `ＧＰＴ` are one)."""
    return fold(keyword).strip()


def normalize_keyword(keyword: str) -> str:
    """The stored form of a keyword; ValueError when it is empty or too long."""
    folded = keyword_key(keyword)
    if not folded:
        raise ValueError("empty keyword")
    if len(folded) > MAX_KEYWORD_LENGTH:
        raise ValueError(f"keyword longer than {MAX_KEYWORD_LENGTH} characters")
    return folded


def subscribe(session: Session, chat_id: int, keywords: Iterable[str] = ()) -> list[str | None]:
    """Subscribe the chat to everything (no keywords) or to `keywords`; returns what was added,
    as the reader wrote it (keywords match folded: `GPT` and `gpt` are one keyword).

    The two modes exclude each other, as a reader expects: following keywords replaces
    "everything", and subscribing to everything drops the keywords. None stands for everything.
    Raises ValueError for an empty or too long keyword, before changing anything.
    The chat must exist (upsert_chat first): subscriptions reference it.
    """
    labels: dict[str, str] = {}
    for keyword in keywords:
        labels.setdefault(normalize_keyword(keyword), _label(keyword))
    wanted = list(labels)
    current = set(subscriptions_of(session, chat_id))
    if not wanted:
        session.exec(
            delete(Subscription).where(
                col(Subscription.chat_id) == chat_id, col(Subscription.keyword).is_not(None)
            )
        )
        added: list[str | None] = [] if None in current else [None]
    else:
        session.exec(
            delete(Subscription).where(
                col(Subscription.chat_id) == chat_id, col(Subscription.keyword).is_(None)
            )
        )
        added = [k for k in wanted if k not in current]
        for keyword in current.intersection(wanted):  # followed since before labels existed
            session.exec(
                update(Subscription)
                .where(
                    col(Subscription.chat_id) == chat_id,
                    col(Subscription.keyword) == keyword,
                    col(Subscription.label).is_(None),
                )
                .values(label=_stored_label(labels[keyword]))
            )
    if added:
        rows = [
            {
                "chat_id": chat_id,
                "keyword": k,
                "label": _stored_label(labels[k]) if k else None,
                "created_at": utcnow(),
            }
            for k in added
        ]
        # A twin request (a double tap, another instance) may have added the same row since
        # it was read: then it stands, and this one is not an error.
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.exec(insert(Subscription).values(rows).on_conflict_do_nothing())
    session.flush()
    return [labels[k] if k else None for k in added]


def _label(keyword: str) -> str:
    """The keyword as the reader wrote it, composed (NFC) and without invisible characters."""
    return unicodedata.normalize("NFC", without_invisible(keyword)).strip()


def _stored_label(label: str) -> str | None:
    # Never cut: a shortened label would show another keyword than the one matched. Too long
    # for its column (decomposed accents fold shorter), it is shown folded instead.
    return label if len(label) <= MAX_KEYWORD_LENGTH else None


def unsubscribe(session: Session, chat_id: int, keyword: str | None = None) -> int:
    """Drop one keyword, or with None every subscription of the chat; returns rows removed."""
    statement = delete(Subscription).where(col(Subscription.chat_id) == chat_id)
    if keyword is not None:
        statement = statement.where(col(Subscription.keyword) == keyword_key(keyword))
    removed: int = session.exec(statement).rowcount
    session.flush()
    return removed


def subscriptions_of(session: Session, chat_id: int) -> list[str | None]:
    """The chat's subscriptions: None (everything) first, then keywords alphabetically."""
    return [f.keyword for f in followed(session, chat_id)]


@dataclass(frozen=True)
class Followed:
    """One subscription of a chat: its row id (for buttons), the keyword as matched (None:
    everything) and as the reader wrote it."""

    id: int
    keyword: str | None
    label: str | None


def followed(session: Session, chat_id: int) -> list[Followed]:
    """The chat's subscriptions in `subscriptions_of` order."""
    rows = session.exec(
        select(Subscription.id, Subscription.keyword, Subscription.label).where(
            col(Subscription.chat_id) == chat_id
        )
    ).all()
    found = [Followed(row_id, keyword, label or keyword) for row_id, keyword, label in rows]
    return sorted(found, key=lambda f: (f.keyword is not None, f.keyword or ""))


def subscription_labels(session: Session, chat_id: int) -> list[str | None]:
    """`subscriptions_of` as the reader wrote the keywords, to show them."""
    return [f.label for f in followed(session, chat_id)]


def subscription_of(session: Session, chat_id: int, subscription_id: int) -> Followed | None:
    """The chat's subscription with that row id; None if it is gone (or another chat's)."""
    row = session.get(Subscription, subscription_id)
    if row is None or row.id is None or row.chat_id != chat_id:
        return None
    return Followed(row.id, row.keyword, row.label or row.keyword)


def audience_for_issue(
    session: Session, items: Sequence[Matchable]
) -> dict[int, frozenset[int] | None]:
    """Active subscribed chats → the item numbers they get (None: everything).

    Keyword chats with no matching item are left out. Matching is a substring test on the
    folded title and body, so Latin is case-insensitive and any Chinese substring matches.
    """
    audience = audience_of(session, items)
    reach: dict[int, frozenset[int] | None] = dict.fromkeys(audience.everything)
    reach.update((chat_id, match.numbers) for chat_id, match in audience.keywords.items())
    return reach


@dataclass(frozen=True)
class KeywordMatch:
    """What of some items a keyword chat gets, and why: the numbers of the items that mention
    its keywords, and those keywords as the reader wrote them, in the chat's order."""

    numbers: frozenset[int]
    labels: tuple[str, ...]
    # For each label, the numbers of the items its keyword brought.
    brought: tuple[frozenset[int], ...] = ()

    def labels_for(self, numbers: Collection[int]) -> tuple[str, ...]:
        """The labels of the keywords that brought any of `numbers`."""
        return tuple(
            label for label, its in zip(self.labels, self.brought, strict=True) if its & numbers
        )


class Audience(NamedTuple):
    """`audience_for_issue` with the reasons: the chats that get every item, and the keyword
    chats with what they get and which of their keywords brought it."""

    everything: frozenset[int]
    keywords: dict[int, KeywordMatch]


def audience_of(
    session: Session, items: Sequence[Matchable], *, chat_id: int | None = None
) -> Audience:
    """Who gets which of `items`, and why (see `audience_for_issue`); of one chat only, when
    `chat_id` is given."""
    only = [col(Subscription.chat_id) == chat_id] if chat_id is not None else []
    rows = session.exec(
        select(Subscription.chat_id, Subscription.keyword, Subscription.label)
        .join(Chat, col(Chat.id) == col(Subscription.chat_id))
        .where(col(Chat.active), *only)
    ).all()
    # Labels in `followed` order; sorted here, as a database's collation may differ.
    rows = sorted(rows, key=lambda row: (row[0], row[1] or ""))
    texts = _folded(items)
    everything = {chat_id for chat_id, keyword, _ in rows if keyword is None}
    numbers: dict[int, set[int]] = {}
    labels: dict[int, list[str]] = {}
    brought: dict[int, list[frozenset[int]]] = {}
    for chat_id, keyword, label in rows:
        if keyword is None or chat_id in everything:
            continue
        if matching := _matching(keyword, texts):
            numbers.setdefault(chat_id, set()).update(matching)
            labels.setdefault(chat_id, []).append(label or keyword)
            brought.setdefault(chat_id, []).append(frozenset(matching))
    matches = {
        chat_id: KeywordMatch(
            frozenset(numbers[chat_id]), tuple(labels[chat_id]), tuple(brought[chat_id])
        )
        for chat_id in numbers
    }
    return Audience(frozenset(everything), matches)


def _folded(items: Sequence[Matchable]) -> list[tuple[int, str]]:
    return [(item.number, fold(f"{item.title}\n{item.body_text}")) for item in items]


def _matching(keyword: str, texts: Sequence[tuple[int, str]]) -> set[int]:
    return {number for number, text in texts if keyword in text}


def drop_deliveries_not_followed(session: Session, chat_id: int, reason: str) -> int:
    """After the chat's subscription narrowed (a keyword dropped, keywords instead of
    everything), give up the broadcast messages still queued for it that it no longer
    follows, with `reason`; returns how many. What the chat asked for (/issue, /latest) stays,
    and so do notices while it follows anything."""
    keywords = subscriptions_of(session, chat_id)
    if None in keywords:
        return 0
    queued = session.exec(
        select(Delivery.id, Delivery.issue_id, Delivery.item_number).where(
            col(Delivery.chat_id) == chat_id,
            col(Delivery.status) == DeliveryStatus.PENDING.value,
            col(Delivery.message_index) != HEADER_INDEX,  # goes with what it introduces
            ~col(Delivery.requested),
        )
    ).all()
    followed: dict[str, set[int]] = {}
    for issue_id in {issue_id for _, issue_id, _ in queued if issue_id is not None}:
        texts = _folded(items_of(session, issue_id))
        followed[issue_id] = {
            n for keyword in keywords if keyword for n in _matching(keyword, texts)
        }
    unwanted = [
        delivery_id
        for delivery_id, issue_id, number in queued
        if (issue_id is None and not keywords)  # a notice, and the chat follows nothing
        or (issue_id is not None and number not in followed[issue_id])
    ]
    if not unwanted:
        return 0
    dropped = drop_pending(session, reason, col(Delivery.id).in_(unwanted))
    return dropped + drop_pending(session, reason, col(Delivery.chat_id) == chat_id, LONE_HEADER)


def subscribers_for_item(session: Session, item: Matchable) -> set[int]:
    """Active chats that should get `item`: subscribed to everything or to a matching keyword."""
    return set(audience_for_issue(session, [item]))


def subscribed_chats(session: Session) -> list[int]:
    """Active chats with any subscription (everything or keywords): who gets a notice."""
    statement = (
        select(Subscription.chat_id)
        .join(Chat, col(Chat.id) == col(Subscription.chat_id))
        .where(col(Chat.active))
        .distinct()
    )
    return sorted(session.exec(statement).all())
