"""Reader commands about this chat: /start, /help, /subscribe, /unsubscribe, /subscriptions,
and the buttons under the greeting and the subscriptions that do the same."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import storage
from bot.content.split import TEXT_LIMIT, visible_length
from bot.delivery.broadcast import follow_changed_subscription
from bot.handlers import keyboards
from bot.handlers.common import (
    inline_name,
    register_chat,
    reply,
    services_of,
    show_in_place,
    subscription_refusal,
    texts_of,
)
from bot.handlers.keyboards import FollowedEntry
from bot.handlers.texts import Texts
from bot.handlers.views import (
    MAX_KEYWORDS_AT_ONCE,
    MAX_KEYWORDS_PER_CHAT,
    SEARCH_START,
    command_argument,
    display_name,
    help_text,
    keyword_labels,
    parse_terms,
    quoted_list,
    subscribed_text,
    subscriptions_text,
    too_long_keyword,
    unfollow_terms,
)
from bot.services import Services
from bot.storage.text import without_invisible

log = logging.getLogger(__name__)

UNSUBSCRIBED = "unsubscribed"  # why deliveries still queued for a chat that left were dropped
UNFOLLOWED = "no longer followed"  # ...and those the chat's narrower subscription leaves out


def _terms(update: Update) -> list[str]:
    message = update.effective_message
    return parse_terms(command_argument(message.text or "")) if message else []


def _keywords_refusal(
    update: Update, keywords: Sequence[str], no_keyword: str, too_many: str
) -> str | None:
    """Why the keywords after the command are not taken, if they are not: something written
    but no keyword in it (`""`, `「」`), which must not read as the command alone (every
    issue, or stop everything); or more than MAX_KEYWORDS_AT_ONCE."""
    message = update.effective_message
    written = without_invisible(command_argument(message.text or "")) if message else ""
    if not keywords and written.strip():
        return no_keyword
    if len(keywords) > MAX_KEYWORDS_AT_ONCE:
        return too_many.format(limit=MAX_KEYWORDS_AT_ONCE)
    return None


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet, register the chat (reactivating it if it had gone away) and show the commands;
    `/start search` (from an inline answer that found nothing) asks what to look for."""
    t = texts_of(update, context)
    services = services_of(context)
    with services.session() as session:
        chat_id = register_chat(session, update, reactivate=True)
        # A chat that follows nothing yet gets a button for what most readers want.
        new = not storage.subscriptions_of(session, chat_id)
    message = update.effective_message
    chat = update.effective_chat
    searching = (
        chat is not None
        and chat.type == ChatType.PRIVATE
        and command_argument((message.text or "") if message else "") == SEARCH_START
    )
    if searching and not new:  # a reader who knows the bot: straight to the point
        await reply(update, t.search_prompt)
        return
    name = greeted_name(update)
    markup = keyboards.greeting_keyboard(t) if new else None
    admin = _editor_in_private(update, services)
    text = help_text(t, name=name, admin=admin, bot_name=inline_name(context.bot))
    await reply(update, text, markup)
    if searching:
        await reply(update, t.search_prompt)


def greeted_name(update: Update) -> str:
    """Whom /start greets, as HTML: the sender, or the chat an anonymous admin or a linked
    channel writes as (Telegram's `from` is then a placeholder: "Group", "Channel")."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is not None and message.sender_chat is not None:
        return display_name(None, message.sender_chat.title)
    return display_name(user.first_name if user else None, chat.title if chat else None)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show what the bot does and its commands."""
    services = services_of(context)
    with services.session() as session:
        register_chat(session, update)
    admin = _editor_in_private(update, services)
    t = texts_of(update, context)
    await reply(update, help_text(t, admin=admin, bot_name=inline_name(context.bot)))


