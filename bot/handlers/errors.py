"""The error handler: log first, with what happened where, then answer the user briefly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.delivery.limiter import SendAbandoned
from bot.delivery.send import is_network_fault
from bot.handlers.common import quote_in_groups
from bot.handlers.texts import texts_for
from bot.logs import error_summary

log = logging.getLogger(__name__)


def describe_update(update: object) -> dict[str, object]:
    """The fields that say where an error happened, for the log line."""
    if not isinstance(update, Update):
        return {"update": type(update).__name__ if update is not None else None}
    message = update.effective_message
    return {
        "update_id": update.update_id,
        "chat": update.effective_chat.id if update.effective_chat else None,
        "user": update.effective_user.id if update.effective_user else None,
        "text": (message.text or message.caption or "")[:80] if message else None,
        "callback": update.callback_query.data if update.callback_query else None,
        "inline": update.inline_query.query[:80] if update.inline_query else None,
    }


def should_answer(error: BaseException | None) -> bool:
    """Whether telling the user can work: not when Telegram refuses to let us talk to them,
    asks us to wait, or cannot be reached (BadRequest is a NetworkError in PTB, but answerable)."""
    if isinstance(error, Forbidden | RetryAfter | SendAbandoned):  # the bot is stopping
        return False
    return isinstance(error, BadRequest) or not isinstance(error, NetworkError)


def is_expected(error: BaseException | None) -> bool:
    """Whether the error is Telegram's or the network's, not the bot's: a 5xx, a dropped
    connection or a timeout (polling tries again, a reader asks again), a 429, or a chat that
    blocked the bot. Its traceback would say nothing about the bot's code."""
    return is_network_fault(error) or isinstance(error, Forbidden)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its update, then tell the user briefly; never show a traceback."""
    error = context.error
    where = describe_update(update)
    if isinstance(error, SendAbandoned):  # not an error: the bot is stopping
        log.info("answer not sent, the bot is stopping %s", where)
        return
    context_fields = " ".join(f"{k}={v!r}" for k, v in where.items())
    if error is not None and is_expected(error):  # handled: one line, no traceback
        log.warning(
            "handler fault %s: %s %s",
            type(error).__name__,
            error_summary(error),
            context_fields,
            extra={"update_info": where},
        )
    else:
        log.error(
            "handler error %s: %s %s",
            type(error).__name__,
            error,
            context_fields,
            exc_info=error,
            extra={"update_info": where},
        )
    if not isinstance(update, Update) or not should_answer(error):
        return
    user = update.effective_user
    text = texts_for(user.language_code if user else None).error
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None and update.effective_chat is not None:
            message = update.effective_message
            await message.reply_text(text, reply_parameters=quote_in_groups(message))
    except TelegramError as answer_error:  # e.g. the callback was already answered
        log.warning("could not tell the user about the error: %s", error_summary(answer_error))
