"""classify_error on the errors fakegram really answers, as PTB raises them."""

from __future__ import annotations

import pytest
import telegram

from bot.content.types import MessageKind, OutgoingMessage
from bot.delivery.send import (
    ChatGone,
    Migrated,
    SendFailure,
    Throttled,
    Transient,
    classify_error,
    send,
)
from tests.e2e.harness import Fakegram

pytestmark = pytest.mark.e2e

USER = 3001
HELLO = OutgoingMessage(MessageKind.TEXT, "<b>hello</b>")


async def failure_of(bot: telegram.Bot, chat_id: int) -> SendFailure:
    with pytest.raises(telegram.error.TelegramError) as caught:
        await send(bot, chat_id, HELLO)
    return classify_error(caught.value)


async def test_blocked_user_is_chat_gone(fakegram: Fakegram, ptb_bot: telegram.Bot) -> None:
    chat = await fakegram.open_private_chat(USER)
    await fakegram.block(USER)

    assert await failure_of(ptb_bot, chat) == ChatGone("Forbidden: bot was blocked by the user")


async def test_user_who_never_started_the_bot_is_chat_gone(
    fakegram: Fakegram, ptb_bot: telegram.Bot
) -> None:
    # The bot has seen the user, in a group, but they never opened a private chat with it.
    await fakegram.create_group(-7, members=[USER])
    await fakegram.send_text(USER, "hi all", chat_id=-7)

    failure = await failure_of(ptb_bot, USER)

    assert isinstance(failure, ChatGone)
    assert "can't initiate conversation" in failure.reason


async def test_unknown_chat_is_chat_gone(fakegram: Fakegram, ptb_bot: telegram.Bot) -> None:
    assert await failure_of(ptb_bot, 987654321) == ChatGone("Chat not found")


async def test_migrated_group_gives_the_new_id(fakegram: Fakegram, ptb_bot: telegram.Bot) -> None:
    await fakegram.create_group(-42, members=[USER])
    await fakegram.migrate(-42, -1000000000042)

    assert await failure_of(ptb_bot, -42) == Migrated(-1000000000042)
    assert await send(ptb_bot, -1000000000042, HELLO)  # and the new id takes the message


# PTB's RetryAfter constructor itself warns about retry_after becoming a timedelta.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_is_throttled(fakegram: Fakegram, ptb_bot: telegram.Bot) -> None:
    chat = await fakegram.open_private_chat(USER)
    for _ in range(3):  # a private chat's burst
        await send(ptb_bot, chat, HELLO)

    failure = await failure_of(ptb_bot, chat)

    assert isinstance(failure, Throttled)
    assert failure.seconds >= 1
    assert (await fakegram.stats())["count_429"] == 1


@pytest.mark.parametrize(
    "fakegram",
    [("--fail-rate", "1", "--fault-delay", "0.1", "--rate-scale", "1000")],
    indirect=True,
)
async def test_injected_faults_are_transient_or_delivered(
    fakegram: Fakegram, ptb_bot: telegram.Bot
) -> None:
    chat = await fakegram.open_private_chat(USER)
    failures: list[SendFailure] = []
    delivered = 0
    for n in range(12):
        message = OutgoingMessage(MessageKind.TEXT, f"try {n}")
        try:
            await send(ptb_bot, chat, message)
            delivered += 1  # the "delay" fault: slow, but answered within the read timeout
        except telegram.error.TelegramError as error:
            failures.append(classify_error(error))

    faults = (await fakegram.stats())["faults"]
    assert faults["count"] == 12
    assert delivered == faults["by_kind"].get("delay", 0)
    assert len(failures) == faults["by_kind"].get("bad_gateway", 0) + faults["by_kind"].get(
        "drop", 0
    )
    assert failures
    assert all(isinstance(f, Transient) for f in failures)
