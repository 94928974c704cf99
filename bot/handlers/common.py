"""What every handler needs: the Services, the user's texts, the chat row, and a reply."""

from __future__ import annotations

import asyncio
import logging

import telegram
from sqlmodel import Session
from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, ChatMigrated, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot import storage
from bot.content.split import TEXT_LIMIT, split_html
from bot.delivery.send import retry_after_seconds
from bot.handlers.texts import Texts, texts_for
from bot.logs import error_summary
from bot.services import Services

log = logging.getLogger(__name__)

# A reply Telegram throttles is sent again after the wait it names, if the reader would not
# have given up by then.
MAX_REPLY_WAIT = 30.0  # seconds


def services_of(context: ContextTypes.DEFAULT_TYPE) -> Services:
    services: Services = context.application.bot_data["services"]
    return services


def texts_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Texts:
    """The texts in the sender's language, or else, in a group, in the chat's: an anonymous
    admin writes as the group, and Telegram gives no language for them."""
    user, chat = update.effective_user, update.effective_chat
    if user is not None and user.language_code:
        return texts_for(user.language_code)
    if chat is None or chat.type == ChatType.PRIVATE:
        return texts_for(None)
    with services_of(context).session() as session:
        stored = storage.get_chat(session, chat.id)
    return texts_for(stored.language_code if stored else None)


def register_chat(session: Session, update: Update, *, reactivate: bool = False) -> int:
    """Create or refresh this chat's row (subscriptions and deliveries need it); returns its id.

    `reactivate` is for commands that ask the bot to send here (/start, /subscribe, /latest…):
    a chat that writes to the bot is reachable again, even if it had blocked it before.
    """
    chat = update.effective_chat
    assert chat is not None  # only called for updates that come from a chat
    user = update.effective_user
    storage.upsert_chat(
        session,
        chat.id,
        chat_type=chat.type,
        title=chat.title or chat.full_name,
        language_code=user.language_code if user else None,
    )
    if reactivate and storage.reactivate_chat(session, chat.id):
        log.info("chat reactivated chat=%s", chat.id)
    return chat.id


async def subscription_refusal(
    update: Update, context: ContextTypes.DEFAULT_TYPE, t: Texts
) -> str | None:
    """Why the sender may not change what this chat gets, to tell them; None if they may.

    Anyone may in a private chat; in a group its creator and administrators (an anonymous
    one too) and the bot's own admins, so that one member cannot unsubscribe everyone else.
    When Telegram cannot say who is an admin, nobody may for now.
    """
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type == ChatType.PRIVATE:
        return None
    # A command's own message (a button's message is the bot's): an anonymous admin writes
    # as the group itself; a linked channel's post is no admin's.
    if update.message is not None and update.message.sender_chat is not None:
        return None if update.message.sender_chat.id == chat.id else t.group_admins_only
    if user is None:
        return t.group_admins_only
    if services_of(context).is_admin(user.id):
        return None
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as error:
        reason = error_summary(error)
        log.warning("admin check failed chat=%s user=%s error=%s", chat.id, user.id, reason)
        return t.admin_check_failed
    if member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR):
        return None
    return t.group_admins_only


def inline_name(bot: telegram.Bot) -> str | None:
    """The bot's username if readers can type `@username words` (inline mode is on)."""
    return bot.username if bot.supports_inline_queries else None


def published_only_for(update: Update, services: Services) -> bool:
    """Whether this update sees only published issues, not those waiting for PUBLISH_CRON.
    Readers do; an admin in a private chat sees them all, to check an issue before its time
    (in a group the others would see it too, so there an admin is a reader like the rest)."""
    chat, user = update.effective_chat, update.effective_user
    in_private = chat is not None and chat.type == ChatType.PRIVATE
    return not (in_private and services.is_admin(user.id if user else None))


def quote_in_groups(message: Message) -> ReplyParameters | None:
    """How an answer to `message` quotes it: in groups, where several people talk, and so that
    the answer still goes when the message is gone (a group's cleaner bot deletes commands at
    once; Telegram refuses a reply to it otherwise, "message to be replied not found"). Not
    PTB's build_reply_arguments: it drops allow_sending_without_reply unless given the topic."""
    if message.chat.type == ChatType.PRIVATE:
        return None
    return ReplyParameters(message.message_id, allow_sending_without_reply=True)


async def reply(
    update: Update, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the update's chat (quoting the command in groups, where several people talk).

    Replies take their slot from the same pacer as broadcasts (PacerRateLimiter), so they
    seldom meet Telegram's flood limits; when they do (another client of the same bot, say),
    the reply waits as asked and goes once more. A group that became a supergroup after the
    command was sent gets the answer there. Any other error goes to the error handler.
    """
    message = update.effective_message
    if message is None:
        return None
    quote = quote_in_groups(message)
    try:
        return await message.reply_text(text, reply_markup=reply_markup, reply_parameters=quote)
    except ChatMigrated as error:
        # The command stays in the old group, so the answer cannot quote it.
        log.info("reply follows the migration old=%s new=%s", message.chat.id, error.new_chat_id)
        return await message.get_bot().send_message(
            error.new_chat_id, text, reply_markup=reply_markup
        )
    except RetryAfter as error:
        wait = retry_after_seconds(error)
        if wait > MAX_REPLY_WAIT:
            raise
        log.warning(
            "reply throttled, sending again chat=%s retry_after=%.1f", message.chat.id, wait
        )
        await asyncio.sleep(wait)
        return await message.reply_text(text, reply_markup=reply_markup, reply_parameters=quote)


async def reply_in_parts(update: Update, text: str) -> None:
    """Answer with `text` in as many messages as Telegram's length limit needs: a report
    with a line per file (150 bad files in ISSUES_DIR) runs past one message."""
    for part in split_html(text, TEXT_LIMIT):
        await reply(update, part)


async def show_in_place(
    query: CallbackQuery, text: str | None, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Put `text` and `markup` on the message whose button was pressed (`text` None: only
    take its buttons away)."""
    try:
        if text is None:
            await query.edit_message_reply_markup(None)
        else:
            await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        # A double tap asks for what is already shown; that is not an error.
        if "not modified" not in error.message:
            raise
