"""A dropped issue reaches subscribers: in order, filtered by keyword, past dead chats and
images, through group migrations, at scale and across a crash."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import httpx
import pytest
from sqlmodel import Session

from bot import storage
from bot.content import read_issue
from bot.content.messages import issue_messages
from bot.content.split import visible_text
from bot.content.types import MessageKind, OutgoingMessage
from tests.e2e.botproc import BotProcess
from tests.e2e.harness import BOT_TOKEN, Fakegram, SentMessage

pytestmark = pytest.mark.e2e

ISSUE_ID = "20990301"
ISSUE = f"""> 导读： 本期为 AI 简报 {ISSUE_ID} 期，将为您带来 3 条相关新闻

# 1. [GPT 新模型发布](https://example.com/1) | 来源一

![](https://img.example.com/one.png)

第一条正文，关于 GPT 与 <大模型> & 推理。

# 2. [芯片新闻](https://example.com/2) | 来源二

第二条正文，关于芯片。

# 3. [机器人](https://example.com/3)

![](https://img.example.com/dead-robot.png)

第三条正文，图片已经失效。
"""
EXPECTED = issue_messages(read_issue(ISSUE.encode()))
# What a reader following 芯片 gets before item 2, in place of the issue's header.
CHIPS_HEADER = "🔔 AI 简报 · 2099-03-01\n本期 3 条中有 1 条提到你关注的「芯片」"


def _drop_issue(bot: BotProcess, text: str = ISSUE, name: str = f"{ISSUE_ID}.md") -> None:
    partial = bot.issues_dir / f".{name}.partial"
    partial.write_text(text, encoding="utf-8")
    partial.replace(bot.issues_dir / name)  # as an editor's sync tool would: all at once


async def _reader(fakegram: Fakegram, user_id: int, *keywords: str) -> int:
    """A reader opens a private chat and subscribes, as a person would; returns the sequence
    number of the bot's last answer, after which only the issue may arrive."""
    await fakegram.create_user(user_id, f"reader{user_id}", "zh-hans")
    await fakegram.open_private_chat(user_id, "zh-hans")
    await fakegram.wait_for_messages(1, chat_id=user_id)  # the greeting
    await fakegram.send_text(user_id, " ".join(["/subscribe", *keywords]))
    answers = await fakegram.wait_for_messages(2, chat_id=user_id)
    return answers[-1]["seq"]


def _shown(message: OutgoingMessage) -> str:
    return visible_text(message.text).strip()


async def _subscribed_group(fakegram: Fakegram, group_id: int, *, admin: int) -> None:
    """A group whose admin subscribed it to every issue, as a person would."""
    await fakegram.create_user(admin, "admin", "en")
    await fakegram.create_group(group_id, [], title="AI readers", admins=[admin])
    await fakegram.send_text(admin, "/subscribe@test_bot", chat_id=group_id)
    await fakegram.wait_for_messages(1, chat_id=group_id)


def _assert_received(received: list[SentMessage], expected: Iterable[OutgoingMessage]) -> None:
    expected = list(expected)
    assert [m["text"] for m in received] == [_shown(m) for m in expected]
    methods = {
        MessageKind.TEXT: "sendMessage",
        MessageKind.PHOTO: "sendPhoto",
        MessageKind.ANIMATION: "sendAnimation",
    }
    assert [m["method"] for m in received] == [methods[m.kind] for m in expected]


async def _wait_until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {seconds} s")
        await asyncio.sleep(0.1)  # polling interval


async def test_subscriber_receives_a_dropped_issue_item_by_item_in_order(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    since = await _reader(fakegram, 1001)
    _drop_issue(running_bot)
    received = await fakegram.wait_for_messages(len(EXPECTED), 1001, since, timeout=30)
    _assert_received(received, EXPECTED)
    assert received[1]["media"][0]["url"] == "https://img.example.com/one.png"
    assert "AI 简报 · 2099-03-01" in received[0]["text"]
    running_bot.wait_for_log("issue published issue=20990301")


async def test_keyword_subscriber_gets_only_matching_items(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    since_chips = await _reader(fakegram, 2001, "芯片")
    since_all = await _reader(fakegram, 2002)
    _drop_issue(running_bot)
    everything = await fakegram.wait_for_messages(len(EXPECTED), 2002, since_all, timeout=30)
    _assert_received(everything, EXPECTED)
    chips = [m for m in EXPECTED if m.item_number == 2]
    only_chips = await fakegram.wait_for_messages(1 + len(chips), 2001, since_chips)
    header, *items = only_chips
    assert header["text"] == CHIPS_HEADER  # where the item comes from, and why
    _assert_received(items, chips)
    (button,) = header["reply_markup"]["inline_keyboard"][0]
    since = only_chips[-1]["seq"]
    await fakegram.press_button(2001, header["message_id"], button["callback_data"])
    whole = await fakegram.wait_for_messages(len(EXPECTED), 2001, since, timeout=30)
    _assert_received(whole, EXPECTED)  # the button brings the rest of the issue


async def test_the_editors_own_section_reaches_whole_issue_readers_in_its_place(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    with_note = ISSUE.replace("# 2. [芯片新闻]", "# 编者按\n\n下周休刊一期。\n\n# 2. [芯片新闻]")
    expected = issue_messages(read_issue(with_note.encode()))
    since_chips = await _reader(fakegram, 2051, "芯片")
    since_all = await _reader(fakegram, 2052)
    _drop_issue(running_bot, with_note)
    everything = await fakegram.wait_for_messages(len(expected), 2052, since_all, timeout=30)
    _assert_received(everything, expected)
    texts = [m["text"] for m in everything]
    note = texts.index("编者按\n\n下周休刊一期。")
    assert texts[note - 1].startswith("1. ")  # where the editor put it
    assert texts[note + 1].startswith("2. ")
    chips = [m for m in expected if m.item_number == 2]
    only_chips = await fakegram.wait_for_messages(1 + len(chips), 2051, since_chips)
    assert only_chips[0]["text"] == CHIPS_HEADER
    _assert_received(only_chips[1:], chips)  # no note: it is the whole issue's


async def test_blocked_reader_is_deactivated_and_the_others_get_everything(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    since = {reader: await _reader(fakegram, reader) for reader in (3001, 3002, 3003)}
    await fakegram.block(3002)
    _drop_issue(running_bot)
    for reader in (3001, 3003):
        received = await fakegram.wait_for_messages(
            len(EXPECTED), reader, since[reader], timeout=30
        )
        _assert_received(received, EXPECTED)
    engine = storage.make_engine(running_bot.database_url)

    def blocked_is_inactive() -> bool:
        with Session(engine) as session:
            chat = storage.get_chat(session, 3002)
            return chat is not None and not chat.active

    await _wait_until(blocked_is_inactive, 10, "the blocked chat was not deactivated")
    with Session(engine) as session:
        chat = storage.get_chat(session, 3002)
        assert chat is not None
        assert "blocked" in (chat.inactive_reason or "")
        pending = storage.outbox_counts(session)[storage.DeliveryStatus.PENDING]
        assert pending == 0
    assert await fakegram.messages(chat_id=3002, since=since[3002]) == []


async def test_migrated_group_keeps_its_subscription(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    await _subscribed_group(fakegram, -4000, admin=4001)
    await fakegram.migrate(-4000, -1004000)
    _drop_issue(running_bot)
    received = await fakegram.wait_for_messages(len(EXPECTED), chat_id=-1004000, timeout=30)
    _assert_received(received, EXPECTED)
    engine = storage.make_engine(running_bot.database_url)
    with Session(engine) as session:
        assert storage.subscriptions_of(session, -1004000) == [None]
        old = storage.get_chat(session, -4000)
        assert old is not None
        assert not old.active


async def test_a_group_telegram_holds_back_for_a_minute_holds_back_no_other_chat(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    await _subscribed_group(fakegram, -4100, admin=4101)
    since = await _reader(fakegram, 4102)
    # Another client of the same bot fills the group's minute behind the bot's back.
    async with httpx.AsyncClient() as client:
        for _ in range(25):
            noise = await client.post(
                f"{fakegram.bot_api_url}{BOT_TOKEN}/sendMessage",
                json={"chat_id": -4100, "text": "noise"},
            )
            if noise.status_code == 429:
                break
    assert noise.status_code == 429
    _drop_issue(running_bot)

    received = await fakegram.wait_for_messages(len(EXPECTED), 4102, since, timeout=30)
    _assert_received(received, EXPECTED)
    group_refused = [
        v for v in (await fakegram.stats())["flood_violations"] if v["chat_id"] == -4100
    ]
    refused_until = group_refused[-1]["time"] + group_refused[-1]["retry_after"]
    assert refused_until - received[-1]["time"] > 30  # the reader did not wait for the group


@pytest.mark.parametrize("fakegram", [("--dead-image-regex", "dead-")], indirect=True)
async def test_dead_image_still_delivers_the_item_as_text(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    since = await _reader(fakegram, 5001)
    _drop_issue(running_bot)
    received = await fakegram.wait_for_messages(len(EXPECTED), 5001, since, timeout=30)
    robot = received[-1]
    assert robot["method"] == "sendMessage"
    assert robot["text"].startswith("3. 机器人")
    assert "第三条正文" in robot["text"]
    links = [e.get("url") for e in robot["entities"] if e["type"] == "text_link"]
    assert "https://img.example.com/dead-robot.png" in links
    assert received[1]["method"] == "sendPhoto"  # the live image still goes as a photo
