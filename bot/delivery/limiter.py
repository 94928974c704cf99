"""python-telegram-bot's rate-limiter hook, backed by our Pacer: every message the bot sends,
a broadcast's or a reply to a command, takes its slot from the same books, so replies can
never push a broadcast over Telegram's limits (nor the other way round)."""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
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


class PacerRateLimiter(BaseRateLimiter[None]):
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        # When the loop was busy, every send whose slot passed meanwhile wakes at once; the
        # last second of actual sends is kept so that such a catch-up never puts more than
        # the rate into any one second.
        self._window = math.ceil(pacer.rate)
        self._recent: deque[float] = deque(maxlen=self._window)

    async def initialize(self) -> None:
        pass

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
            at = self.pacer.reserve(chat_key(data["chat_id"]), time.monotonic())
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            await self._within_window()
        return await callback(*args, **kwargs)

    async def _within_window(self) -> None:
        recent = self._recent
        while True:  # the window's oldest send must be a second old (re-checked after a wait)
            wait = recent[0] + 1.0 - time.monotonic() if len(recent) == self._window else 0.0
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        recent.append(time.monotonic())


def chat_key(chat_id: object) -> int:
    """The Pacer's key for a chat: its id, or for a channel named `@name` a stable negative
    number (channels are paced like groups)."""
    try:
        return int(str(chat_id))
    except ValueError:
        return -1 - zlib.crc32(str(chat_id).encode())
