"""Reader commands about the archive: /latest, /issues, /issue ID, /search, and the one
handler of every inline button (those of the subscriptions go on to `user`, a drafted
notice's to `admin`).

An issue waiting for its PUBLISH_CRON time is not part of a reader's archive yet: none of these
shows it or sends it, except to an admin in a private chat (`published_only_for`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import storage
from bot.content.split import visible_text
from bot.delivery.broadcast import copy_on_its_way, request_for_chat
from bot.handlers import admin, keyboards, user
from bot.handlers.common import (
    published_only_for,
    register_chat,
    reply,
    services_of,
    show_in_place,
    texts_of,
)
from bot.handlers.keyboards import (
    ConfirmNotice,
    DropSubscription,
    IssueEntry,
    ResultEntry,
    SendIssue,
    SendItem,
    ShowIssuesPage,
    ShowSearchPage,
    SubscribeAll,
)
from bot.handlers.texts import Texts
from bot.handlers.views import (
    ISSUES_LISTED,
    MAX_SEARCH_CHARS,
    MAX_SEARCH_TERMS,
    PAGE_SIZE,
    clamp_page,
    command_argument,
    empty_period_text,
    issue_period,
    issues_text,
    mistyped_command,
    named_issues,
    normalize_issue_id,
    page_count,
    parse_terms,
    period_shown,
    period_text,
    quoted,
    repeat_refusal,
    search_text,
    several_issues_text,
    unknown_issue_text,
    usage_with_example,
)
from bot.storage import IssueRecord
from bot.storage.models import utcnow


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the latest issue, in full, to this chat only."""
    t = texts_of(update, context)
    services = services_of(context)
    with services.session() as session:
        chat_id = register_chat(session, update, reactivate=True)
        published_only = published_only_for(update, services)
        record = storage.latest_issue(session, published_only=published_only)
        refusal = _instead_of_sending(session, update, context, t, record) if record else None
    if record is None:
        await reply(update, t.no_issues)
    elif refusal:
        await reply(update, refusal)
    else:
        # The issue's own header message is the answer; an extra "sending…" would only cost
        # one of the few messages per second this chat may receive.
        services.request_messages(chat_id, record.id)