def _editor_in_private(update: Update, services: Services) -> bool:
    """Whether the help shows the editor commands: to an admin, in their private chat only
    (in a group every member would read them)."""
    user, chat = update.effective_user, update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    return private and services.is_admin(user.id if user else None)


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe this chat to every issue, or to the keywords given."""
    t = texts_of(update, context)
    if refusal := await subscription_refusal(update, context, t):
        await reply(update, refusal)
        return
    keywords = _terms(update)
    if refusal := _keywords_refusal(update, keywords, t.subscribe_no_keyword, t.too_many_keywords):
        await reply(update, refusal)
        return
    for keyword in keywords:
        try:
            storage.normalize_keyword(keyword)
        except ValueError:  # parse_terms gives no empty terms, so it is too long
            await reply(update, too_long_keyword(t, keyword, storage.MAX_KEYWORD_LENGTH))
            return
    with services_of(context).session() as session:
        chat_id = register_chat(session, update, reactivate=True)
        followed = {k for k in storage.subscriptions_of(session, chat_id) if k is not None}
        # More keywords than this would no longer list in one message.
        count = len(followed | {storage.normalize_keyword(k) for k in keywords})
        markup = None
        if count > MAX_KEYWORDS_PER_CHAT:
            text = t.too_many_followed.format(count=count, limit=MAX_KEYWORDS_PER_CHAT)
        else:
            added = storage.subscribe(session, chat_id, keywords)
            _follow_subscription_change(session, chat_id)  # keywords may have replaced everything
            # Each keyword once, as the chat follows it: `/subscribe gpt` "already follows GPT".
            shown = keyword_labels(keywords, _followed_labels(session, chat_id))
            text = subscribed_text(t, added, shown)
            markup = _latest_offer(session, t, added)
    await reply(update, text, markup)


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop every subscription of this chat, or drop the keywords given."""
    t = texts_of(update, context)
    if refusal := await subscription_refusal(update, context, t):
        await reply(update, refusal)
        return
    keywords = _terms(update)
    if refusal := _keywords_refusal(update, keywords, t.unsubscribe_no_keyword, t.too_many_to_drop):
        await reply(update, refusal)
        return
    with services_of(context).session() as session:
        chat_id = register_chat(session, update)
        if not keywords:
            removed = _stop_everything(session, chat_id)
            text = t.unsubscribed_all if removed else f"{t.not_subscribed}\n{t.subscribe_hint}"
        else:
            labels = _followed_labels(session, chat_id)
            # Each keyword once, as the chat followed it: `/unsubscribe gpt` drops "GPT".
            keywords = keyword_labels(unfollow_terms(keywords, labels), labels)
            dropped = [k for k in keywords if storage.unsubscribe(session, chat_id, k)]
            if dropped:
                _follow_subscription_change(session, chat_id)
            missing = [k for k in keywords if k not in dropped]
            lines = []
            if dropped:
                lines.append(t.unsubscribed_keywords.format(keywords=quoted_list(dropped, t)))
                if not storage.subscriptions_of(session, chat_id):
                    lines += [t.following_nothing_now, t.subscribe_hint]
            if missing:
                lines.append(t.keywords_not_followed.format(keywords=quoted_list(missing, t)))
                listed = subscriptions_text(t, storage.subscription_labels(session, chat_id))
                # Long keywords, missing and followed, could pass Telegram's limit together.
                fits = visible_length("\n".join([*lines, listed])) <= TEXT_LIMIT
                lines.append(listed if fits else t.see_subscriptions)
            text = "\n".join(lines)
    await reply(update, text)


def _followed_labels(session: Session, chat_id: int) -> dict[str, str]:
    """The chat's keywords (as matched) → as the reader first wrote them."""
    return {f.keyword: f.label for f in storage.followed(session, chat_id) if f.keyword and f.label}


def _stop_everything(session: Session, chat_id: int) -> int:
    """Drop every subscription of the chat; returns how many there were."""
    removed = storage.unsubscribe(session, chat_id)
    # "No more issues" includes the rest of one on its way.
    dropped = storage.drop_pending_for_chat(session, chat_id, UNSUBSCRIBED)
    if dropped:
        log.info("unsubscribed, pending dropped chat=%s deliveries=%d", chat_id, dropped)
    return removed


