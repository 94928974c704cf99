"""PUBLISH_CRON: an issue found between publishing times waits; /push sends it at once."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from bot import storage
from bot.content import read_issue
from bot.content.messages import issue_messages
from bot.content.split import visible_text
from tests.e2e.botproc import BotProcess
from tests.e2e.harness import Fakegram
from tests.e2e.test_commands import Chat, buttons

pytestmark = pytest.mark.e2e


def one_item_issue(issue_id: str, title: str) -> str:
    intro = f"> 导读： 本期为 AI 简报 {issue_id} 期"
    return f"{intro}\n\n# 1. [{title}](https://example.com/{issue_id}) | 来源\n\n正文。\n"


ISSUE_ID = "20990501"
ISSUE = one_item_issue(ISSUE_ID, "定时发布的新闻")


async def test_an_issue_waits_for_publish_time_and_push_sends_it_now(
    fakegram: Fakegram, bot_factory
) -> None:
    bot: BotProcess = bot_factory(PUBLISH_CRON="0 9 1 1 *")  # 09:00 on 1 January
    bot.start()
    bot.wait_for_log("scan done")
    reader = 6001
    await fakegram.open_private_chat(reader, "zh")
    await fakegram.wait_for_messages(1, chat_id=reader)
    await fakegram.send_text(reader, "/subscribe")
    (*_, answer) = await fakegram.wait_for_messages(2, chat_id=reader)

    (bot.issues_dir / f"{ISSUE_ID}.md").write_text(ISSUE, encoding="utf-8")
    bot.wait_for_log(f"issue file new file={ISSUE_ID}.md")
    # Scans run one at a time, so once /reload answers, the scan that found the file (and
    # would have published it, were publishing not scheduled) is over.
    await fakegram.create_user(bot.admin_id, "editor", "zh")
    await fakegram.send_text(bot.admin_id, "/reload")
    (scan,) = await fakegram.wait_for_messages(1, chat_id=bot.admin_id)
    # The editor learns when it will go out, and how to send it sooner, in their language.
    assert "等待发布时间（20" in scan["text"]
    assert f"-01-01 09:00 CST）：{ISSUE_ID}；/push 期号 可立即发送" in scan["text"]
    engine = storage.make_engine(bot.database_url)
    with Session(engine) as session:
        record = storage.get_issue(session, ISSUE_ID)
        assert record is not None
        assert record.published_at is None
        assert sum(storage.outbox_counts(session, ISSUE_ID).values()) == 0
    assert await fakegram.messages(chat_id=reader, since=answer["seq"]) == []

    await fakegram.send_text(bot.admin_id, f"/push {ISSUE_ID}")
    pushed = await fakegram.wait_for_messages(2, chat_id=reader, since=answer["seq"])
    assert pushed[0]["text"].startswith("📰 AI 简报 · 2099-05-01")
    assert pushed[-1]["text"].startswith("1. 定时发布的新闻")
    with Session(engine) as session:
        record = storage.get_issue(session, ISSUE_ID)
        assert record is not None
        assert record.published_at is not None
    bot.stop()


ARCHIVED_ID = "20990401"
ARCHIVED = one_item_issue(ARCHIVED_ID, "已发布的新闻")


async def test_readers_see_a_waiting_issue_only_once_it_is_published(
    fakegram: Fakegram, bot_factory
) -> None:
    bot: BotProcess = bot_factory(PUBLISH_CRON="0 9 1 1 *")
    (bot.issues_dir / f"{ARCHIVED_ID}.md").write_text(ARCHIVED, encoding="utf-8")
    bot.start()  # a new install: the file it starts with is its (published) archive
    bot.wait_for_log("scan done")
    await fakegram.create_user(6101, "Ann", "en")
    reader = Chat(fakegram, 6101)
    await reader.answer("/start")  # a first chat: new issues are no longer taken as archive
    (bot.issues_dir / f"{ISSUE_ID}.md").write_text(ISSUE, encoding="utf-8")
    await fakegram.create_user(bot.admin_id, "editor", "en")
    editor = Chat(fakegram, bot.admin_id)
    await editor.answer("/reload")  # scans run one at a time: the file is stored by now
    bot.wait_for_log(f"issue file new file={ISSUE_ID}.md")

    header, _ = await reader.say("/latest", count=2)
    assert header["text"].startswith("📰 AI 简报 · 2099-04-01")
    unknown = await reader.answer(f"/issue {ISSUE_ID}")
    assert f"There is no issue {ISSUE_ID}" in unknown
    assert ARCHIVED_ID in unknown
    month = await reader.answer(f"/issue {ISSUE_ID[:6]}")  # its month: nothing a reader sees
    assert month.startswith(f"There is no issue in {ISSUE_ID[:4]}-{ISSUE_ID[4:6]}.")
    assert ARCHIVED_ID in month
    assert ISSUE_ID not in month
    header, _ = await reader.say(f"/issue {ISSUE_ID[:4]}", count=2)  # its year: the one left
    assert header["text"].startswith("📰 AI 简报 · 2099-04-01")
    (listing,) = await reader.say("/issues")
    listed = [b["callback_data"] for b in buttons(listing)]
    assert listed[0] == f"i:{ARCHIVED_ID}"  # the newest a reader may see
    assert f"i:{ISSUE_ID}" not in listed
    assert "Nothing matches" in await reader.answer("/search 定时发布")
    (found,) = await reader.say("/search 已发布")
    assert [b["callback_data"] for b in buttons(found)] == [f"t:{ARCHIVED_ID}:1"]

    # The editor, in a private chat, sees it coming and can read it before its time.
    (listing,) = await editor.say("/issues")
    listed = [b["callback_data"] for b in buttons(listing)]
    assert listed[:2] == [f"i:{ISSUE_ID}", f"i:{ARCHIVED_ID}"]
    waiting_line, archived_line = listing["text"].splitlines()[1:3]
    assert "not published yet" in waiting_line
    assert "not published yet" not in archived_line
    header, _ = await editor.say(f"/issue {ISSUE_ID}", count=2)
    assert header["text"].startswith("📰 AI 简报 · 2099-05-01")

    assert "20990501" in await editor.answer(f"/push {ISSUE_ID}")
    header, _ = await reader.say("/latest", count=2)
    assert header["text"].startswith("📰 AI 简报 · 2099-05-01")
    bot.stop()


def test_the_first_scan_is_at_start_not_a_scan_interval_later(
    fakegram: Fakegram, bot_factory
) -> None:
    bot: BotProcess = bot_factory(SCAN_INTERVAL="3600")
    bot.start()
    log = bot.wait_for_log("scan done", timeout=15)
    assert "4 new or updated" in log
    bot.stop()


async def test_a_publishing_time_missed_while_stopped_is_made_up_at_start(
    fakegram: Fakegram, bot_factory
) -> None:
    bot: BotProcess = bot_factory(PUBLISH_CRON="0 9 1 1 *")  # 09:00 on 1 January
    bot.start()
    bot.wait_for_log("scan done")
    reader = 6201
    await fakegram.open_private_chat(reader, "zh")
    await fakegram.wait_for_messages(1, chat_id=reader)
    await fakegram.send_text(reader, "/subscribe")
    (*_, answer) = await fakegram.wait_for_messages(2, chat_id=reader)
    (bot.issues_dir / f"{ISSUE_ID}.md").write_text(ISSUE, encoding="utf-8")
    bot.wait_for_log(f"issue file new file={ISSUE_ID}.md")
    bot.stop()

    # As if it had been found before a 1 January that came while the bot was stopped.
    engine = storage.make_engine(bot.database_url)
    with Session(engine) as session:
        record = storage.get_issue(session, ISSUE_ID)
        assert record is not None
        assert record.published_at is None
        record.created_at = datetime(2020, 12, 31, tzinfo=UTC)
        session.add(record)
        session.commit()
    bot.start()
    pushed = await fakegram.wait_for_messages(2, chat_id=reader, since=answer["seq"])
    assert pushed[0]["text"].startswith("📰 AI 简报 · 2099-05-01")
    bot.stop()


SLOW_ID = "20990601"
SLOW = f"> 导读： 本期为 AI 简报 {SLOW_ID} 期\n\n" + "\n".join(
    f"# {n}. [第{n}条新闻](https://example.com/{n}) | 来源\n\n正文 {n}。\n" for n in (1, 2, 3)
)


async def test_a_file_still_being_written_goes_out_whole_once_it_settles(
    fakegram: Fakegram, bot_factory
) -> None:
    # Scans 8 s apart: a file caught while being written is looked at again once it may have
    # settled (1 s), not at the next scan.
    bot: BotProcess = bot_factory(SCAN_INTERVAL="8", SETTLE_SECONDS="1")
    bot.start()
    bot.wait_for_log("scan done")  # the archive it starts with, before anyone subscribes
    await fakegram.create_user(6301, "Ann", "zh")
    reader = Chat(fakegram, 6301)
    await reader.answer("/start")
    since = (await reader.say("/subscribe"))[0]["seq"]

    path = bot.issues_dir / f"{SLOW_ID}.md"
    stalled = threading.Event()

    def copy_stalled_half_way() -> None:  # an editor's slow copy, until a scan has seen it
        path.write_text(SLOW[: SLOW.index("# 2.") + 6], encoding="utf-8")  # in item 2's title
        while not stalled.wait(0.1):
            os.utime(path)

    writer = threading.Thread(target=copy_stalled_half_way)
    writer.start()
    try:
        bot.wait_for_log(f"still being written, read later file={SLOW_ID}.md", timeout=30)
    finally:
        stalled.set()
        writer.join()
    path.write_text(SLOW, encoding="utf-8")  # the copy completes
    bot.wait_for_log(f"issue file new file={SLOW_ID}.md", timeout=5)  # before the next scan

    expected = [visible_text(m.text).strip() for m in issue_messages(read_issue(SLOW.encode()))]
    received = await fakegram.wait_for_messages(len(expected), chat_id=reader.chat_id, since=since)
    assert [m["text"] for m in received] == expected  # the whole issue, once
    assert "issue file updated" not in bot.log()  # half of it was never stored
    bot.stop()
