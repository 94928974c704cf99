"""Commands end to end: a user writes to the real bot (`python -m bot run`) through fakegram,
and the test reads back what the bot answered."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import telegram
from sqlmodel import Session, select

from bot import storage
from bot.content import read_issue
from bot.content.messages import issue_messages
from bot.content.split import TEXT_LIMIT, visible_length, visible_text
from bot.content.types import OutgoingMessage
from bot.delivery.broadcast import copy_on_its_way
from bot.handlers.keyboards import keyword_check
from tests.content.html_check import assert_telegram_html
from tests.e2e.botproc import REPO, BotProcess
from tests.e2e.harness import BOT_TOKEN, Fakegram, SentMessage

pytestmark = pytest.mark.e2e

DELIVERY_TIMEOUT = 60.0  # a whole issue to one private chat, paced at 1 message per second


def expected_messages(issue_id: str) -> list[OutgoingMessage]:
    path = REPO / "issues" / f"{issue_id}.md"
    return issue_messages(read_issue(path.read_bytes(), file_name=path.name))


def shown(message: OutgoingMessage) -> str:
    return visible_text(message.text).strip()


def buttons(message: SentMessage) -> list[dict[str, Any]]:
    markup = message["reply_markup"] or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


class Chat:
    """One user writing in one chat (their private chat unless `chat_id`)."""

    def __init__(self, fakegram: Fakegram, user_id: int, chat_id: int | None = None) -> None:
        self.fakegram = fakegram
        self.user_id = user_id
        self.chat_id = chat_id if chat_id is not None else user_id

    async def last_seq(self) -> int:
        sent = await self.fakegram.messages()
        return sent[-1]["seq"] if sent else 0

    async def say(self, text: str, count: int = 1, within: float = 15.0) -> list[SentMessage]:
        """Write `text`; return the bot's next `count` messages in this chat."""
        since = await self.last_seq()
        group = None if self.chat_id == self.user_id else self.chat_id
        await self.fakegram.send_text(self.user_id, text, chat_id=group)
        sent = await self.fakegram.wait_for_messages(count, self.chat_id, since, within)
        return sent[:count]

    async def answer(self, text: str) -> str:
        """Write `text`; return the text of the bot's one answer."""
        return (await self.say(text))[0]["text"]

    async def press(
        self, message: SentMessage, data: str, *, force: bool = False
    ) -> dict[str, Any]:
        """Press a button of `message`; return the callback query's answer once it is given."""
        group = None if self.chat_id == self.user_id else self.chat_id
        update = await self.fakegram.press_button(
            self.user_id, message["message_id"], data, chat_id=group, force=force
        )
        query_id = update["callback_query"]["id"]

        async def answered() -> dict[str, Any] | None:
            queries = (await self.fakegram.answers())["callback_queries"]
            found = [q["answer"] for q in queries if q["query"]["id"] == query_id]
            return found[0] if found and found[0] is not None else None

        return await poll(answered, f"callback query {data!r} was not answered")


