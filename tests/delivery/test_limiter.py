"""The rate-limiter hook every send of the bot goes through, against a real Pacer."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

import pytest

from bot.delivery.limiter import PacerRateLimiter, SendAbandoned, messages_in, window_wait
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


async def test_an_album_takes_a_slot_for_each_of_its_photos() -> None:
    pacer = Pacer(rate=1000)  # the overall limit out of the way
    limiter, telegram = PacerRateLimiter(pacer), _Telegram()
    album = {"chat_id": -5, "media": [object()] * 10}
    await limiter.process_request(telegram, (), {}, "sendMediaGroup", album, None)
    for _ in range(8):
        await _send(limiter, telegram, chat_id=-5)
    # 10 photos and 8 messages: 18 of the group's 19 a minute, one left for now.
    assert pacer.chat_ready_at(-5, time.monotonic()) <= time.monotonic()
    await _send(limiter, telegram, chat_id=-5)
    assert pacer.chat_ready_at(-5, time.monotonic()) > time.monotonic() + 50
    assert telegram.sent == 10  # calls: one for the album


def test_messages_in_a_send() -> None:
    assert messages_in("sendMediaGroup", {"chat_id": 1, "media": [1, 2, 3]}) == 3
    assert messages_in("sendPhoto", {"chat_id": 1, "photo": "x"}) == 1
    assert messages_in("sendMediaGroup", {"chat_id": 1}) == 1  # malformed: Telegram refuses it


def test_window_wait_makes_room_for_every_photo_of_an_album() -> None:
    recent = deque([0.0, 0.2, 0.5], maxlen=4)  # at most 4 sends in any second
    assert window_wait(recent, 1.0, 1, now=0.6) == 0.0  # one place left
    assert window_wait(recent, 1.0, 2, now=0.6) == pytest.approx(0.4)  # 0.0 must age out
    assert window_wait(recent, 1.0, 3, now=0.6) == pytest.approx(0.6)  # ...and 0.2
    assert window_wait(recent, 1.0, 9, now=0.6) == pytest.approx(0.9)  # all of them
