"""Editor commands: /stats, /reload, /push ID, /broadcast text (drafted, then confirmed with a
button), and issue files sent as documents.

Access is checked in one place: every handler here is wrapped in `admin_only` (by
`admin_handlers`, or where it is defined for a button), so none can run without the check
and none repeats it.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Awaitable, Callable
from pathlib import PurePath

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot import storage
from bot.content.problems import FileProblem
from bot.content.split import TEXT_LIMIT, split_html, visible_length, visible_text
from bot.delivery.send import ChatGone, classify_error
from bot.handlers import keyboards
from bot.handlers.common import reply, reply_in_parts, services_of, show_in_place, texts_of
from bot.handlers.texts import Texts, texts_for
from bot.handlers.views import (
    command_argument,
    is_news,
    named_issues,
    normalize_issue_id,
    problem_text,
    push_text,
    scan_news,
    scan_text,
    stats_text,
    unknown_issue_text,
    upload_text,
    usage_with_example,
)
from bot.ingest import MAX_ISSUE_BYTES, ScanReport
from bot.logs import error_summary
from bot.services import Services
from bot.storage.text import without_invisible

log = logging.getLogger(__name__)

UPLOAD_SUFFIX = ".md"  # what Services.accept_upload takes

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def _refusal(t: Texts) -> str:
    return t.admin_only


def admin_only(handler: Callback, refusal: Callable[[Texts], str] = _refusal) -> Callback:
    """Run `handler` for users in ADMIN_IDS; anyone else gets a polite refusal, nothing more."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if not services_of(context).is_admin(user.id if user else None):
            log.info(
                "admin action refused handler=%s user=%s chat=%s",
                handler.__name__,
                user.id if user else None,
                update.effective_chat.id if update.effective_chat else None,
            )
            text = refusal(texts_of(update, context))
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
            else:
                await reply(update, text)
            return
        await handler(update, context)

    return guarded


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show counts of chats, subscribers, issues and deliveries."""
    with services_of(context).session() as session:
        counts = storage.stats(session)
    await reply(update, stats_text(texts_of(update, context), counts))


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Scan ISSUES_DIR now and report what changed."""
    t = texts_of(update, context)
    try:
        report = await services_of(context).scan()
    except OSError as error:  # e.g. ISSUES_DIR is missing: the editor can fix that
        await reply(update, t.reload_failed.format(reason=html.escape(str(error))))
        return
    await reply_in_parts(update, t.reload_done.format(summary=scan_text(t, report)))


