"""Inline keyboards and their callback data: pure functions, no Telegram calls.

Callback data is at most 64 bytes, so it names things compactly:

    i:<issue_id>             send an issue           (i:20210305)
    t:<issue_id>:<number>    send one item           (t:20210305:3)
    s:<page>:<query ref>     show a page of a search (s:2:GPT 机器人)
    l:<page>                 show a page of the issue list (l:1)
    a  /  a:l                subscribe to every issue, from the greeting / the subscriptions
    u:<id>:<check>           drop one subscription, from the subscriptions (u:17:9f86d081)
    n:<id>  /  n:<id>:x      send an admin's drafted notice / drop the draft (n:4, n:4:x)

A search query is carried in the data itself when it fits, so paging works after a restart
and on old messages; a longer one is referred to by a digest (`#…`) and kept in the database
(`bot.storage.queries`), so its buttons work after a restart too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content.messages import issue_date
from bot.handlers.texts import Texts

MAX_CALLBACK_BYTES = 64
MAX_BUTTON_TITLE = 48  # characters of an item title on a button; the full title is in the text
DIGEST_PREFIX = "#"
MAX_NUMBER = 2**31 - 1  # an INTEGER column's largest value, on PostgreSQL too


@dataclass(frozen=True)
class SendIssue:
    issue_id: str


@dataclass(frozen=True)
class SendItem:
    issue_id: str
    number: int


@dataclass(frozen=True)
class ShowSearchPage:
    page: int  # 0-based
    query_ref: str  # the query itself, or DIGEST_PREFIX + a digest of it


@dataclass(frozen=True)
class ShowIssuesPage:
    page: int  # 0-based, newest issues first


@dataclass(frozen=True)
class SubscribeAll:
    in_list: bool  # pressed under the subscriptions (shown again) rather than the greeting


@dataclass(frozen=True)
class DropSubscription:
    subscription_id: int
    # A digest of the keyword: SQLite hands a deleted row's id to the next keyword, and an
    # old button must not drop that one.
    check: str


@dataclass(frozen=True)
class ConfirmNotice:
    notice_id: int
    send: bool  # False: the draft is dropped instead


def keyword_check(keyword: str | None) -> str:
    """What a drop button carries to name its keyword (None: every issue) besides the id."""
    return hashlib.sha256((keyword or "").encode()).hexdigest()[:8]


Callback = (
    SendIssue
    | SendItem
    | ShowSearchPage
    | ShowIssuesPage
    | SubscribeAll
    | DropSubscription
    | ConfirmNotice
)


@dataclass(frozen=True)
class IssueEntry:
    issue_id: str
    items: int
    waiting: bool = False  # stored, not published yet (PUBLISH_CRON): only admins see it


@dataclass(frozen=True)
class FollowedEntry:
    subscription_id: int
    keyword: str | None  # as items are matched; None: every issue
    label: str | None  # as the reader wrote it


@dataclass(frozen=True)
class ResultEntry:
    position: int  # 1-based over all pages
    issue_id: str
    number: int
    title: str


def encode(callback: Callback) -> str:
    match callback:
        case SendIssue(issue_id):
            data = f"i:{issue_id}"
        case SendItem(issue_id, number):
            data = f"t:{issue_id}:{number}"
        case ShowSearchPage(page, query_ref):
            data = f"s:{page}:{query_ref}"
        case ShowIssuesPage(page):
            data = f"l:{page}"
        case SubscribeAll(in_list):
            data = "a:l" if in_list else "a"
        case DropSubscription(subscription_id, check):
            data = f"u:{subscription_id}:{check}"
        case ConfirmNotice(notice_id, send):
            data = f"n:{notice_id}" if send else f"n:{notice_id}:x"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Callback | None:
    """The callback a button carries, or None for data this bot never made (or an old format)."""
    kind, _, rest = (data or "").partition(":")
    if kind == "i" and rest:
        return SendIssue(rest)
    if kind == "t":
        issue_id, _, number = rest.rpartition(":")
        if issue_id and (item := _number(number)) is not None:
            return SendItem(issue_id, item)
    if kind == "s":
        page, _, ref = rest.partition(":")
        if (page_number := _number(page)) is not None and ref:
            return ShowSearchPage(page_number, ref)
    if kind == "l" and (page_number := _number(rest)) is not None:
        return ShowIssuesPage(page_number)
    if kind == "a" and rest in ("", "l"):
        return SubscribeAll(in_list=rest == "l")
    if kind == "u":
        subscription_id, _, check = rest.partition(":")
        if (subscription := _number(subscription_id)) is not None and check:
            return DropSubscription(subscription, check)
    if kind == "n":
        notice_id, _, drop = rest.partition(":")
        if (notice := _number(notice_id)) is not None and drop in ("", "x"):
            return ConfirmNotice(notice, send=not drop)
    return None


def _number(text: str) -> int | None:
    """A number this bot could have put in a button, else None. A modified client can send any
    data: str.isdigit() takes "²", which int() refuses, and the ids and pages are database
    INTEGERs, which a number past MAX_NUMBER overflows (a traceback, not "no longer works")."""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_NUMBER else None


def query_ref(query: str, pages: int) -> str:
    """How a search's buttons refer to `query`: the query itself when every page's data fits,
    else a digest under which `search_page` stores it (see `is_digest`)."""
    widest = f"s:{max(pages - 1, 0)}:{query}"
    if not query.startswith(DIGEST_PREFIX) and len(widest.encode()) <= MAX_CALLBACK_BYTES:
        return query
    return DIGEST_PREFIX + hashlib.sha256(query.encode()).hexdigest()[:16]


def is_digest(ref: str) -> bool:
    return ref.startswith(DIGEST_PREFIX)


def issues_keyboard(
    t: Texts, issues: Sequence[IssueEntry], *, page: int = 0, pages: int = 1
) -> InlineKeyboardMarkup:
    """One button per issue (pressing it sends that issue to the chat), then ‹ previous /
    next › as needed (older issues are on later pages)."""
    rows = [
        [
            InlineKeyboardButton(
                t.issue_button.format(issue_id=entry.issue_id, items=entry.items),
                callback_data=encode(SendIssue(entry.issue_id)),
            )
        ]
        for entry in issues
    ]
    nav = _nav(t, page, pages, ShowIssuesPage)
    return InlineKeyboardMarkup([*rows, nav] if nav else rows)


def notice_keyboard(t: Texts, notice_id: int, chats: int) -> InlineKeyboardMarkup:
    """Under an admin's drafted notice: send it to `chats` chats, or drop it."""
    send = InlineKeyboardButton(
        t.broadcast_send_button.format(count=chats),
        callback_data=encode(ConfirmNotice(notice_id, send=True)),
    )
    drop = InlineKeyboardButton(
        t.broadcast_drop_button, callback_data=encode(ConfirmNotice(notice_id, send=False))
    )
    return InlineKeyboardMarkup([[send, drop]])


