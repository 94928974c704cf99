"""Send one OutgoingMessage through the Bot API, and classify what can go wrong.

`send` is the only function here that talks to Telegram; `classify_error` is pure and tells
the delivery loop what to do about a failed send.
"""

from __future__ import annotations

import html
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import telegram
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.content.types import Button, Image, MessageKind, OutgoingMessage
from bot.logs import error_summary

log = logging.getLogger(__name__)

# Telegram's answers when it cannot download a media URL (SPEC §2). PTB strips "Bad Request: "
# and changes the case ("Failed to get http url content"), so these are matched lower-cased.
MEDIA_FETCH_ERRORS = (
    "failed to get http url content",
    "wrong type of the web page content",
    "wrong file identifier/http url specified",
    "invalid file http url specified",
    # Raw codes Telegram sometimes passes through, and sendMediaGroup's own word for them
    "webpage_curl_failed",
    "webpage_media_empty",
    "group send failed",
    # A group that forbids the bot this kind of media: the item goes as text instead.
    "not enough rights to send photos",
    "not enough rights to send videos",
    "not enough rights to send animations",
    "not enough rights to send documents",
)

# 400s that mean the bot can no longer write to the chat at all (403s always mean that).
CHAT_GONE_ERRORS = (
    "chat not found",
    "bot can't initiate conversation",
    "bot was blocked by the user",
    "bot was kicked",
    "bot is not a member",
    "user is deactivated",
    "group chat was deactivated",
    "have no rights to send a message",
    "not enough rights to send text messages",  # a group that muted the bot
    "chat_write_forbidden",
    "peer_id_invalid",
)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send(bot: telegram.Bot, chat_id: int, message: OutgoingMessage) -> list[int]:
    """Send `message` to `chat_id`; return the ids of the messages the chat received.

    Media Telegram cannot fetch is sent as `fallback_text` instead, so a dead image never
    loses an item. Every other error is raised for the caller to `classify_error`.
    """
    if message.kind is MessageKind.TEXT:
        return [await _send_text(bot, chat_id, message.text, message.buttons)]
    if not message.media:
        raise ValueError(f"a {message.kind} message needs media")
    if not all(_is_web_url(image.url) for image in message.media):
        # PTB uploads any string that names a local file, so only http(s) URLs may reach it.
        return [await _send_text(bot, chat_id, fallback_html(message))]
    try:
        return await _send_media(bot, chat_id, message)
    except BadRequest as error:
        if not is_media_fetch_error(error):
            raise
        log.info("chat %s: media unavailable (%s); sending item as text", chat_id, error)
        return [await _send_text(bot, chat_id, fallback_html(message))]


async def _send_text(
    bot: telegram.Bot, chat_id: int, text: str, buttons: Sequence[Button] = ()
) -> int:
    row = [InlineKeyboardButton(b.label, callback_data=b.data) for b in buttons]
    sent = await bot.send_message(
        chat_id,
        text,
        parse_mode=ParseMode.HTML,
        link_preview_options=_NO_PREVIEW,
        reply_markup=InlineKeyboardMarkup([row]) if row else None,
    )
    return sent.message_id


async def _send_media(bot: telegram.Bot, chat_id: int, message: OutgoingMessage) -> list[int]:
    caption = message.text or None
    first = message.media[0]
    match message.kind:
        case MessageKind.PHOTO:
            sent = await bot.send_photo(
                chat_id, first.url, caption=caption, parse_mode=ParseMode.HTML
            )
            return [sent.message_id]
        case MessageKind.ANIMATION:
            sent = await bot.send_animation(
                chat_id, first.url, caption=caption, parse_mode=ParseMode.HTML
            )
            return [sent.message_id]
        case MessageKind.ALBUM:
            album = await bot.send_media_group(chat_id, _album(message.media, caption))
            return [sent.message_id for sent in album]
    raise ValueError(f"unknown message kind {message.kind!r}")