async def poll(get: Callable[[], Any], failure: str, within: float = 15.0) -> Any:
    """Call `get` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        value = get()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{failure} within {within} s")
        await asyncio.sleep(0.05)  # polling interval, not a synchronisation guess


def database(bot: BotProcess) -> Callable[[], Session]:
    engine = storage.make_engine(bot.database_url)
    return lambda: Session(engine)


async def reader(fakegram: Fakegram, user_id: int, language: str = "en") -> Chat:
    await fakegram.create_user(user_id, "Ann", language)
    return Chat(fakegram, user_id)


# ------------------------------------------------------------------------------ readers


async def test_start_greets_registers_the_chat_and_lists_the_commands(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    # The first scan ran as a scheduled job, which APScheduler would log twice at INFO.
    assert "Running job" not in running_bot.log()
    english = await reader(fakegram, 1101, "en")
    greeting = await english.answer("/start")
    assert greeting.startswith("👋 Hello, Ann!")
    assert "/subscribe" in greeting
    assert "/search" in greeting
    assert "/stats" not in greeting  # not an editor
    assert "type @test_bot GPT there" in greeting  # how to share an item anywhere

    chinese = await reader(fakegram, 1102, "zh-hans")
    assert "你好" in await chinese.answer("/start")
    help_text = await chinese.answer("/help")
    assert "/unsubscribe — 取消订阅" in help_text
    assert not help_text.startswith("👋")

    with database(running_bot)() as session:
        chat = storage.get_chat(session, 1101)
        assert chat is not None
        assert chat.active
        assert chat.type == "private"


async def test_subscription_buttons_subscribe_drop_each_and_subscribe_again(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1151)
    (greeting,) = await chat.say("/start")
    assert [b["callback_data"] for b in buttons(greeting)] == ["a"]  # a chat new to the bot
    since = await chat.last_seq()
    await chat.press(greeting, "a")
    (confirmed,) = await fakegram.wait_for_messages(1, chat.chat_id, since)
    assert "every new issue" in confirmed["text"]
    assert [b["callback_data"] for b in buttons(confirmed)] == ["i:20210305"]  # the latest
    assert not buttons(await poll(lambda: edited_message(fakegram, greeting, 1), "no edit"))
    (again,) = await chat.say("/start")
    assert not buttons(again)  # subscribed now: nothing to offer

    await chat.say("/subscribe GPT 芯片")
    (listed,) = await chat.say("/subscriptions")
    assert listed["text"].endswith("Tap a button below to stop one.")
    with database(running_bot)() as session:
        ids = {
            f.label: f"u:{f.id}:{keyword_check(f.keyword)}"
            for f in storage.followed(session, chat.chat_id)
        }
    assert [(b["text"], b["callback_data"]) for b in buttons(listed)] == [
        ("✕ GPT", ids["GPT"]),
        ("✕ 芯片", ids["芯片"]),
    ]
    assert not (await chat.press(listed, ids["GPT"]))["text"]  # the edit is the answer
    edited = await poll(lambda: edited_message(fakegram, listed, 1), "GPT was not dropped")
    assert "“芯片”" in edited["text"]
    assert "GPT" not in edited["text"]
    # A second tap (the first one's edit not shown yet) changes nothing, and says so.
    again = await chat.press(edited, ids["GPT"], force=True)
    assert again["text"] == "Already done: this chat no longer has that subscription."
    await chat.press(edited, ids["芯片"])
    empty = await poll(lambda: edited_message(fakegram, listed, 2), "芯片 was not dropped")
    assert "not subscribed" in empty["text"]
    assert [b["callback_data"] for b in buttons(empty)] == ["a:l"]
    await chat.press(empty, "a:l")
    everything = await poll(lambda: edited_message(fakegram, listed, 3), "no resubscription")
    assert "every new issue" in everything["text"]
    assert (await chat.press(empty, "a:l", force=True))["text"] == (
        "This chat already gets every new issue."
    )
    with database(running_bot)() as session:
        assert storage.subscriptions_of(session, chat.chat_id) == [None]
    (stop,) = [b["callback_data"] for b in buttons(everything)]
    assert not (await chat.press(everything, stop))["text"]
    assert (await chat.press(everything, stop, force=True))["text"].startswith("Already done")
    with database(running_bot)() as session:
        assert storage.subscriptions_of(session, chat.chat_id) == []


async def test_an_old_drop_button_never_drops_a_keyword_followed_since(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1161)
    await chat.say("/subscribe GPT")
    (old,) = await chat.say("/subscriptions")
    (stale,) = [b["callback_data"] for b in buttons(old)]
    await chat.say("/unsubscribe GPT")
    await chat.say("/subscribe 芯片")  # on SQLite, the row id GPT had
    answer = await chat.press(old, stale)
    assert answer["text"] == "Already done: this chat no longer has that subscription."
    shown = await poll(lambda: edited_message(fakegram, old, 1), "the list was not shown")
    assert "“芯片”" in shown["text"]
    with database(running_bot)() as session:
        assert storage.subscriptions_of(session, chat.chat_id) == ["芯片"]


async def test_an_argument_without_keywords_and_a_long_unsubscribe_get_a_short_answer(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1203)
    await chat.answer("/subscribe GPT")
    # Something written, no keyword in it: not the command alone (every issue, or stop all).
    assert (await chat.answer("/subscribe 「」")).startswith("There is no keyword in that.")
    assert (await chat.answer('/unsubscribe ""')).startswith("There is no keyword in that.")
    with database(running_bot)() as session:
        assert storage.subscriptions_of(session, 1203) == ["gpt"]
    many = " ".join(f"w{i}" for i in range(21))
    assert await chat.answer(f"/unsubscribe {many}") == "Please drop at most 20 keywords at once."
    # 50 followed and 20 missing keywords of the longest kind: the list would pass 4096.
    longest = [f"{i:02d}" + "k" * 62 for i in range(70)]
    for start in (0, 20, 40):
        await chat.answer("/subscribe " + " ".join(longest[start : start + 20][: 50 - start]))
    answer = await chat.answer("/unsubscribe " + " ".join(longest[50:]))
    assert answer.startswith("This chat does not follow “50kkk")
    assert answer.endswith("/subscriptions lists what this chat follows.")


async def test_subscribe_keywords_subscriptions_and_unsubscribe(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1201)
    assert "not subscribed" in await chat.answer("/subscriptions")
    (subscribed,) = await chat.say("/subscribe")
    assert "every new issue" in subscribed["text"]
    # A new reader need not wait a week: the latest issue, a tap away.
    (offer,) = buttons(subscribed)
    assert offer["text"] == "📰 Read the latest issue (2021-03-05) now"
    (again,) = await chat.say("/subscribe")
    assert "already gets every new issue" in again["text"]
    assert buttons(again) == []
    assert "every new issue" in await chat.answer("/subscriptions")
    followed = await chat.answer("/subscribe GPT, 机器人")
    assert "Now following: “GPT”, “机器人”" in followed  # as the reader wrote it
    assert "“GPT”, “机器人”" in await chat.answer("/subscriptions")
    # The same keyword, however written: once, as the reader first wrote it.
    assert "already follows “GPT”." in await chat.answer("/subscribe gpt ＧＰＴ GPT")
    assert "does not follow “芯片”" in await chat.answer("/unsubscribe 芯片")
    assert "Now following: “deep learning”" in await chat.answer('/subscribe "deep learning"')
    unquoted = await chat.answer("/unsubscribe deep learning")  # the phrase, quotes forgotten
    assert unquoted == "🔕 No longer following: “deep learning”"
    dropped = await chat.answer("/unsubscribe gpt ＧＰＴ")  # as followed, once
    assert dropped == "🔕 No longer following: “GPT”"
    with database(running_bot)() as session:
        assert storage.subscriptions_of(session, 1201) == ["机器人"]
    last = await chat.answer("/unsubscribe 机器人")  # the last keyword: say what that means
    assert last.split("\n")[1:] == [
        "This chat follows nothing now, so it gets no more issues.",
        "Use /subscribe for every issue, or /subscribe GPT 机器人.",
    ]
    assert "not subscribed" in await chat.answer("/unsubscribe")
    with database(running_bot)() as session:
        assert storage.subscriptions_of(session, 1201) == []

    since = await chat.last_seq()
    await chat.press(subscribed, offer["callback_data"])  # the offer still stands
    (header, *_) = await fakegram.wait_for_messages(1, chat.chat_id, since)
    assert header["text"] == shown(expected_messages("20210305")[0])


async def test_unsubscribing_stops_the_rest_of_an_issue_on_its_way(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1251)
    assert "every new issue" in await chat.answer("/subscribe")
    since = await _broadcast_under_way(running_bot, chat, "20990601")
    await fakegram.send_text(chat.user_id, "/unsubscribe")

    async def answered() -> bool:
        return any("Unsubscribed" in m["text"] for m in await fakegram.messages(chat.chat_id))

    await poll(answered, "/unsubscribe was not answered")
    counts = await _settled(running_bot, "20990601")
    assert counts[storage.DeliveryStatus.DROPPED] > 0
    got = [
        m for m in await fakegram.messages(chat.chat_id, since) if "Unsubscribed" not in m["text"]
    ]
    sent, total = counts[storage.DeliveryStatus.SENT], len(expected_messages("20210305"))
    assert len(got) == sent  # what was sent arrived; the rest stopped coming
    assert sent + counts[storage.DeliveryStatus.DROPPED] == total
    assert sent < total - 2


async def test_following_a_keyword_instead_narrows_an_issue_on_its_way(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1252)
    await chat.answer("/subscribe")
    since = await _broadcast_under_way(running_bot, chat, "20990602")
    await fakegram.send_text(chat.user_id, "/subscribe 哈佛")  # only item 9 mentions it
    counts = await _settled(running_bot, "20990602")
    got = [m["text"] for m in await fakegram.messages(chat.chat_id, since)]
    assert got[-1].startswith("9. ")  # the item it follows still came, last
    sent, dropped = counts[storage.DeliveryStatus.SENT], counts[storage.DeliveryStatus.DROPPED]
    assert sent + dropped == len(expected_messages("20210305"))
    assert dropped > 2  # the items it no longer follows stopped coming


async def _broadcast_under_way(bot: BotProcess, chat: Chat, issue_id: str) -> int:
    """Drop a copy of 20210305 as `issue_id` (11 messages: about 10 s at one a second) and
    wait until `chat` has its first two; returns the sequence number before them."""
    since = await chat.last_seq()
    text = (REPO / "issues" / "20210305.md").read_text(encoding="utf-8")
    (Path(bot.issues_dir) / f"{issue_id}.md").write_text(
        text.replace("20210305", issue_id), encoding="utf-8"
    )
    await chat.fakegram.wait_for_messages(2, chat.chat_id, since, DELIVERY_TIMEOUT)
    return since


async def _settled(bot: BotProcess, issue_id: str) -> dict[storage.DeliveryStatus, int]:
    """The issue's deliveries by status, once none is pending."""

    def settled() -> dict[storage.DeliveryStatus, int] | None:
        with database(bot)() as session:
            counts = storage.outbox_counts(session, issue_id)
        return None if counts[storage.DeliveryStatus.PENDING] else counts

    return await poll(settled, f"deliveries of {issue_id} still pending")


async def test_a_500_character_keyword_gets_a_short_helpful_reply(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1301, "zh")
    text = await chat.answer("/subscribe " + "很" * 500)
    assert "关键词太长" in text
    assert "500" in text
    assert len(text) < 300
    with database(running_bot)() as session:
        assert storage.subscriptions_of(session, 1301) == []