def _follow_subscription_change(session: Session, chat_id: int) -> None:
    # A reader who narrowed what they follow expects the rest of a broadcast to narrow too,
    # and the header before it to say so.
    if dropped := follow_changed_subscription(session, chat_id, UNFOLLOWED):
        log.info("subscription narrowed, pending dropped chat=%s deliveries=%d", chat_id, dropped)


async def subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show what this chat is subscribed to, with a button to drop each subscription."""
    t = texts_of(update, context)
    with services_of(context).session() as session:
        chat_id = register_chat(session, update)
        text, markup = _subscriptions_view(session, t, chat_id)
    await reply(update, text, markup)


def _subscriptions_view(
    session: Session, t: Texts, chat_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    current = storage.followed(session, chat_id)
    entries = [FollowedEntry(f.id, f.keyword, f.label) for f in current]
    text = subscriptions_text(t, [f.label for f in current])
    if current:
        text = f"{text}\n{t.subscriptions_buttons}"
    return text, keyboards.subscriptions_keyboard(t, entries)


async def subscribe_pressed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, in_list: bool
) -> None:
    """The subscribe button: under the greeting it goes away and the answer is a message, as
    for /subscribe; under the subscriptions, they are shown again."""
    query = update.callback_query
    assert query is not None  # called for a button only
    t = texts_of(update, context)
    if refusal := await subscription_refusal(update, context, t):
        await query.answer(refusal, show_alert=True)
        return
    with services_of(context).session() as session:
        chat_id = register_chat(session, update, reactivate=True)
        added = storage.subscribe(session, chat_id)
        view = _subscriptions_view(session, t, chat_id) if in_list else None
        markup = _latest_offer(session, t, added)
    if view is not None:
        # A second tap shows the same list, which Telegram will not edit: say why.
        await query.answer(None if added else t.already_all)
        await show_in_place(query, *view)
    elif not added:  # a second tap: the first one's answer is already in the chat
        await query.answer(t.already_all)
    else:
        await query.answer()
        await show_in_place(query, None)
        await reply(update, subscribed_text(t, added, []), markup)


def _latest_offer(
    session: Session, t: Texts, added: Sequence[str | None]
) -> InlineKeyboardMarkup | None:
    """A chat that just subscribed to every issue need not wait for the next one: a button
    for the latest (published) issue."""
    if None not in added:
        return None
    latest = storage.latest_issue(session, published_only=True)
    return keyboards.latest_keyboard(t, latest.id) if latest else None


async def drop_pressed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, subscription_id: int, check: str
) -> None:
    """A button under the subscriptions: drop that one, as /unsubscribe would, and show the
    rest (a subscription already gone says so and shows what is left)."""
    query = update.callback_query
    assert query is not None  # called for a button only
    t = texts_of(update, context)
    if refusal := await subscription_refusal(update, context, t):
        await query.answer(refusal, show_alert=True)
        return
    with services_of(context).session() as session:
        chat_id = register_chat(session, update)
        gone = storage.subscription_of(session, chat_id, subscription_id)
        if gone is not None and keyboards.keyword_check(gone.keyword) != check:
            gone = None  # the id now belongs to a keyword followed since
        dropped = False
        if gone is not None and gone.keyword is None:
            dropped = _stop_everything(session, chat_id) > 0
        elif gone is not None and storage.unsubscribe(session, chat_id, gone.keyword):
            dropped = True
            _follow_subscription_change(session, chat_id)
        text, markup = _subscriptions_view(session, t, chat_id)
    # A stale button (tapped twice, or its list is old) may leave the list as it was, which
    # Telegram will not edit: say it was done already, or the tap seems to do nothing.
    await query.answer(None if dropped else t.already_dropped)
    await show_in_place(query, text, markup)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point a reader who typed an unknown command at /help."""
    await reply(update, texts_of(update, context).unknown_command)