def _album(images: tuple[Image, ...], caption: str | None) -> list[InputMediaPhoto]:
    # Telegram shows an album's caption only when exactly one item has one: the first.
    return [
        InputMediaPhoto(image.url, caption=caption, parse_mode=ParseMode.HTML)
        if index == 0
        else InputMediaPhoto(image.url)
        for index, image in enumerate(images)
    ]


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def fallback_html(message: OutgoingMessage) -> str:
    """The text to send when the media cannot be: the pipeline's, or the caption plus links."""
    if message.fallback_text:
        return message.fallback_text
    links = [f'<a href="{html.escape(i.url)}">{html.escape(i.url)}</a>' for i in message.media]
    return "\n\n".join([message.text, *links] if message.text else links)


def is_media_fetch_error(error: TelegramError) -> bool:
    """Whether Telegram refused the message because it could not get its media."""
    text = error.message.lower()
    return isinstance(error, BadRequest) and any(known in text for known in MEDIA_FETCH_ERRORS)


# ---------------------------------------------------------------- error classification


@dataclass(frozen=True)
class Throttled:
    """429: wait `seconds`, then send the same message again."""

    seconds: float


@dataclass(frozen=True)
class Transient:
    """Network trouble, a timeout before the request went out, or a 5xx: retry with backoff."""

    reason: str


@dataclass(frozen=True)
class Uncertain:
    """The request went out but no answer came in time: Telegram may have delivered it.

    The Bot API has no idempotency key, so a resend would duplicate the message whenever the
    first one arrived; the delivery loop records it instead of resending it.
    """

    reason: str


@dataclass(frozen=True)
class ChatGone:
    """The bot may no longer write to this chat: mark it inactive, drop its pending deliveries."""

    reason: str


@dataclass(frozen=True)
class Migrated:
    """The group became a supergroup: move the chat to `new_chat_id` and resend there."""

    new_chat_id: int


@dataclass(frozen=True)
class Permanent:
    """Telegram refused this message; sending it again will not help. Record and move on."""

    reason: str


@dataclass(frozen=True)
class Fatal:
    """Nothing can be sent (a bad token or API URL): stop delivering rather than fail every row."""

    reason: str


SendFailure = Throttled | Transient | Uncertain | ChatGone | Migrated | Permanent | Fatal

# Timeouts that happen before Telegram can have acted: no connection, no free connection, or
# the request not fully written (an incomplete HTTP request is never processed).
_NOT_SENT_TIMEOUTS = (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout)


def classify_error(error: TelegramError) -> SendFailure:
    """What a failed send means for the delivery loop."""
    # Short, for the log line and the outbox: a proxy's 502 page is not a reason.
    reason = error_summary(error)
    lowered = error.message.lower()
    # Order matters: in PTB, BadRequest and TimedOut are subclasses of NetworkError.
    if isinstance(error, RetryAfter):
        return Throttled(retry_after_seconds(error))
    if isinstance(error, ChatMigrated):
        return Migrated(error.new_chat_id)
    if isinstance(error, Forbidden):
        return ChatGone(reason)
    if isinstance(error, BadRequest):
        if any(known in lowered for known in CHAT_GONE_ERRORS):
            return ChatGone(reason)
        return Permanent(reason)
    if isinstance(error, InvalidToken):  # PTB's name for 401 and 404: wrong token or base URL
        return Fatal(reason)
    if isinstance(error, TimedOut):
        if isinstance(error.__cause__, _NOT_SENT_TIMEOUTS):
            return Transient(f"{reason} ({type(error.__cause__).__name__}, not sent)")
        return Uncertain(f"timed out waiting for Telegram's answer: {reason}")
    if isinstance(error, NetworkError):  # every 5xx, dropped connections
        return Transient(reason)
    if type(error) is TelegramError:  # an unparsable answer, e.g. from a proxy in between
        return Transient(reason)
    return Permanent(reason)  # Conflict, EndPointNotFound…: not something a resend fixes


def is_network_fault(error: BaseException | None) -> bool:
    """Whether Telegram or the network failed for a moment (a 5xx, a dropped connection, a
    timeout, a 429): something waiting or trying again handles, worth a warning, not a
    traceback."""
    return isinstance(error, TelegramError) and isinstance(
        classify_error(error), Throttled | Transient | Uncertain
    )


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds."""
    # Reading `retry_after` warns while PTB moves it from int to timedelta; accept both.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