def greeting_keyboard(t: Texts) -> InlineKeyboardMarkup:
    """The greeting's one button, for a chat that follows nothing yet: subscribe."""
    button = InlineKeyboardButton(
        t.subscribe_button, callback_data=encode(SubscribeAll(in_list=False))
    )
    return InlineKeyboardMarkup([[button]])


def latest_keyboard(t: Texts, issue_id: str) -> InlineKeyboardMarkup:
    """For a reader who just subscribed: the latest issue now, rather than next week."""
    label = t.latest_button.format(date=issue_date(issue_id))
    button = InlineKeyboardButton(label, callback_data=encode(SendIssue(issue_id)))
    return InlineKeyboardMarkup([[button]])


def subscriptions_keyboard(t: Texts, followed: Sequence[FollowedEntry]) -> InlineKeyboardMarkup:
    """A button per subscription that drops it; with none, one that subscribes."""
    if not followed:
        subscribe = encode(SubscribeAll(in_list=True))
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(t.subscribe_button, callback_data=subscribe)]]
        )
    rows = [
        [
            InlineKeyboardButton(
                t.unsubscribe_button
                if entry.label is None
                else t.unfollow_button.format(keyword=shorten(entry.label, MAX_BUTTON_TITLE)),
                callback_data=encode(
                    DropSubscription(entry.subscription_id, keyword_check(entry.keyword))
                ),
            )
        ]
        for entry in followed
    ]
    return InlineKeyboardMarkup(rows)


def search_keyboard(
    t: Texts, results: Sequence[ResultEntry], *, page: int, pages: int, ref: str
) -> InlineKeyboardMarkup:
    """A button per result (sends the whole item), then ‹ previous / next › as needed."""
    rows = [
        [
            InlineKeyboardButton(
                f"{entry.position}. {shorten(entry.title, MAX_BUTTON_TITLE)}",
                callback_data=encode(SendItem(entry.issue_id, entry.number)),
            )
        ]
        for entry in results
    ]
    nav = _nav(t, page, pages, lambda to: ShowSearchPage(to, ref))
    return InlineKeyboardMarkup([*rows, nav] if nav else rows)


def _nav(
    t: Texts, page: int, pages: int, show: Callable[[int], Callback]
) -> list[InlineKeyboardButton]:
    """‹ previous / next › buttons, those that lead somewhere."""
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(t.previous, callback_data=encode(show(page - 1))))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton(t.next, callback_data=encode(show(page + 1))))
    return nav


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
