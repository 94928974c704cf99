"""Two bot instances in webhook mode on one PostgreSQL: one sends, the other takes over.

fakegram delivers webhooks to one URL, as a load balancer in front of both would; what matters
here is the sender election through the database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot import storage
from tests.e2e.botproc import BotProcess
from tests.e2e.harness import Fakegram, SentMessage
from tests.e2e.test_broadcast import (
    EXPECTED,
    FIRST_READER,
    _drop_issue,
    _received,
)
from tests.e2e.webhooks import WEBHOOK_SECRET, free_port, post_update

pytestmark = pytest.mark.e2e

READERS = 300
TAKEOVER_LIMIT = 5.0  # seconds from the sender's death to the next message delivered


def _instances(
    bot_factory: Callable[..., BotProcess], database_url: str, rate_limit: int
) -> tuple[BotProcess, BotProcess]:
    """Two webhook instances; Telegram (fakegram) posts to the first one's URL."""
    ports = free_port(), free_port()
    webhook_url = f"http://127.0.0.1:{ports[0]}/telegram"
    return tuple(  # type: ignore[return-value]
        bot_factory(
            "webhook",
            name=f"instance{i}",
            DATABASE_URL=database_url,
            RATE_LIMIT=str(rate_limit),
            WEBHOOK_URL=webhook_url,
            WEBHOOK_LISTEN="127.0.0.1",
            PORT=str(port),
            WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        for i, port in enumerate(ports)
    )


async def _open_quiet_chats(fakegram: Fakegram, count: int) -> list[int]:
    """`count` readers with open private chats, before any bot runs.

    Their /start updates are confirmed away: 300 webhook calls to one instance would only slow
    the test down, and subscribing through commands is tested elsewhere.
    """
    readers = list(range(FIRST_READER, FIRST_READER + count))
    await asyncio.gather(*(fakegram.open_private_chat(r, "zh") for r in readers))
    async with fakegram.make_bot() as bot:
        pending = await bot.get_updates(offset=-1, timeout=0)
        if pending:
            await bot.get_updates(offset=pending[-1].update_id + 1, timeout=0)
    return readers


def _subscribe(database_url: str, readers: list[int]) -> None:
    """Subscribe in the database, after the first scan: only the new issue is theirs."""
    engine = storage.make_engine(database_url)
    with Session(engine) as session:
        for reader in readers:
            storage.upsert_chat(session, reader, chat_type="private")
            storage.subscribe(session, reader)
        session.commit()
    engine.dispose()


def _first_copies_of_repeats(messages: list[SentMessage]) -> list[float]:
    """When the first copy of each message that was later sent again went out."""
    first: dict[tuple[int, str], float] = {}
    repeated: set[tuple[int, str]] = set()
    for message in messages:
        key = (message["chat_id"], message["text"])
        if key in first:
            repeated.add(key)
        else:
            first[key] = message["time"]
    return [first[key] for key in repeated]


def _start_both(first: BotProcess, second: BotProcess) -> None:
    first.start()
    first.wait_for_log("sender elected")
    second.start()
    second.wait_for_log("sender standing by")
    first.wait_for_log("scan done")


def _sent(database_url: str) -> tuple[int, int]:
    """(sent, pending) deliveries. Progress is read from the database, not from fakegram: its
    message list is costly to serve, and a busy fakegram bunches the arrivals it timestamps."""
    engine = storage.make_engine(database_url)
    with Session(engine) as session:
        counts = storage.outbox_counts(session)
    engine.dispose()
    return counts[storage.DeliveryStatus.SENT], counts[storage.DeliveryStatus.PENDING]


async def _wait_for_sent(database_url: str, at_least: int, seconds: float) -> float:
    """Poll until `at_least` deliveries are recorded sent; returns when that happened."""
    deadline = time.monotonic() + seconds
    while _sent(database_url)[0] < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {at_least} sent within {seconds} s")
        await asyncio.sleep(0.1)  # polling interval
    return time.monotonic()


async def _wait_for_all(fakegram: Fakegram, readers: list[int], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        received = _received(await fakegram.messages())
        if all(set(EXPECTED) <= set(received.get(r, [])) for r in readers):
            return
        if time.monotonic() > deadline:
            got = sum(len(set(received.get(r, [])) & set(EXPECTED)) for r in readers)
            raise AssertionError(f"{got} of {len(readers) * len(EXPECTED)} within {seconds} s")
        await asyncio.sleep(0.5)  # polling interval; listing every message is not free


@pytest.mark.parametrize("fakegram", [("--rate-scale", "10")], indirect=True)
async def test_two_instances_deliver_every_item_exactly_once_within_the_rate_limit(
    fakegram: Fakegram, bot_factory: Callable[..., BotProcess], postgres_url: str
) -> None:
    rate_limit = 200
    readers = await _open_quiet_chats(fakegram, READERS)
    first, second = _instances(bot_factory, postgres_url, rate_limit)
    _start_both(first, second)
    _subscribe(postgres_url, readers)
    _drop_issue(first)
    await _wait_for_sent(postgres_url, len(readers) * len(EXPECTED), seconds=120)

    received = _received(await fakegram.messages())
    for reader in readers:
        assert received[reader] == EXPECTED  # every item, exactly once, in order
    stats = await fakegram.stats()
    print(f"max messages in 1 s: {stats['max_messages_in_1s_window']} (RATE_LIMIT {rate_limit})")
    assert stats["max_messages_in_1s_window"] <= rate_limit
    assert stats["count_429"] == 0
    assert stats["duplicates"] == []
    assert "delivery progress" not in second.log()  # the standby sent nothing

    # Both answer updates: the standby too, when the load balancer picks it.
    answer = await post_update(second, WEBHOOK_SECRET, user_id=readers[0], text="/subscriptions")
    assert answer.status_code == 200
    await fakegram.wait_for_messages(len(EXPECTED) + 1, chat_id=readers[0])
    first.stop()
    second.stop()


@pytest.mark.parametrize("fakegram", [("--rate-scale", "10")], indirect=True)
async def test_when_the_sender_dies_the_other_instance_finishes_the_broadcast(
    fakegram: Fakegram, bot_factory: Callable[..., BotProcess], postgres_url: str
) -> None:
    # Slow enough to kill the sender mid-way, and within what fakegram (one Python process,
    # sharing two cores with the bots in CI) serves without queueing: a queue there would
    # bunch arrivals, and the window measures arrivals.
    rate_limit = 50
    readers = await _open_quiet_chats(fakegram, READERS)
    total = len(readers) * len(EXPECTED)
    first, second = _instances(bot_factory, postgres_url, rate_limit)
    _start_both(first, second)
    _subscribe(postgres_url, readers)
    _drop_issue(first)
    await _wait_for_sent(postgres_url, total // 3, seconds=60)
    first.kill()
    killed_at = time.monotonic()
    sent_at_kill = _sent(postgres_url)[0]
    assert sent_at_kill < total, "the broadcast finished before the kill"
    takeover = await _wait_for_sent(postgres_url, sent_at_kill + 1, TAKEOVER_LIMIT) - killed_at
    await _wait_for_sent(postgres_url, total, seconds=120)
    delivered_at_kill = sent_at_kill  # recorded ones; a few more may have been in flight

    messages = await fakegram.messages()
    received = _received(messages)
    repeats = sum(n - 1 for r in readers for n in Counter(received[r]).values() if n > 1)
    stats = await fakegram.stats()
    print(
        f"takeover: {takeover:.2f} s; delivered at kill {delivered_at_kill}/{total}; "
        f"repeated after takeover: {repeats}; max in 1 s: {stats['max_messages_in_1s_window']}"
    )
    # Only the sends in flight at the kill (delivered, not yet recorded) may repeat: the first
    # copy of every repeat went out in the last second before the kill, none earlier.
    last_before_kill = messages[delivered_at_kill - 1]["time"]
    first_copies = _first_copies_of_repeats(messages)
    assert all(last_before_kill - 1.0 <= t <= last_before_kill + 1.0 for t in first_copies)
    assert repeats < rate_limit  # under a second's worth of sends
    for reader in readers:
        assert list(dict.fromkeys(received[reader])) == EXPECTED  # in order, nothing missing
    assert stats["count_429"] == 0, stats["flood_violations"]
    # Known gap: at this low rate fakegram, starved of CPU by two bots on two cores, timestamps
    # arrivals in bunches, and one second of arrivals has been seen to hold 51-53 sends
    # (paced at 47.5/s), also while only the first instance sent. 10 % is allowed for that; a
    # second sender would show as up to twice the rate.
    assert stats["max_messages_in_1s_window"] <= rate_limit * 1.1
    assert "resuming deliveries" in second.log()
    second.stop()


def _terminate(database_url: str, application_name: str) -> int:
    """Close every connection of one application from the server's side, as a database
    restart or failover does; returns how many there were."""
    engine = storage.make_engine(database_url)
    with engine.begin() as connection:
        closed = connection.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %(name)s",
            {"name": application_name},
        ).scalar_one()
    engine.dispose()
    return int(closed)


@pytest.mark.parametrize("fakegram", [("--rate-scale", "10")], indirect=True)
async def test_a_database_restart_mid_broadcast_loses_nothing(
    fakegram: Fakegram, bot_factory: Callable[..., BotProcess], postgres_url: str
) -> None:
    name = f"bot-{uuid.uuid4().hex[:12]}"  # its connections, none of another test's
    bot_url = make_url(postgres_url).update_query_dict({"application_name": name})
    readers = await _open_quiet_chats(fakegram, 100)
    total = len(readers) * len(EXPECTED)
    bot = bot_factory(DATABASE_URL=bot_url.render_as_string(hide_password=False), RATE_LIMIT="50")
    bot.start()
    bot.wait_for_log("scan done")
    _subscribe(postgres_url, readers)
    _drop_issue(bot)
    await _wait_for_sent(postgres_url, total // 3, seconds=60)
    assert _terminate(postgres_url, name) >= 2  # the pool's and the sender lock's
    sent_at_restart = _sent(postgres_url)[0]
    assert sent_at_restart < total, "the broadcast finished before the restart"
    await _wait_for_sent(postgres_url, total, seconds=120)

    received = _received(await fakegram.messages())
    for reader in readers:
        assert received[reader] == EXPECTED  # every item, once, in order
    # The operator reads what happened, one line each, and no traceback.
    log = bot.log()
    assert "sender lock connection lost" in log
    assert log.count("sender elected") == 2  # its lock's connection closed, it took it again
    assert "Traceback" not in log
    bot.stop()