async def issues(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the issues, newest first, a page at a time, each with a button that sends it."""
    t = texts_of(update, context)
    services = services_of(context)
    published_only = published_only_for(update, services)
    with services.session() as session:
        register_chat(session, update)
        view = issues_page(session, t, 0, published_only=published_only)
    await reply(update, view.text, view.markup)


def issues_page(session: Session, t: Texts, page: int, *, published_only: bool) -> PageView:
    """One page of the issue list; a page past the end (the archive shrank) shows the last."""
    total = storage.count_issues(session, published_only=published_only)
    if not total:
        return PageView(t.no_issues, None, None)
    page = clamp_page(page, total, ISSUES_LISTED)
    records = storage.list_issues(
        session, ISSUES_LISTED, page * ISSUES_LISTED, published_only=published_only
    )
    entries = _entries(records)
    pages = page_count(total, ISSUES_LISTED)
    return PageView(
        issues_text(t, entries, page=page, pages=pages),
        keyboards.issues_keyboard(t, entries, page=page, pages=pages),
        None,
    )


async def issue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the issue named by its id (its date, e.g. 20210305) to this chat; for a year or
    a month (2021, 202103), send its only issue or list its issues; for several ids, offer
    them one at a time."""
    t = texts_of(update, context)
    message = update.effective_message
    argument = command_argument(message.text or "") if message else ""
    named = named_issues(argument)
    if len(named) == 1:  # one issue named twice (`20210305 20210305`) is that issue
        argument, named = named[0], []
    issue_id, period = normalize_issue_id(argument), issue_period(argument)
    services = services_of(context)
    published_only = published_only_for(update, services)
    with services.session() as session:
        chat_id = register_chat(session, update, reactivate=True)
        if named:  # a button for each issue named, rather than all of them at once
            visible = (_visible_issue(session, n, published_only) for n in named)
            found = [record for record in visible if record]
        elif period:
            found = storage.issues_in_period(session, period, published_only=published_only)
        else:
            record = _visible_issue(session, issue_id, published_only)
            found = [record] if record else []
        entries = _entries(found)
        ids = storage.issue_ids(session, published_only=published_only)
        only = found[0] if len(found) == 1 and not named else None
        refusal = _instead_of_sending(session, update, context, t, only) if only else None
    if named:
        text = several_issues_text(t, named, entries, ids)
        await reply(update, text, keyboards.issues_keyboard(t, entries) if entries else None)
    elif refusal:
        await reply(update, refusal)
    elif only:
        services.request_messages(chat_id, only.id)
    elif entries and period:
        shown = period_shown(period, entries)
        await reply(update, period_text(t, period, entries), keyboards.issues_keyboard(t, shown))
    elif period:
        await reply(update, empty_period_text(t, period, ids))
    elif issue_id:
        await reply(update, unknown_issue_text(t, issue_id, ids))
    else:
        await reply(update, usage_with_example(t.issue_usage, t, ids))


@dataclass(frozen=True)
class PageView:
    text: str
    markup: InlineKeyboardMarkup | None
    # How a search's buttons refer to its query; None for no results and for the issue list.
    ref: str | None


def search_page(
    session: Session, t: Texts, query: str, page: int, *, published_only: bool
) -> PageView:
    """One page of results for `query`; a page past the end shows the last one. A query too
    long for the page buttons is stored under the digest they carry instead."""
    words = parse_terms(query)

    def results(page: int) -> storage.SearchPage:
        return storage.search_items(
            session, words, PAGE_SIZE, page * PAGE_SIZE, published_only=published_only
        )

    result = results(page)
    if result.empty:
        return PageView(t.search_none.format(query=quoted(query)), None, None)
    if not result.items:  # the archive shrank since the buttons were made
        page = clamp_page(page, result.total)
        result = results(page)
    entries = [
        ResultEntry(page * PAGE_SIZE + i + 1, item.issue_id, item.number, item.title)
        for i, item in enumerate(result.items)
    ]
    pages = page_count(result.total)
    ref = keyboards.query_ref(query, pages)
    if keyboards.is_digest(ref):
        storage.remember_query(session, ref, query)
    return PageView(
        search_text(t, query, entries, total=result.total, page=page, exact=result.exact),
        keyboards.search_keyboard(t, entries, page=page, pages=pages, ref=ref),
        ref,
    )


def _instead_of_sending(
    session: Session,
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    t: Texts,
    issue: IssueRecord,
) -> str | None:
    """What to answer instead of sending this issue again now; None: send it. A copy part
    way here goes on, its rest flagged as asked for so it overtakes the broadcast (another
    copy would put a second header in the middle of it). A group that got it in full moments
    ago is pointed up to it; a reader's own chat gets it as often as asked, and the bot's
    admins anywhere."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return None
    if copy_on_its_way(session, chat.id, issue.id):
        request_for_chat(session, chat.id, issue.id, None)  # flags the rest, sends nothing new
        return t.issue_on_its_way.format(issue_id=html.escape(issue.id))
    if chat.type == ChatType.PRIVATE:
        return None
    if services_of(context).is_admin(user.id if user else None):
        return None
    posted_at = storage.issue_posted_at(session, chat.id, issue.id)
    return repeat_refusal(t, issue.id, posted_at, issue.updated_at, utcnow())


def _entries(records: Iterable[IssueRecord]) -> list[IssueEntry]:
    return [IssueEntry(r.id, r.item_count, waiting=r.published_at is None) for r in records]


def _visible_issue(session: Session, issue_id: str, published_only: bool) -> IssueRecord | None:
    record = storage.get_issue(session, issue_id)
    if record is None or (published_only and record.published_at is None):
        return None
    return record


async def search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Search the archive, newest first, a page of results at a time."""
    message = update.effective_message
    await _search(update, context, command_argument(message.text or "") if message else "")


async def text_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text in a private chat is a search: typing GPT is /search GPT. A command typed
    with a full-width slash (a Chinese input method's) is pointed to instead."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    if command := mistyped_command(text):
        t = texts_of(update, context)
        await reply(update, t.mistyped_command.format(command=html.escape(command)))
        return
    await _search(update, context, text, typed=True)


async def _search(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *, typed: bool = False
) -> None:
    t = texts_of(update, context)
    query = " ".join(text.split())
    terms = parse_terms(query)
    if not terms:
        await reply(update, t.search_usage)
        return
    # Plain text too long for a search, or finding nothing, may not have been meant as one.
    hint = f"\n{t.text_search_hint}" if typed else ""
    if len(terms) > MAX_SEARCH_TERMS or len(query) > MAX_SEARCH_CHARS:
        too_long = t.search_too_long.format(terms=MAX_SEARCH_TERMS, chars=MAX_SEARCH_CHARS)
        await reply(update, too_long + hint)
        return
    services = services_of(context)
    published_only = published_only_for(update, services)
    with services.session() as session:
        register_chat(session, update)
        view = search_page(session, t, query, 0, published_only=published_only)
    await reply(update, view.text + (hint if view.ref is None else ""), view.markup)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Act on an inline button: send an issue or an item, turn a page of a search or of the
    issue list, change the chat's subscriptions, or send an admin's drafted notice."""
    query = update.callback_query
    assert query is not None  # registered for callback queries only
    t = texts_of(update, context)
    match keyboards.decode(query.data):
        case SendIssue(issue_id):
            await query.answer(await _send(update, context, t, issue_id, None))
        case SendItem(issue_id, number):
            await query.answer(await _send(update, context, t, issue_id, number))
        case ShowSearchPage(page, ref):
            await _turn_page(update, context, t, page, ref)
        case ShowIssuesPage(page):
            await _turn_issues_page(update, context, t, page)
        case SubscribeAll(in_list):
            await user.subscribe_pressed(update, context, in_list=in_list)
        case DropSubscription(subscription_id, check):
            await user.drop_pressed(update, context, subscription_id, check)
        case ConfirmNotice():
            await admin.confirm_pressed(update, context)
        case None:
            await query.answer(t.stale_button)


async def _send(
    update: Update, context: ContextTypes.DEFAULT_TYPE, t: Texts, issue_id: str, number: int | None
) -> str:
    """Queue an issue or one item for the button's chat; returns the toast to show."""
    services = services_of(context)
    published_only = published_only_for(update, services)
    with services.session() as session:
        chat_id = register_chat(session, update, reactivate=True)
        record = _visible_issue(session, issue_id, published_only)
        if record is None:
            return t.unknown_issue_button
        if number is not None and storage.get_item(session, issue_id, number) is None:
            return t.unknown_item_button
        if number is None and (refusal := _instead_of_sending(session, update, context, t, record)):
            return visible_text(refusal)  # a toast shows plain text
    try:
        services.request_messages(chat_id, issue_id, None if number is None else [number])
    except KeyError:
        return t.unknown_issue_button
    return t.sending_issue.format(issue_id=issue_id) if number is None else t.sending_item


async def _turn_page(
    update: Update, context: ContextTypes.DEFAULT_TYPE, t: Texts, page: int, ref: str
) -> None:
    query = update.callback_query
    assert query is not None  # called for a button only
    services = services_of(context)
    published_only = published_only_for(update, services)
    with services.session() as session:
        text_query = storage.recall_query(session, ref) if keyboards.is_digest(ref) else ref
        view = None
        if text_query is not None:
            view = search_page(session, t, text_query, page, published_only=published_only)
    if view is None:  # a digest of a query forgotten after long disuse (QUERY_KEPT_FOR)
        await query.answer(t.search_expired, show_alert=True)
        return
    await query.answer()
    await show_in_place(query, view.text, view.markup)


async def _turn_issues_page(
    update: Update, context: ContextTypes.DEFAULT_TYPE, t: Texts, page: int
) -> None:
    query = update.callback_query
    assert query is not None  # called for a button only
    services = services_of(context)
    published_only = published_only_for(update, services)
    with services.session() as session:
        view = issues_page(session, t, page, published_only=published_only)
    await query.answer()
    await show_in_place(query, view.text, view.markup)
