"""The rate-limiter hook every send of the bot goes through, against a real Pacer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.delivery.limiter import PacerRateLimiter, SendAbandoned
from bot.delivery.pacing import Pacer


class _Telegram:
    """Stands in for the HTTP call the limiter lets through; counts what went out."""

    def __init__(self) -> None:
        self.sent = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.sent += 1
        return True


async def _send(limiter: PacerRateLimiter, telegram: _Telegram, chat_id: int = 1) -> Any:
    return await limiter.process_request(
        telegram, (), {}, "sendMessage", {"chat_id": chat_id}, None
    )


async def test_a_send_waiting_for_its_slot_gives_up_when_the_bot_stops() -> None:
    pacer = Pacer(rate=10)
    pacer.pause(time.monotonic() + 60)  # a 429 said: a minute
    limiter, telegram = PacerRateLimiter(pacer), _Telegram()
    waiting = asyncio.create_task(_send(limiter, telegram))
    await asyncio.sleep(0)  # let it book its slot and wait
    limiter.abandon_waiting()
    with pytest.raises(SendAbandoned):
        await asyncio.wait_for(waiting, timeout=5)
    assert telegram.sent == 0  # it never reached Telegram: safe to send after the restart


async def test_a_send_with_nothing_to_wait_for_still_goes_out_while_stopping() -> None:
    limiter, telegram = PacerRateLimiter(Pacer(rate=10)), _Telegram()
    limiter.abandon_waiting()
    assert await _send(limiter, telegram) is True
    assert telegram.sent == 1


async def test_a_restarted_application_waits_for_slots_again() -> None:
    pacer = Pacer(rate=10)
    limiter, telegram = PacerRateLimiter(pacer), _Telegram()
    limiter.abandon_waiting()
    await limiter.initialize()  # PTB initialises it when the application starts again
    pacer.pause(time.monotonic() + 0.2)
    assert await _send(limiter, telegram) is True
    assert telegram.sent == 1
