"""python-telegram-bot's rate-limiter hook, backed by our Pacer: every message the bot sends,
a broadcast's or a reply to a command, takes its slot from the same books, so replies can
never push a broadcast over Telegram's limits (nor the other way round)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import zlib
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import TelegramError
from telegram.ext import BaseRateLimiter

from bot.delivery.pacing import Pacer

# The calls Telegram's flood limits count (edits, answers and chat actions are free).
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendAnimation",
        "sendDocument",
        "sendMediaGroup",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "copyMessage",
        "forwardMessage",
    }
)


WINDOWS = (1.0, 0.1)  # seconds over which sends may not exceed the rate
UNANSWERED_SECONDS, MIN_UNANSWERED = 0.05, 8


class SendAbandoned(TelegramError):
    """A send still waiting for its slot when the bot began to stop: it never reached Telegram,
    so the sender hands its delivery back, to be sent after the restart. A TelegramError, so
    that a handler's send meets it where it meets Telegram's own refusals."""


class PacerRateLimiter(BaseRateLimiter[None]):
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        # When the loop was busy, every send whose slot passed meanwhile wakes at once. The
        # times of the latest actual sends are kept so that such a catch-up never puts more
        # than the rate into any second, nor a tenth of it into any 100 ms: bunched sends
        # arrive bunched, and a crash repeats the sends answered but not yet recorded.
        self._windows = [
            (span, deque[float](maxlen=math.ceil(pacer.rate * span))) for span in WINDOWS
        ]
        # Sends out and not yet answered. When the server stalls, what it then handles at
        # once is what was waiting there: a stall of 200 ms at 285/s would put 57 extra
        # messages into its next second. Bounded by about the pacing headroom (5 % of the
        # rate), or 8 so that a slow round trip (real Telegram: ~100-250 ms) still keeps pace.
        self._unanswered = asyncio.Semaphore(
            max(MIN_UNANSWERED, math.ceil(pacer.rate * UNANSWERED_SECONDS))
        )
        self._stopping = asyncio.Event()

    def abandon_waiting(self) -> None:
        """The bot stops: sends waiting for a slot (after a 429, perhaps for a minute) raise
        SendAbandoned now instead of holding the shutdown up; sends already out finish."""
        self._stopping.set()

    async def initialize(self) -> None:
        self._stopping.clear()  # the application may be started again

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | JSONDict | list[JSONDict]:
        if endpoint in SEND_METHODS and "chat_id" in data:
            count = messages_in(endpoint, data)
            at = self.pacer.reserve(chat_key(data["chat_id"]), time.monotonic(), count)
            await self._wait_until(at)
            async with self._unanswered:
                await self._within_window(count)
                return await callback(*args, **kwargs)
        return await callback(*args, **kwargs)

    async def _wait_until(self, at: float) -> None:
        delay = at - time.monotonic()
        if delay <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        if self._stopping.is_set():
            raise SendAbandoned(f"the bot is stopping; the send had {delay:.1f}s to wait")

    async def _within_window(self, count: int) -> None:
        """Wait until `count` more messages fit every window, and count them in."""
        while True:  # the sends they push out must be older than the span (re-checked)
            now = time.monotonic()
            wait = max(window_wait(recent, span, count, now) for span, recent in self._windows)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        now = time.monotonic()
        for _, recent in self._windows:
            recent.extend([now] * count)


def window_wait(recent: deque[float], span: float, count: int, now: float) -> float:
    """How long until `count` more sends keep `recent` (the latest sends, at most maxlen of
    them in any `span`) within its bound; an album larger than the window waits it out."""
    limit = recent.maxlen or 0
    pushed_out = len(recent) + count - limit  # the oldest sends the new ones displace
    if pushed_out <= 0 or not recent:
        return 0.0
    return recent[min(pushed_out, len(recent)) - 1] + span - now


def messages_in(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages a send makes, as Telegram's flood limits count them: an album is
    one message per photo (a partly sent album fails with "Too Many Requests" for the rest)."""
    media = data.get("media")
    if endpoint == "sendMediaGroup" and isinstance(media, list | tuple) and media:
        return len(media)
    return 1


def chat_key(chat_id: object) -> int:
    """The Pacer's key for a chat: its id, or for a channel named `@name` a stable negative
    number (channels are paced like groups)."""
    try:
        return int(str(chat_id))
    except ValueError:
        return -1 - zlib.crc32(str(chat_id).encode())