async def test_a_chat_follows_at_most_50_keywords_and_can_still_list_them(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1351)
    for batch in range(2):  # 40 keywords of the longest kind
        keywords = " ".join(f"{batch}{n:02d}".ljust(64, "x") for n in range(20))
        assert "Now following" in await chat.answer(f"/subscribe {keywords}")
    refused = await chat.answer("/subscribe " + " ".join(f"k{n}" for n in range(11)))
    assert "would follow 51 keywords; at most 50" in refused
    assert "Now following" in await chat.answer(
        "/subscribe " + " ".join(f"k{n}" for n in range(10))
    )
    listed = await chat.answer("/subscriptions")
    assert listed.count("“") == 50
    with database(running_bot)() as session:
        assert len(storage.subscriptions_of(session, 1351)) == 50


async def test_latest_sends_the_latest_issue_in_full(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1401)
    expected = expected_messages("20210305")
    received = await chat.say("/latest", count=len(expected), within=DELIVERY_TIMEOUT)
    assert [m["text"] for m in received] == [shown(m) for m in expected]


async def test_asking_twice_while_an_issue_is_coming_gives_one_copy_in_order(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1451)
    expected = [shown(m) for m in expected_messages("20210305")]
    (header,) = await chat.say("/issue 20210305")

    def coming() -> bool:  # the header is marked sent a moment after it arrives
        with database(running_bot)() as session:
            return copy_on_its_way(session, chat.chat_id, "20210305")

    await poll(coming, "the header was not marked sent")
    await fakegram.send_text(chat.user_id, "/issue 20210305")  # the rest is still on its way
    await fakegram.wait_for_messages(len(expected), chat.chat_id, header["seq"], DELIVERY_TIMEOUT)

    def pending() -> int:
        with database(running_bot)() as session:
            rows = session.exec(
                select(storage.Delivery).where(
                    storage.Delivery.chat_id == chat.chat_id,
                    storage.Delivery.status == storage.DeliveryStatus.PENDING,
                )
            )
            return len(rows.all())

    await poll(lambda: pending() == 0, "the outbox still has messages for the chat")
    received = [m["text"] for m in await fakegram.messages(chat.chat_id)]
    answer = "Issue 20210305 is on its way here: the rest of it is coming."
    assert answer in received  # the second /issue's answer, somewhere among the issue
    assert [text for text in received if text != answer] == expected


async def test_issues_lists_recent_issues_and_a_button_sends_one(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1501)
    (listing,) = await chat.say("/issues")
    assert [b["callback_data"] for b in buttons(listing)] == [
        "i:20210305",
        "i:20210219",
        "i:20210114",
        "i:20201218",
    ]
    since = await chat.last_seq()
    answer = await chat.press(listing, "i:20201218")
    assert answer["text"] == "Sending issue 20201218…"
    header = (await fakegram.wait_for_messages(1, chat.chat_id, since))[0]
    assert header["text"] == shown(expected_messages("20201218")[0])


async def test_issues_pages_through_a_long_archive(
    fakegram: Fakegram, bot_factory: Callable[..., BotProcess]
) -> None:
    bot = bot_factory()
    older = [f"202001{day:02d}" for day in range(1, 9)]  # 8 more: 12 issues, two pages
    for issue_id in older:
        intro = f"> 导读： 本期为 AI 简报 {issue_id} 期"
        item = f"# 1. [新闻 {issue_id}](https://example.com/{issue_id}) | 来源\n\n正文。\n"
        (bot.issues_dir / f"{issue_id}.md").write_text(f"{intro}\n\n{item}", encoding="utf-8")
    bot.start()
    bot.wait_for_log("scan done")
    chat = await reader(fakegram, 1551)
    (listing,) = await chat.say("/issues")
    assert listing["text"].startswith("Issues, newest first, page 1/2")
    first = ["i:20210305", "i:20210219", "i:20210114", "i:20201218"] + [
        f"i:{i}" for i in reversed(older[2:])
    ]
    assert [b["callback_data"] for b in buttons(listing)] == [*first, "l:1"]

    assert not (await chat.press(listing, "l:1"))["text"]  # a silent answer, then the edit
    edited = await poll(lambda: edited_message(fakegram, listing, 1), "page 2 was not shown")
    assert edited["text"].startswith("Issues, newest first, page 2/2")
    assert [b["callback_data"] for b in buttons(edited)] == ["i:20200102", "i:20200101", "l:0"]
    await chat.press(edited, "l:0")
    back = await poll(lambda: edited_message(fakegram, listing, 2), "page 1 was not shown again")
    assert [b["callback_data"] for b in buttons(back)] == [*first, "l:1"]


async def test_issue_sends_one_and_bad_ids_get_helpful_replies(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1601)
    usage = await chat.answer("/issue")
    assert "/issue 20210305" in usage
    unknown = await chat.answer("/issue 19990101")
    assert "There is no issue 19990101" in unknown
    assert "20210305, 20210219, 20210114, 20201218" in unknown
    (several,) = await chat.say("/issue 20210305 20210219")  # one at a time, a tap each
    assert several["text"].startswith("One issue at a time, please: /issue 20210305.")
    assert [b["callback_data"] for b in buttons(several)] == ["i:20210305", "i:20210219"]
    (header,) = await chat.say("/issue 2021-01-14")  # a date written the usual way works too
    assert header["text"] == shown(expected_messages("20210114")[0])
    other = await reader(fakegram, 1602)
    (twice,) = await other.say("/issue 20210219 2021-02-19")  # one issue, named twice
    assert twice["text"] == shown(expected_messages("20210219")[0])


async def test_issue_for_a_year_or_month_lists_or_sends_and_a_miss_offers_the_nearest(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1651)
    (listing,) = await chat.say("/issue 2021")
    assert listing["text"].startswith("3 issues in 2021")
    assert [b["callback_data"] for b in buttons(listing)] == [
        "i:20210305",
        "i:20210219",
        "i:20210114",
    ]
    empty = await chat.answer("/issue 2019")
    assert empty.startswith("There is no issue in 2019.")
    assert "Nearest issues: 20210305, 20210219, 20210114, 20201218" in empty
    assert "There is no issue in 2020-11." in await chat.answer("/issue 2020年11月")
    # Last, as the issue's messages fill this chat's pace for a while.
    (header,) = await chat.say("/issue 2020-12")  # a month with one issue: that issue
    assert header["text"] == shown(expected_messages("20201218")[0])

    zh = await reader(fakegram, 1652, "zh")
    (listing,) = await zh.say("/issue 2021年")
    assert listing["text"].startswith("2021 年共 3 期")