async def push(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver an issue (or each of several: `/push 20210305 20210219`) to every subscriber
    now."""
    t = texts_of(update, context)
    message = update.effective_message
    argument = command_argument(message.text or "") if message else ""
    wanted = named_issues(argument) or [normalize_issue_id(argument)]
    services = services_of(context)
    answers = [_push_one(services, t, issue_id) for issue_id in wanted if issue_id]
    if answers:  # one line per issue named: long only when many are, but then in parts
        await reply_in_parts(update, "\n".join(answers))
        return
    with services.session() as session:
        ids = storage.issue_ids(session)
    await reply(update, usage_with_example(t.push_usage, t, ids))


def _push_one(services: Services, t: Texts, issue_id: str) -> str:
    """Push one issue; what /push answers for it."""
    try:
        queued = services.push(issue_id)
    except KeyError:  # unknown id (or a year or month, which no push takes)
        with services.session() as session:
            return unknown_issue_text(t, issue_id, storage.issue_ids(session))
    pending = 0
    if not queued:  # nothing new to queue: every chat has it, or it is still on its way
        with services.session() as session:
            pending = storage.pending_count(session, issue_id)
    return push_text(t, issue_id, queued=queued, pending=pending)


async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Draft a notice of the text after the command, formatting kept: show it as subscribers
    will see it, with buttons to send it to them all or not (a typo reaches nobody)."""
    t = texts_of(update, context)
    message = update.effective_message
    # text_html turns the admin's own bold, links… into Telegram HTML and escapes the rest.
    notice = command_argument(message.text_html) if message and message.text else ""
    if not without_invisible(visible_text(notice)).strip():  # nothing a reader would see
        await reply(update, t.broadcast_usage)
        return
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:  # a draft is for its admin's eyes only
        await reply(update, t.broadcast_private_only)
        return
    # Measured as every message the bot sends is (UTF-16 units, SPEC §2): counted in code
    # points, 2100 emoji passed here and then the echo below was refused.
    length = visible_length(notice)
    if length > TEXT_LIMIT:  # Telegram would refuse it in every chat
        await reply(update, t.broadcast_too_long.format(length=length, limit=TEXT_LIMIT))
        return
    notice_id, chats = services_of(context).draft_notice(notice)
    if notice_id is None:
        await reply(update, t.broadcast_nobody)
        return
    log.info("notice drafted notice=%d chats=%d", notice_id, chats)
    await reply(update, notice)
    await reply(update, t.broadcast_draft, keyboards.notice_keyboard(t, notice_id, chats))


async def _confirm_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under a drafted notice: send it to every subscribed chat, or drop it; the
    question then says what happened, without its buttons."""
    query = update.callback_query
    assert query is not None  # called for a button only
    pressed = keyboards.decode(query.data)
    assert isinstance(pressed, keyboards.ConfirmNotice)  # archive.button dispatches on it
    t = texts_of(update, context)
    outcome = services_of(context).confirm_notice(pressed.notice_id, send=pressed.send)
    if outcome.sent_before:  # a second tap: the first one's answer, with its count, stays
        await query.answer(t.broadcast_sent_before)
        return
    await query.answer()
    if outcome.gone:
        await show_in_place(query, t.broadcast_gone)
        return
    if pressed.send:
        log.info("notice broadcast notice=%d chats=%d", pressed.notice_id, outcome.queued)
        await show_in_place(query, t.broadcast_done.format(count=outcome.queued))
    else:
        log.info("notice dropped notice=%d", pressed.notice_id)
        await show_in_place(query, t.broadcast_dropped)


confirm_pressed = admin_only(_confirm_pressed)


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take an issue file sent as a document: validate it, store it and deliver it."""
    t = texts_of(update, context)
    message = update.effective_message
    document = message.document if message else None
    if document is None:
        return
    name = PurePath(document.file_name or "").name
    if PurePath(name).suffix.lower() != UPLOAD_SUFFIX:
        await reply(update, t.upload_wrong_type.format(suffix=UPLOAD_SUFFIX))
        return
    if document.file_size and document.file_size > MAX_ISSUE_BYTES:
        # Checked before downloading: Telegram lets bots fetch up to 20 MB, an issue is ~20 KB.
        limit = MAX_ISSUE_BYTES
        await reply(update, t.upload_too_large.format(size=document.file_size, limit=limit))
        return
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as error:
        await reply(update, t.upload_rejected.format(reason=html.escape(str(error))))
        return
    try:
        report = await services_of(context).accept_upload(name, data)
    except FileProblem as error:
        reason = problem_text(t, error.problem, str(error))
        await reply(update, t.upload_rejected.format(reason=reason))
        return
    log.info("issue uploaded file=%s bytes=%d", name, len(data))
    # The file is saved and queued by now: a reply too long for Telegram must not tell the
    # admin it failed (upload_text is short, and cut into parts should it still be long).
    summary = upload_text(t, report)
    await reply_in_parts(update, t.upload_done.format(file_name=html.escape(name), summary=summary))


async def tell_editors(bot: Bot, services: Services, report: ScanReport) -> int:
    """Tell each admin with a private chat with the bot what a scan nobody asked for did (a
    new or edited issue, a file that went bad, an issue published on schedule), in their
    language; returns how many were told. An editor the bot cannot reach is logged, not
    retried (the next news comes with the next scan); one who blocked it is told no more."""
    if not is_news(report):
        return 0
    with services.session() as session:
        editors = [
            (chat.id, chat.language_code)
            for admin_id in sorted(services.settings.admin_ids)
            if (chat := storage.get_chat(session, admin_id)) is not None
            and chat.active
            and chat.type == ChatType.PRIVATE
        ]
    told = 0
    for chat_id, language in editors:
        try:
            for part in split_html(scan_news(texts_for(language), report), TEXT_LIMIT):
                await bot.send_message(chat_id, part)
        except TelegramError as error:
            log.warning(
                "editor not told of the scan chat=%s error=%s", chat_id, error_summary(error)
            )
            if isinstance(classify_error(error), ChatGone):  # blocked the bot: not again
                with services.session() as session:
                    storage.deactivate_chat(session, chat_id, error.message)
            continue
        told += 1
    return told


def admin_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """Every admin handler, each behind `admin_only`. Edited messages are ignored: editing a
    /broadcast must not send it again."""
    new_messages = filters.UpdateType.MESSAGE
    commands: dict[str, Callback] = {
        "stats": stats,
        "reload": reload,
        "push": push,
        "broadcast": broadcast,
    }
    handlers: list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]] = [
        CommandHandler(name, admin_only(callback), filters=new_messages)
        for name, callback in commands.items()
    ]
    # Files only in private chats: in a group a document is members talking, not an upload.
    documents = filters.Document.ALL & filters.ChatType.PRIVATE & new_messages
    handlers.append(MessageHandler(documents, admin_only(upload, lambda t: t.upload_admin_only)))
    return handlers
