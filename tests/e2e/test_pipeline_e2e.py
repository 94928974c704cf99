"""Every seed and adversarial issue, through the content pipeline and send(), into fakegram.

fakegram parses HTML with TDLib, so a message it accepts is one Telegram accepts: this is the
check that the renderer and the splitter produce only what Telegram takes.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import pytest
import telegram

from bot.content.types import MessageKind, OutgoingMessage
from bot.delivery.send import send
from tests.e2e.harness import Fakegram, SentMessage

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parents[1] / "fixtures"
ISSUE_FILES = sorted((FIXTURES / "seeds").glob("*.txt")) + sorted(
    (FIXTURES / "adversarial").glob("*.md")
)
USER = 2001
# A huge rate scale: this test is about content, and send() leaves 429s to the delivery loop.
FAST = ("--rate-scale", "1000")
ALL_IMAGES_DEAD = (*FAST, "--dead-image-regex", ".")
FORBIDDEN_ERRORS = ("can't parse", "too long", "too much", "too many", "must be non-empty")


def pipeline() -> Any:
    """bot.content with read_issue and messages.issue_messages, or skip while they are unwritten."""
    # Skip only while a module is absent; once it exists, an import error must fail the test.
    if importlib.util.find_spec("bot.content.messages") is None:
        pytest.skip("bot.content.messages is not written yet")
    content = importlib.import_module("bot.content")
    importlib.import_module("bot.content.messages")
    if not hasattr(content, "read_issue"):
        pytest.skip("bot.content.read_issue is not written yet")
    return content


def outgoing_messages(path: Path) -> list[OutgoingMessage]:
    content = pipeline()
    issue = content.read_issue(path.read_bytes(), file_name=path.name)
    messages: list[OutgoingMessage] = content.messages.issue_messages(issue)
    assert messages, f"{path.name} gave no messages"
    return messages


async def send_all(
    bot: telegram.Bot, chat_id: int, messages: list[OutgoingMessage], file_name: str
) -> list[list[int]]:
    """send() each message; a refusal fails the test naming the message, not just the error."""
    sent = []
    for index, message in enumerate(messages):
        try:
            sent.append(await send(bot, chat_id, message))
        except telegram.error.TelegramError as error:
            pytest.fail(
                f"{file_name} message {index} ({message.kind}, item {message.item_number}) "
                f"refused: {error}\n{message.text[:500]}"
            )
    return sent


def shown(message: OutgoingMessage) -> int:
    """How many messages the reader sees: /_test/messages has one record per album item."""
    return len(message.media) if message.kind is MessageKind.ALBUM else 1


async def assert_no_bad_content(fakegram: Fakegram) -> None:
    errors = (await fakegram.stats())["errors_per_description"]
    bad = {e: n for e, n in errors.items() if any(f in e.lower() for f in FORBIDDEN_ERRORS)}
    assert not bad


@pytest.mark.parametrize("fakegram", [FAST], indirect=True)
@pytest.mark.parametrize("path", ISSUE_FILES, ids=lambda path: path.name)
async def test_every_message_is_delivered(
    fakegram: Fakegram, ptb_bot: telegram.Bot, path: Path
) -> None:
    messages = outgoing_messages(path)
    chat = await fakegram.open_private_chat(USER, language_code="zh-hans")

    sent = await send_all(ptb_bot, chat, messages, path.name)

    records = await fakegram.messages(chat)
    await assert_no_bad_content(fakegram)
    assert [r["message_id"] for r in records] == [i for ids in sent for i in ids]
    # No image is dead here, so nothing may have fallen back to text.
    assert len(records) == sum(shown(m) for m in messages)
    assert [len(ids) for ids in sent] == [shown(m) for m in messages]
    for message, ids in zip(messages, sent, strict=True):
        assert_kind(message, [r for r in records if r["message_id"] in ids])


def assert_kind(message: OutgoingMessage, records: list[SentMessage]) -> None:
    method = {
        MessageKind.TEXT: "sendMessage",
        MessageKind.PHOTO: "sendPhoto",
        MessageKind.ANIMATION: "sendAnimation",
        MessageKind.ALBUM: "sendMediaGroup",
    }[message.kind]
    assert {r["method"] for r in records} == {method}
    if message.kind is MessageKind.TEXT:
        assert records[0]["text"], "a text message that reads as nothing"
    else:
        assert [r["media"][0]["url"] for r in records] == [i.url for i in message.media]
    if message.kind is MessageKind.ALBUM:
        assert len({r["media_group_id"] for r in records}) == 1


@pytest.mark.parametrize("fakegram", [ALL_IMAGES_DEAD], indirect=True)
@pytest.mark.parametrize("path", ISSUE_FILES, ids=lambda path: path.name)
async def test_nothing_is_lost_when_every_image_is_dead(
    fakegram: Fakegram, ptb_bot: telegram.Bot, path: Path
) -> None:
    messages = outgoing_messages(path)
    chat = await fakegram.open_private_chat(USER, language_code="zh-hans")

    sent = await send_all(ptb_bot, chat, messages, path.name)

    records = await fakegram.messages(chat)
    await assert_no_bad_content(fakegram)
    # Each message, whatever its media, arrives as exactly one text.
    assert sent == [[r["message_id"]] for r in records]
    assert {r["method"] for r in records} <= {"sendMessage"}
    for message, record in zip(messages, records, strict=True):
        if message.media:
            linked = {e.get("url") for e in record["entities"]}
            assert {i.url for i in message.media} <= linked, "an image lost its link"