async def test_search_pages_by_editing_the_message_and_a_result_sends_the_item(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    with database(running_bot)() as session:
        matches = storage.search_items(session, ["模型"], limit=100).items
    assert len(matches) > 5, "the real issues should give more than one page for 模型"
    pages = (len(matches) + 4) // 5

    chat = await reader(fakegram, 1701, "zh")
    (results,) = await chat.say("/search 模型")
    assert f"共 {len(matches)} 条，第 1/{pages} 页" in results["text"]
    first_page = [b["callback_data"] for b in buttons(results)]
    assert first_page == [f"t:{m.issue_id}:{m.number}" for m in matches[:5]] + ["s:1:模型"]

    assert not (await chat.press(results, "s:1:模型"))["text"]  # a silent answer
    edited = await poll(lambda: edited_message(fakegram, results, 1), "page 2 was not shown")
    assert f"第 2/{pages} 页" in edited["text"]
    assert matches[5].title.split()[0] in edited["text"]
    page_two = [b["callback_data"] for b in buttons(edited)]
    assert page_two[: len(matches[5:10])] == [f"t:{m.issue_id}:{m.number}" for m in matches[5:10]]
    assert "s:0:模型" in page_two

    await chat.press(edited, "s:0:模型")
    back = await poll(lambda: edited_message(fakegram, results, 2), "page 1 was not shown again")
    assert f"第 1/{pages} 页" in back["text"]

    item = matches[0]
    since = await chat.last_seq()
    assert (await chat.press(back, f"t:{item.issue_id}:{item.number}"))[
        "text"
    ] == "正在发送这条新闻…"
    expected = [m for m in expected_messages(item.issue_id) if m.item_number == item.number]
    received = await fakegram.wait_for_messages(len(expected), chat.chat_id, since, timeout=30)
    assert [m["text"] for m in received] == [shown(m) for m in expected]
    assert all(m["message_id"] != results["message_id"] for m in received)


async def edited_message(fakegram: Fakegram, original: SentMessage, edits: int) -> Any:
    found = [m for m in await fakegram.messages(original["chat_id"]) if m["seq"] == original["seq"]]
    return found[0] if found and len(found[0]["edits"]) >= edits else None


async def test_a_query_too_long_for_a_button_still_pages_after_a_restart(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    # Full-width ＡＩ folds to "ai": many spellings of one word make a long query that matches.
    query = "的 ＡＩ ａｉ Ａｉ ａＩ AＩ ａI Aｉ Ａi ai AI Ai aI"
    assert len(f"s:1:{query}".encode()) > 64
    chat = await reader(fakegram, 1751)
    results = (await chat.say(f"/search {query}"))[0]
    assert "page 1/" in results["text"]
    next_page = buttons(results)[-1]["callback_data"]
    assert next_page.startswith("s:1:#")
    running_bot.stop()  # the button carries a digest; the query itself is in the database
    running_bot.start()
    await chat.press(results, next_page)
    edited = await poll(lambda: edited_message(fakegram, results, 1), "page 2 was not shown")
    assert "page 2/" in edited["text"]
    assert query in edited["text"]


async def inline_answer(fakegram: Fakegram, user_id: int, query: str, offset: str = "") -> Any:
    """Type `@test_bot query` as `user_id`; the bot's answer once it is given."""
    update = await fakegram.inline_query(user_id, query, offset)
    query_id = update["inline_query"]["id"]

    async def answered() -> dict[str, Any] | None:
        queries = (await fakegram.answers())["inline_queries"]
        return next((q["answer"] for q in queries if q["query"]["id"] == query_id), None)

    return await poll(answered, f"inline query {query!r} was not answered")


async def test_inline_mode_offers_the_archive_to_share_in_any_chat(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    with database(running_bot)() as session:
        matches = storage.search_items(session, ["的"], limit=100, published_only=True).items
        latest = storage.latest_issue(session, published_only=True)
        assert latest is not None
        newest = storage.items_of(session, latest.id)
    assert len(matches) > 20, "the real issues should give more than one answer for 的"
    await fakegram.create_user(1791, "Ann", "en")

    first = await inline_answer(fakegram, 1791, "的")
    assert [r["id"] for r in first["results"]] == [f"{m.issue_id}-{m.number}" for m in matches[:20]]
    assert first["next_offset"] == "1"
    second = await inline_answer(fakegram, 1791, "的", offset="1")
    assert [r["id"] for r in second["results"]] == [
        f"{m.issue_id}-{m.number}" for m in matches[20:40]
    ]
    assert not second.get("next_offset"), "the last page must say there are no more"
    copied = await inline_answer(fakegram, 1791, "「的」")  # quotes are no part of a word
    assert copied["results"] == first["results"]
    forged = await inline_answer(fakegram, 1791, "的", offset="²")  # a digit int() refuses
    assert forged["results"] == first["results"]
    for result, item in zip(first["results"], matches, strict=False):
        text = result["input_message_content"]["message_text"]
        assert_telegram_html(text)
        assert visible_length(text) <= TEXT_LIMIT
        assert result["title"] == item.title
        assert visible_text(text).startswith(f"{item.number}. {item.title}")
        if item.url:  # its preview shows the article
            preview = result["input_message_content"]["link_preview_options"]
            assert preview["url"] == item.url
            assert not preview.get("is_disabled")
    date = f"{matches[0].issue_id[:4]}-{matches[0].issue_id[4:6]}-{matches[0].issue_id[6:]}"
    assert first["results"][0]["description"].startswith(date)

    # What the inline answer's button opens, when nothing was found: for a reader who
    # follows nothing yet the greeting with its subscribe button, then the question.
    sharer = Chat(fakegram, 1791)
    greeting, prompt = await sharer.say("/start search", count=2)
    assert [b["callback_data"] for b in buttons(greeting)] == ["a"]
    assert "to search the archive" in prompt["text"]
    await sharer.answer("/subscribe")
    assert "to search the archive" in await sharer.answer("/start search")  # only the question
    nothing = await inline_answer(fakegram, 1791, "zzqxv")
    assert nothing["results"] == []  # (fakegram keeps no `button` to check: the bot offers one)
    assert nothing["is_personal"]  # in this reader's language, so not cached for the others
    assert not first["is_personal"]
    latest_answer = await inline_answer(fakegram, 1791, "")  # no words: the latest issue
    assert [r["id"] for r in latest_answer["results"]] == [
        f"{latest.id}-{i.number}" for i in newest
    ]


async def test_plain_text_in_a_private_chat_is_a_search(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1781)
    (typed,) = await chat.say("GPT")
    (commanded,) = await chat.say("/search GPT")
    assert typed["text"] == commanded["text"]
    assert buttons(typed) == buttons(commanded)
    nothing = await chat.answer("zzqxv 不存在的词")
    assert nothing.startswith("Nothing matches “zzqxv 不存在的词”")
    assert "/help lists the commands" in nothing  # maybe it was not meant as a search
    pasted = await chat.answer("今天天气不错，" * 40)  # a letter, not a search
    assert "at most 20 words and 200 characters" in pasted
    assert "/help lists the commands" in pasted


async def test_bad_searches_get_helpful_replies(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1801)
    assert "/search GPT" in await chat.answer("/search")
    assert "Nothing matches “zzqxv 不存在的词”" in await chat.answer("/search zzqxv 不存在的词")
    (one,) = await chat.say("/search gpt")  # case-insensitive
    assert "1 result, page 1/1" in one["text"]  # the noun agrees with its number
    (copied,) = await chat.say("/search 「GPT」")  # a keyword copied from the bot's header
    assert "1 result, page 1/1" in copied["text"]
    too_many = " ".join(f"w{n}" for n in range(1300))
    assert "at most 20 words and 200 characters" in await chat.answer(f"/search {too_many}")
    assert "at most 20 words and 200 characters" in await chat.answer("/search " + "zq" * 2040)
    unknown = await chat.answer("/issue " + "9" * 4000)  # echoed back, but not all of it
    assert "There is no issue" in unknown
    assert len(unknown) < 400
    mistyped = await chat.answer("／latest")  # a Chinese input method's slash: no command
    assert mistyped.startswith("That “／” is a full-width slash")
    assert mistyped.endswith("Send /latest with “/”.")


async def test_a_reply_telegram_throttles_is_sent_after_the_wait(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1951)
    await chat.answer("/start")
    # Another client of the same bot empties this chat's flood bucket behind the bot's back.
    async with httpx.AsyncClient() as client:
        for _ in range(20):
            sent = await client.post(
                f"{fakegram.bot_api_url}{BOT_TOKEN}/sendMessage",
                json={"chat_id": 1951, "text": "noise"},
            )
            if sent.status_code == 429:
                break
        assert sent.status_code == 429
    throttled = (await fakegram.stats())["count_429"]
    assert "/subscribe" in await chat.answer("/help")
    assert (await fakegram.stats())["count_429"] > throttled  # the first try was refused


async def test_unknown_command_in_a_private_chat_points_to_help(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 1901)
    assert "/help" in await chat.answer("/frobnicate")


async def test_commands_work_in_groups_with_the_bot_name(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    await fakegram.create_user(2001, "Ann", "en")
    await fakegram.create_group(-2000, [], title="AI readers", creator=2001)
    group = Chat(fakegram, 2001, chat_id=-2000)
    assert "Hello, Ann" in await group.answer("/start@test_bot")
    assert "every new issue" in await group.answer("/subscribe@test_bot")
    # A command for another bot is not ours, nor an unknown one without our name (another
    # bot's, maybe): the only answer is to the next command.
    for theirs in ("/subscriptions@other_bot", "/frobnicate", "/frobnicate@other_bot"):
        await fakegram.send_text(2001, theirs, chat_id=-2000)
    answers = await group.say("/subscriptions@test_bot")
    assert len(answers) == 1
    assert "every new issue" in answers[0]["text"]
    assert "/help" in await group.answer("/frobnicate@test_bot")  # ours by name
    with database(running_bot)() as session:
        chat = storage.get_chat(session, -2000)
        assert chat is not None
        assert chat.type == "group"
        assert chat.title == "AI readers"
        assert storage.subscriptions_of(session, -2000) == [None]

    await fakegram.create_group(-1002100, [], title="Big", chat_type="supergroup", admins=[2001])
    supergroup = Chat(fakegram, 2001, chat_id=-1002100)
    assert "“GPT”" in await supergroup.answer("/subscribe@test_bot GPT")
    (listing,) = await supergroup.say("/issues@test_bot")
    assert len(buttons(listing)) == 4


async def test_a_command_deleted_before_the_answer_is_still_answered(
    fakegram: Fakegram, running_bot: BotProcess, ptb_bot: telegram.Bot
) -> None:
    # Groups often have a cleaner bot that deletes commands at once; the answer then quotes
    # nothing, and Telegram refuses a reply to a missing message unless told it may go alone.
    await fakegram.create_user(2051, "Ann", "en")
    await fakegram.create_group(-1002050, [2051], title="Tidy", chat_type="supergroup")
    await set_bot_status(fakegram, -1002050, 2051, "administrator")  # may delete messages
    running_bot.stop()  # the command waits for the bot, as when the bot is busy or restarting
    update = await fakegram.send_text(2051, "/help", chat_id=-1002050)
    await ptb_bot.delete_message(-1002050, update["message"]["message_id"])
    since = await Chat(fakegram, 2051, chat_id=-1002050).last_seq()
    running_bot.start()
    (answer,) = await fakegram.wait_for_messages(1, -1002050, since, timeout=15)
    assert "/subscribe" in answer["text"]
    assert "Traceback" not in running_bot.log()


async def test_a_command_sent_just_before_its_group_became_a_supergroup_is_answered_there(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    await fakegram.create_user(2061, "Ann", "en")
    await fakegram.create_group(-2060, [2061], title="Growing")
    running_bot.stop()  # the command waits for the bot while the group is upgraded
    await fakegram.send_text(2061, "/help", chat_id=-2060)
    await fakegram.migrate(-2060, -1002060)
    running_bot.start()
    # Telegram refuses the answer in the old group and names the supergroup: it goes there.
    (answer,) = await fakegram.wait_for_messages(1, -1002060, timeout=15)
    assert "/subscribe" in answer["text"]
    assert await fakegram.messages(-2060) == []
    assert "Traceback" not in running_bot.log()


async def test_only_a_groups_admins_change_what_it_gets(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    for user_id, name in ((2101, "Ann"), (2102, "Bob"), (running_bot.admin_id, "Editor")):
        await fakegram.create_user(user_id, name, "en")
    await fakegram.create_group(
        -2100, [2102, running_bot.admin_id], title="AI readers", admins=[2101]
    )
    admin, member = Chat(fakegram, 2101, chat_id=-2100), Chat(fakegram, 2102, chat_id=-2100)
    editor = Chat(fakegram, running_bot.admin_id, chat_id=-2100)
    refused = "Only this group's admins can change what it gets."
    assert await member.answer("/subscribe@test_bot") == refused
    assert "Now following" in await admin.answer("/subscribe@test_bot GPT")
    assert await member.answer("/unsubscribe@test_bot") == refused
    assert await member.answer("/unsubscribe@test_bot GPT") == refused
    (listing,) = await member.say("/subscriptions@test_bot")  # anyone may look
    assert "GPT" in listing["text"]
    (drop,) = buttons(listing)
    alert = await member.press(listing, drop["callback_data"])
    assert (alert["text"], alert["show_alert"]) == (refused, True)  # and nothing else
    with database(running_bot)() as session:
        assert storage.subscriptions_of(session, -2100) == ["gpt"]
    assert "No longer following" in await editor.answer("/unsubscribe@test_bot GPT")
    with database(running_bot)() as session:
        assert storage.subscriptions_of(session, -2100) == []  # the bot's own admins may too


async def test_a_group_is_not_sent_the_same_issue_twice_within_minutes(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    await fakegram.create_user(2151, "Ann", "en")
    await fakegram.create_group(-2150, [2151], title="AI readers")
    group = Chat(fakegram, 2151, chat_id=-2150)
    since = await group.last_seq()
    await fakegram.send_text(2151, "/latest@test_bot", chat_id=-2150)
    (header,) = (await fakegram.wait_for_messages(1, -2150, since, DELIVERY_TIMEOUT))[:1]
    assert header["text"] == shown(expected_messages("20210305")[0])

    def posted() -> bool:  # the header is marked sent a moment after it arrives
        with database(running_bot)() as session:
            return storage.issue_posted_at(session, -2150, "20210305") is not None

    await poll(posted, "the header was not marked sent")

    async def said(text: str, since: int) -> str:
        """The bot's answer starting with `text` among the issue still coming in."""

        async def found() -> str | None:
            texts = [m["text"] for m in await fakegram.messages(-2150, since)]
            return next((t for t in texts if t.startswith(text)), None)

        return await poll(found, f"no answer starting {text!r}")

    since = await group.last_seq()
    await fakegram.send_text(2151, "/latest@test_bot", chat_id=-2150)  # a member asks again
    coming = await said("Issue 20210305 is on", since)  # while the rest is still coming in
    assert coming == "Issue 20210305 is on its way here: the rest of it is coming."

    def complete() -> bool:
        with database(running_bot)() as session:
            return not copy_on_its_way(session, -2150, "20210305")

    await poll(complete, "the issue did not reach the group in full", DELIVERY_TIMEOUT)
    since = await group.last_seq()
    await fakegram.send_text(2151, "/latest@test_bot", chat_id=-2150)
    again = await said("Issue 20210305 was posted here", since)
    assert again == "Issue 20210305 was posted here 1 minute ago: scroll up to read it."
    since = await group.last_seq()
    await fakegram.send_text(2151, "/issues@test_bot", chat_id=-2150)
    listing_text = await said("Issues", since)
    (listing,) = [m for m in await fakegram.messages(-2150, since) if m["text"] == listing_text]
    toast = await group.press(listing, "i:20210305")  # the same by its button
    assert toast["text"] == again


async def test_blocking_deactivates_the_chat_and_unblocking_brings_it_back(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    chat = await reader(fakegram, 2201)
    await chat.answer("/subscribe")
    session = database(running_bot)

    def active() -> bool | None:
        with session() as s:
            row = storage.get_chat(s, 2201)
            return row.active if row else None

    await fakegram.block(2201)
    await poll(lambda: active() is False, "the blocked chat was not deactivated")
    with session() as s:
        row = storage.get_chat(s, 2201)
        assert row is not None
        assert "blocked" in (row.inactive_reason or "")
    await fakegram.block(2201, blocked=False)
    await poll(lambda: active() is True, "the unblocked chat was not reactivated")
    with session() as s:
        assert storage.subscriptions_of(s, 2201) == [None]


async def set_bot_status(fakegram: Fakegram, chat_id: int, user_id: int, status: str) -> None:
    """Have `user_id` add the bot to the group, or kick it (the harness has no call for this)."""
    body = {"chat_id": chat_id, "user_id": user_id, "status": status}
    async with httpx.AsyncClient(base_url=fakegram.url, timeout=30) as client:
        response = await client.post("/_test/add_to_chat", json=body)
    assert response.json()["ok"], response.text


async def test_a_group_is_registered_when_added_and_deactivated_when_the_bot_is_kicked(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    await fakegram.create_user(2601, "Ann", "en")
    await fakegram.create_group(-2600, [], title="Readers", bot_member=False, creator=2601)
    session = database(running_bot)

    def chat_row() -> storage.Chat | None:
        with session() as s:
            return storage.get_chat(s, -2600)

    await set_bot_status(fakegram, -2600, 2601, "member")
    (hello,) = await fakegram.wait_for_messages(1, -2600)  # what it does, how to subscribe
    assert hello["text"].startswith("👋 Hello, Readers!")
    assert "/subscribe" in hello["text"]
    await poll(lambda: chat_row() is not None, "the group was not registered")
    group = Chat(fakegram, 2601, chat_id=-2600)
    since = await group.last_seq()
    await group.press(hello, "a")  # the greeting's button subscribes the group
    (confirmed,) = await fakegram.wait_for_messages(1, -2600, since)
    assert "every new issue" in confirmed["text"]

    await set_bot_status(fakegram, -2600, 2601, "kicked")
    row = await poll(lambda: (c := chat_row()) and not c.active and c, "not deactivated")
    assert row.inactive_reason == "bot was removed from the group"

    await set_bot_status(fakegram, -2600, 2601, "member")
    await poll(lambda: (c := chat_row()) and c.active, "the group was not reactivated")
    with session() as s:
        assert storage.subscriptions_of(s, -2600) == [None]


async def test_a_supergroup_is_greeted_unless_it_was_a_group_the_bot_was_in(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    await fakegram.create_user(2651, "Ann", "en")
    await fakegram.create_group(
        -1002650, [2651], title="Super", chat_type="supergroup", bot_member=False
    )
    await set_bot_status(fakegram, -1002650, 2651, "member")
    (hello,) = await fakegram.wait_for_messages(1, -1002650)  # after MIGRATION_GRACE
    assert hello["text"].startswith("👋 Hello, Super!")

    await fakegram.create_group(-2660, [2651], title="Readers", bot_member=False)
    await set_bot_status(fakegram, -2660, 2651, "member")
    await fakegram.wait_for_messages(1, -2660)  # greeted once, as a group
    # The group becomes a supergroup, and Telegram tells of the bot joining it first.
    await fakegram.create_group(
        -1002660, [2651], title="Readers", chat_type="supergroup", bot_member=False
    )
    await set_bot_status(fakegram, -1002660, 2651, "member")
    await fakegram.migrate(-2660, -1002660)
    running_bot.wait_for_log("no greeting chat=-1002660")
    assert await fakegram.messages(-1002660) == []


# ------------------------------------------------------------------------------ editors


async def test_non_admins_are_refused_and_nothing_happens(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    subscriber = await reader(fakegram, 2301)
    await subscriber.answer("/subscribe")
    intruder = await reader(fakegram, 2302)
    for command in ("/stats", "/reload", "/push 20210305", "/broadcast Buy now!"):
        assert "editors only" in await intruder.answer(command), command
    since = await intruder.last_seq()
    await fakegram.send_document(2302, "20990101.md", ISSUE_TEXT.encode())
    refusal = (await fakegram.wait_for_messages(1, 2302, since))[0]
    assert refusal["text"].startswith("Only the newsletter's editors send me files")

    # Each refusal was the handler's last step, so nothing can still be on its way.
    with database(running_bot)() as session:
        assert set(storage.outbox_counts(session).values()) == {0}
    assert not (Path(running_bot.issues_dir) / "20990101.md").exists()
    assert len(await fakegram.messages(2301)) == 1  # only the answer to its /subscribe


async def test_admin_stats_reload_and_push(fakegram: Fakegram, running_bot: BotProcess) -> None:
    subscriber = await reader(fakegram, 2401)
    await subscriber.answer("/subscribe")
    admin = await reader(fakegram, running_bot.admin_id)
    assert "/stats" in await admin.answer("/help")

    stats = await admin.answer("/stats")
    assert "Issues: 4" in stats
    assert "Subscribers: 1" in stats
    assert "Deliveries: 0 sent, 0 pending, 0 failed" in stats
    reload = await admin.answer("/reload")
    assert reload.startswith("Scan finished")
    assert "4 files" in reload

    assert "/push 20210305" in await admin.answer("/push")
    unknown = await admin.answer("/push 19990101")
    assert "There is no issue 19990101" in unknown
    assert "20210305" in unknown
    since = await subscriber.last_seq()
    assert "Issue 20210219:" in await admin.answer("/push 20210219")
    header = (await fakegram.wait_for_messages(1, 2401, since))[0]
    assert header["text"] == shown(expected_messages("20210219")[0])

    # The reader asks for it meanwhile: the rest of the broadcast's copy goes first now.
    def rest() -> list[storage.Delivery]:
        with database(running_bot)() as session:
            return list(
                session.exec(
                    select(storage.Delivery).where(
                        storage.Delivery.chat_id == 2401,
                        storage.Delivery.status == storage.DeliveryStatus.PENDING,
                    )
                )
            )

    def coming() -> bool:  # the header is marked sent a moment after it arrives
        with database(running_bot)() as session:
            return copy_on_its_way(session, 2401, "20210219")

    await poll(coming, "the header was not marked sent")
    assert not any(row.requested for row in rest())  # a broadcast's copy
    since = await subscriber.last_seq()
    await fakegram.send_text(2401, "/issue 20210219")
    answer = "Issue 20210219 is on its way here: the rest of it is coming."

    async def answered() -> bool:
        return answer in [m["text"] for m in await fakegram.messages(2401, since)]

    await poll(answered, "no answer to /issue")
    pending = rest()
    assert pending
    assert all(row.requested for row in pending)
    again = await admin.answer("/push 20210219")  # queued already: nothing new to send
    left = re.fullmatch(
        "📤 Nothing new to queue: issue 20210219 is still on its way to subscribers, "
        r"(\d+) messages? left to send\.",
        again,
    )
    assert left is not None, again  # not "every subscriber already has" it: some are to come
    assert 0 < int(left.group(1)) <= len(pending)
    # Several at once: each is pushed, or said to be unknown, on a line of its own.
    pushed, unknown_line, _ = (await admin.answer("/push 20210305 19990101")).splitlines()
    assert pushed.startswith("📤 Issue 20210305: ")
    assert unknown_line.startswith("There is no issue 19990101")


async def test_a_notice_nobody_would_get_or_too_long_for_telegram_is_not_drafted(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    admin = await reader(fakegram, running_bot.admin_id)
    nobody = await admin.answer("/broadcast Hello")
    assert nobody == "No chat is subscribed yet, so there is nobody to send a notice to."
    subscriber = await reader(fakegram, 2441)
    await subscriber.answer("/subscribe")
    too_long = await admin.answer("/broadcast " + "长" * 4100)
    assert too_long == "The notice is too long: 4100 characters, at most 4096."
    # 2100 code points, but 4200 UTF-16 units, as Telegram's limit is counted to be safe.
    emoji = await admin.answer("/broadcast " + "😀" * 2100)
    assert emoji == "The notice is too long: 4200 characters, at most 4096."
    invisible = await admin.answer("/broadcast \u200b\u2060")  # pasted, nothing to see
    assert "/broadcast Hello" in invisible  # how to use it, as for no text at all
    with database(running_bot)() as session:
        assert session.exec(select(storage.Notice)).all() == []


async def test_admin_broadcast_reaches_subscribers_with_the_text_as_typed(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    subscriber = await reader(fakegram, 2451)
    await subscriber.answer("/subscribe")
    admin = await reader(fakegram, running_bot.admin_id)
    assert "/broadcast Hello" in await admin.answer("/broadcast")
    since = await subscriber.last_seq()

    # A draft first: the notice as subscribers will see it, and the question under it.
    typo, draft = await admin.say("/broadcast Helo", count=2)
    assert typo["text"] == "Helo"
    assert [b["text"] for b in buttons(draft)] == ["📣 Send to 1 chat", "✕ Don't send"]
    send, drop = (b["callback_data"] for b in buttons(draft))
    await admin.press(draft, drop)
    dropped = await poll(lambda: edited_message(fakegram, draft, 1), "the draft was not dropped")
    assert dropped["text"] == "Not sent."
    assert not dropped["reply_markup"]  # its buttons are gone
    await admin.press(draft, send, force=True)  # a tap that left before they went
    void = await poll(lambda: edited_message(fakegram, draft, 2), "the void tap was not told")
    assert void["text"].startswith("This draft is void")

    preview, draft = await admin.say("/broadcast <b>Hello</b>, readers & friends", count=2)
    assert preview["text"] == "<b>Hello</b>, readers & friends"  # typed text, not markup
    send = buttons(draft)[0]["callback_data"]
    await admin.press(draft, send)
    done = await poll(lambda: edited_message(fakegram, draft, 1), "the notice was not sent")
    assert done["text"] == "📣 The notice goes to 1 chat."
    assert not done["reply_markup"]
    toast = await admin.press(draft, send, force=True)  # a second, quick tap
    assert toast["text"] == "This notice was sent already."
    (left,) = [m for m in await fakegram.messages(draft["chat_id"]) if m["seq"] == draft["seq"]]
    assert left["text"] == done["text"]  # the first tap's answer, with its count, stays
    notice = (await fakegram.wait_for_messages(1, 2451, since))[0]
    assert notice["text"] == "<b>Hello</b>, readers & friends"
    with database(running_bot)() as session:  # queued once for it, and never again
        queued = session.exec(
            select(storage.Delivery).where(
                storage.Delivery.chat_id == 2451, storage.Delivery.notice_id.is_not(None)
            )
        ).all()
    assert len(queued) == 1


async def test_a_notice_is_drafted_in_private_and_sent_only_by_an_admins_tap(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    subscriber = await reader(fakegram, 2461)
    await subscriber.answer("/subscribe")
    await fakegram.create_user(running_bot.admin_id, "Editor", "en")
    await fakegram.create_user(2462, "Bob", "en")
    await fakegram.create_group(-2460, [running_bot.admin_id, 2462], title="Editors")
    in_group = Chat(fakegram, running_bot.admin_id, chat_id=-2460)
    assert "in our private chat" in await in_group.answer("/broadcast@test_bot Hello")
    # The group's help is the readers': the other members need not read the editor's.
    assert "/broadcast" not in await in_group.answer("/help@test_bot")

    admin = Chat(fakegram, running_bot.admin_id)
    since = await subscriber.last_seq()
    _, draft = await admin.say("/broadcast Hello", count=2)
    send = buttons(draft)[0]["callback_data"]
    update = await fakegram.press_button(
        2462, draft["message_id"], send, chat_id=running_bot.admin_id, force=True
    )  # a forged tap: Bob cannot see the admin's chat
    query_id = update["callback_query"]["id"]

    async def refusal() -> dict[str, Any] | None:
        queries = (await fakegram.answers())["callback_queries"]
        return next((q["answer"] for q in queries if q["query"]["id"] == query_id), None)

    refused = await poll(refusal, "the forged tap was not answered")
    assert (refused["text"], refused["show_alert"]) == (
        "Sorry, this is for the newsletter's editors only.",
        True,
    )
    assert await edited_message(fakegram, draft, 1) is None  # the question still stands
    await admin.press(draft, send)
    done = await poll(lambda: edited_message(fakegram, draft, 1), "the notice was not sent")
    assert done["text"] == "📣 The notice goes to 1 chat."
    (notice,) = await fakegram.wait_for_messages(1, 2461, since)
    assert notice["text"] == "Hello"


ISSUE_ID = "20990401"
ISSUE_TEXT = f"""> 导读：本期为 AI 简报 {ISSUE_ID} 期，将为您带来 2 条相关新闻

# 1. [上传的新闻](https://example.com/1) | 来源

正文一。

# 2. [第二条](https://example.com/2)

正文二。
"""


def cp1254_damaged(text: str) -> bytes:
    """What a Windows editor makes of UTF-8: the bytes cp1254 cannot show are gone."""
    return text.encode("utf-8").decode("cp1254", errors="ignore").encode("utf-8")


async def upload(admin: Chat, name: str, content: bytes) -> str:
    """The admin sends a file to the bot; the bot's one answer."""
    since = await admin.last_seq()
    await admin.fakegram.send_document(admin.user_id, name, content)
    (answer,) = await admin.fakegram.wait_for_messages(1, admin.user_id, since, timeout=30)
    return answer["text"]


async def test_admin_uploads_an_issue_file(fakegram: Fakegram, running_bot: BotProcess) -> None:
    subscriber = await reader(fakegram, 2501)
    await subscriber.answer("/subscribe")
    admin = await reader(fakegram, running_bot.admin_id, "zh")
    await admin.answer("/start")

    assert ".md" in await upload(admin, "notes.pdf", b"%PDF-1.4")
    rejected = await upload(admin, "broken.md", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert rejected.startswith("❌ 未接受：二进制数据")  # why, in the editor's language
    assert "\n" not in rejected

    since = await subscriber.last_seq()
    accepted = await upload(admin, f"{ISSUE_ID}.md", ISSUE_TEXT.encode())
    assert accepted.startswith(f"✅ 已收到 {ISSUE_ID}.md")
    assert f"{ISSUE_ID}.md：新增（{ISSUE_ID} 期）：2 条新闻" in accepted  # in the editor's language
    assert (Path(running_bot.issues_dir) / f"{ISSUE_ID}.md").exists()
    expected = issue_messages(read_issue(ISSUE_TEXT.encode()))
    received = await fakegram.wait_for_messages(len(expected), 2501, since, timeout=30)
    assert [m["text"] for m in received] == [shown(m) for m in expected]


async def test_an_uploaded_damaged_file_is_repaired_and_the_admin_told(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    subscriber = await reader(fakegram, 2502)
    await subscriber.answer("/subscribe")
    admin = await reader(fakegram, running_bot.admin_id)
    await admin.answer("/start")
    issue_id = "20990402"
    text = ISSUE_TEXT.replace(ISSUE_ID, issue_id)
    subscriber_since = await subscriber.last_seq()
    answer = await upload(admin, f"{issue_id}.md", cp1254_damaged(text))
    assert answer.startswith(f"✅ Received {issue_id}.md")
    assert "2 items; mojibake repaired: 38 characters restored, 5 of them guessed" in answer

    expected = issue_messages(read_issue(text.encode()))
    received = await fakegram.wait_for_messages(len(expected), 2502, subscriber_since, timeout=30)
    assert [m["text"] for m in received] == [shown(m) for m in expected]  # the editor's words


async def test_an_upload_replaces_the_file_its_issue_came_from_but_never_with_a_damaged_copy(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    admin = await reader(fakegram, running_bot.admin_id)
    await admin.answer("/start")
    issues = Path(running_bot.issues_dir)
    issue_id = "20990403"
    text = ISSUE_TEXT.replace(ISSUE_ID, issue_id)
    since = await admin.last_seq()
    (issues / ".weekly.partial").write_text(text, encoding="utf-8")
    (issues / ".weekly.partial").replace(issues / "weekly.md")  # whole, whenever the scan comes
    # The scheduled scan stores it, and tells the editor.
    (news,) = await fakegram.wait_for_messages(1, admin.chat_id, since, DELIVERY_TIMEOUT)
    assert f"weekly.md: new (issue {issue_id})" in news["text"]
    with database(running_bot)() as session:
        stored = storage.get_issue(session, issue_id)
        assert stored is not None
        assert stored.file_name == "weekly.md"

    refused = await upload(admin, "copy.md", cp1254_damaged(text))
    assert refused.startswith(f"❌ Not accepted: issue {issue_id} is already in the archive")
    assert "send the original file" in refused
    assert (issues / "weekly.md").read_text(encoding="utf-8") == text

    corrected = text.replace("正文一。", "正文一，已更正。")
    assert "weekly.md: updated" in await upload(admin, "fix.md", corrected.encode())
    assert (issues / "weekly.md").read_text(encoding="utf-8") == corrected
    assert not (issues / f"{issue_id}.md").exists()


async def test_editors_hear_what_the_scheduled_scan_found(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    editor = await reader(fakegram, running_bot.admin_id)
    await editor.answer("/start")
    subscriber = await reader(fakegram, 2521)
    await subscriber.answer("/subscribe")
    issues = Path(running_bot.issues_dir)

    async def drop(name: str, text: str) -> str:
        """Put a file in the issues folder whole (the scan may come at any moment); the news
        the editor gets of it."""
        since = await editor.last_seq()
        partial = issues / f".{name}.partial"
        partial.write_text(text, encoding="utf-8")
        partial.replace(issues / name)
        (news,) = await fakegram.wait_for_messages(1, editor.chat_id, since, DELIVERY_TIMEOUT)
        return str(news["text"])

    bad = await drop("notes.md", "只是一些笔记，没有新闻。\n")
    assert bad.startswith("Found in the issues folder\n5 files: 0 new or updated")
    assert "notes.md: bad" in bad

    reader_since = await subscriber.last_seq()
    new = await drop(f"{ISSUE_ID}.md", ISSUE_TEXT)
    lines = new.split("\n")
    assert lines[0] == "Found in the issues folder"
    assert lines[2:] == [
        f"{ISSUE_ID}.md: new (issue {ISSUE_ID}): 2 items",
        f"issue {ISSUE_ID}: 3 deliveries queued",  # the header and two items
    ]  # notes.md is still bad, but that was said
    await fakegram.wait_for_messages(3, 2521, reader_since, DELIVERY_TIMEOUT)  # the reader's copy
    # Scans went on meanwhile (one a second): none of them repeated anything.
    since = await editor.last_seq()
    later = await drop("20990402.md", ISSUE_TEXT.replace(ISSUE_ID, "20990402"))
    assert "notes.md" not in later
    assert ISSUE_ID not in later
    assert len(await fakegram.messages(editor.chat_id, since)) == 1

    # An editor who blocked the bot is not tried again.
    await fakegram.block(running_bot.admin_id)
    (issues / "more-notes.md").write_text("还是笔记。\n", encoding="utf-8")

    def editor_gone() -> bool:
        with database(running_bot)() as session:
            chat = storage.get_chat(session, running_bot.admin_id)
            return chat is not None and not chat.active

    await poll(editor_gone, "the editor who blocked the bot is still tried")


async def test_a_scan_report_past_one_message_is_sent_in_parts_and_an_upload_counts_it(
    fakegram: Fakegram, running_bot: BotProcess
) -> None:
    issues = Path(running_bot.issues_dir)
    for n in range(150):
        (issues / f"notes-{n:03d}.md").write_text(f"只是第 {n} 份笔记，没有新闻。\n", "utf-8")

    def all_bad() -> bool:  # taken by the scheduled scan: the editor has no chat yet to be told
        with database(running_bot)() as session:
            return len(storage.bad_files(session)) == 150

    await poll(all_bad, "the scheduled scan did not record the bad files")
    subscriber = await reader(fakegram, 2531)
    await subscriber.answer("/subscribe")
    admin = await reader(fakegram, running_bot.admin_id)

    since = await admin.last_seq()
    await fakegram.send_text(admin.user_id, "/reload")

    async def whole_report() -> list[SentMessage]:
        sent = await fakegram.messages(admin.chat_id, since)
        return sent if any("notes-149.md" in m["text"] for m in sent) else []

    parts = await poll(whole_report, "no whole /reload report", within=30)
    assert len(parts) > 1
    assert parts[0]["text"].startswith("Scan finished\n154 files: 0 new or updated")
    assert all(visible_length(m["text"]) <= TEXT_LIMIT for m in parts)
    report = "\n".join(m["text"] for m in parts)
    assert all(f"notes-{n:03d}.md: still bad" in report for n in range(150))

    # The upload is saved and broadcast: its answer says so, and counts the rest in a line.
    reader_since = await subscriber.last_seq()
    answer = await upload(admin, f"{ISSUE_ID}.md", ISSUE_TEXT.encode())
    assert answer.split("\n") == [
        f"✅ Received {ISSUE_ID}.md",
        f"{ISSUE_ID}.md: new (issue {ISSUE_ID}): 2 items",
        f"issue {ISSUE_ID}: 3 deliveries queued",
        "150 other files are bad: /reload lists them",
    ]
    await fakegram.wait_for_messages(3, 2531, reader_since, DELIVERY_TIMEOUT)
