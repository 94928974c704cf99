"""Broadcasts at scale: hundreds of subscribers, Telegram's flood limits, a crash mid-way."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from sqlmodel import Session

from bot import storage
from bot.app import PACING_HEADROOM
from bot.content import read_issue
from bot.content.messages import issue_messages
from bot.content.split import visible_text
from bot.delivery.sender import CLAIM_SECONDS, in_flight_limit
from tests.e2e.botproc import BotProcess
from tests.e2e.harness import Fakegram, SentMessage

pytestmark = pytest.mark.e2e

ISSUE_ID = "20990401"
ISSUE = f"""> 导读： 本期为 AI 简报 {ISSUE_ID} 期

# 1. [第一条](https://example.com/1) | 甲

第一条正文。

# 2. [第二条](https://example.com/2) | 乙

![](https://img.example.com/2.png)

第二条正文。

# 3. [第三条](https://example.com/3) | 丙

第三条正文。
"""
EXPECTED = [visible_text(m.text).strip() for m in issue_messages(read_issue(ISSUE.encode()))]
FIRST_READER = 10_000


async def _readers(fakegram: Fakegram, bot: BotProcess, count: int) -> list[int]:
    """`count` readers who opened a private chat and subscribe to everything."""
    readers = list(range(FIRST_READER, FIRST_READER + count))
    await asyncio.gather(*(fakegram.open_private_chat(r, "zh") for r in readers))
    engine = storage.make_engine(bot.database_url)
    with Session(engine) as session:
        for reader in readers:
            storage.upsert_chat(session, reader, chat_type="private")
            storage.subscribe(session, reader)
        session.commit()
    engine.dispose()
    return readers


def _drop_issue(bot: BotProcess) -> None:
    partial = bot.issues_dir / ".partial"
    partial.write_text(ISSUE, encoding="utf-8")
    partial.replace(bot.issues_dir / f"{ISSUE_ID}.md")


async def _wait_for_all(fakegram: Fakegram, readers: list[int], seconds: float) -> None:
    """Poll until every reader holds every message, or fail saying how far it got."""
    deadline = time.monotonic() + seconds
    wanted = len(readers) * len(EXPECTED)
    while True:
        received = _received(await fakegram.messages())
        got = sum(min(len(received.get(r, [])), len(EXPECTED)) for r in readers)
        if got >= wanted and all(set(EXPECTED) <= set(received.get(r, [])) for r in readers):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{got} of {wanted} messages delivered within {seconds} s")
        await asyncio.sleep(0.2)  # polling interval


async def _wait_for_delivered(fakegram: Fakegram, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while (await fakegram.stats())["total_delivered"] < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} messages delivered within {seconds} s")
        await asyncio.sleep(0.2)  # polling interval (fakegram computes stats on each call)


def _received(messages: list[SentMessage]) -> dict[int, list[str]]:
    """The issue's messages each reader got, in order (answers to /start left out)."""
    by_chat: dict[int, list[str]] = {}
    for message in messages:
        if message["chat_id"] >= FIRST_READER and message["text"] in EXPECTED:
            by_chat.setdefault(message["chat_id"], []).append(message["text"])
    return by_chat


@pytest.mark.parametrize("fakegram", [("--rate-scale", "10")], indirect=True)
async def test_broadcast_to_300_readers_is_exactly_once_without_429(
    fakegram: Fakegram, bot_factory
) -> None:
    bot: BotProcess = bot_factory(RATE_LIMIT="270")  # fakegram allows 300/s at this scale
    bot.start()
    bot.wait_for_log("scan done")
    readers = await _readers(fakegram, bot, 300)
    _drop_issue(bot)
    await _wait_for_all(fakegram, readers, seconds=90)

    received = _received(await fakegram.messages())
    for reader in readers:
        assert received[reader] == EXPECTED  # every item, once, in order
    stats = await fakegram.stats()
    assert stats["count_429"] == 0
    assert stats["duplicates"] == []
    assert stats["max_messages_in_1s_window"] <= 300
    bot.wait_for_log("pending=0 rate=")  # the last progress line: nothing left to send
    bot.stop()


@pytest.mark.parametrize("fakegram", [("--rate-scale", "2")], indirect=True)
async def test_a_crash_mid_broadcast_resumes_with_at_most_the_in_flight_sends_repeated(
    fakegram: Fakegram, bot_factory
) -> None:
    rate_limit = 50
    bot: BotProcess = bot_factory(RATE_LIMIT=str(rate_limit))
    bot.start()
    bot.wait_for_log("scan done")
    readers = await _readers(fakegram, bot, 150)
    total = len(readers) * len(EXPECTED)
    _drop_issue(bot)
    await _wait_for_delivered(fakegram, total // 3)
    bot.kill()
    delivered_at_kill = (await fakegram.stats())["total_delivered"]
    assert delivered_at_kill < total, "the broadcast finished before the crash"

    bot.start()
    bot.wait_for_log("resuming deliveries")
    await _wait_for_all(fakegram, readers, seconds=120)

    received = _received(await fakegram.messages())
    repeats = sum(
        count - 1 for r in readers for count in Counter(received[r]).values() if count > 1
    )
    print(f"delivered at kill: {delivered_at_kill}/{total}, repeated after restart: {repeats}")
    # Only the sends under way at the kill go again (their outcome not yet written): about
    # as many as are in flight at once (10), never the second's worth a claim leases (47).
    pace = rate_limit * PACING_HEADROOM
    assert repeats <= in_flight_limit(pace) < CLAIM_SECONDS * pace
    for reader in readers:
        assert list(dict.fromkeys(received[reader])) == EXPECTED  # in order, nothing missing
    stats = await fakegram.stats()
    assert stats["count_429"] == 0, stats["flood_violations"]
    bot.stop()


async def test_a_reader_asking_during_a_broadcast_does_not_wait_for_it(
    fakegram: Fakegram, bot_factory
) -> None:
    """100 subscribers × 4 messages at 5 a second take about 80 s; the claims go message by
    message across chats, so a reader asking for the same issue would get its last message
    at the end of it all. What readers ask for goes first (after the sends already booked:
    the sender claims a few seconds' worth at a time)."""
    from tests.e2e.test_instances import _open_quiet_chats, _subscribe

    *readers, asking = await _open_quiet_chats(fakegram, 101)  # no /start replies to wait for
    bot: BotProcess = bot_factory(RATE_LIMIT="5")
    bot.start()
    bot.wait_for_log("scan done")
    _subscribe(bot.database_url, readers)
    _drop_issue(bot)
    bot.wait_for_log(f"issue published issue={ISSUE_ID}")
    started = time.monotonic()
    await fakegram.send_text(asking, f"/issue {ISSUE_ID}")
    got = await fakegram.wait_for_messages(len(EXPECTED), asking, timeout=30)
    assert [visible_text(m["text"]).strip() for m in got] == EXPECTED
    print(f"asked during the broadcast: the whole issue in {time.monotonic() - started:.1f} s")
    with Session(storage.make_engine(bot.database_url)) as session:
        # the broadcast is still going: the answer did not simply come after it
        assert storage.outbox_counts(session, ISSUE_ID)[storage.DeliveryStatus.PENDING] > 100
    # Meanwhile the editor sees how far the broadcast has come.
    await fakegram.create_user(bot.admin_id, "editor", "en")
    await fakegram.send_text(bot.admin_id, "/stats")
    (stats,) = await fakegram.wait_for_messages(1, bot.admin_id, timeout=30)
    assert f"On their way\n• Issue {ISSUE_ID}: " in stats["text"]
    assert " to go" in stats["text"]
    bot.stop()
