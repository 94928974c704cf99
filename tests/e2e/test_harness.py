"""The fakegram driver itself: the calls other e2e tests rely on."""

from __future__ import annotations

import pytest
import telegram

from tests.e2e.harness import Fakegram

pytestmark = pytest.mark.e2e

USER = 4001


def test_sync_driver_sees_the_same_world(fakegram: Fakegram) -> None:
    fakegram.sync.create_user(USER, first_name="Sync")
    update = fakegram.sync.send_text(USER, "/start")
    document = fakegram.sync.send_document(USER, "20990101.md", b"# 1. title\n")

    assert update["message"]["entities"][0]["type"] == "bot_command"
    assert document["message"]["document"]["file_name"] == "20990101.md"
    assert [u["update_id"] for u in fakegram.sync.updates()] == [
        update["update_id"],
        document["update_id"],
    ]
    assert fakegram.sync.messages() == []


async def test_button_press_reaches_the_bot(fakegram: Fakegram, ptb_bot: telegram.Bot) -> None:
    chat = await fakegram.open_private_chat(USER)
    button = telegram.InlineKeyboardButton("more", callback_data="page:2")
    sent = await ptb_bot.send_message(
        chat, "results", reply_markup=telegram.InlineKeyboardMarkup([[button]])
    )

    (seen,) = await fakegram.wait_for_messages(1, chat)
    update = await fakegram.press_button(USER, sent.message_id, "page:2")

    assert update["callback_query"]["data"] == "page:2"
    assert seen["reply_markup"] == {
        "inline_keyboard": [[{"text": "more", "callback_data": "page:2"}]]
    }


async def test_wait_for_messages_fails_with_what_it_saw(fakegram: Fakegram) -> None:
    chat = await fakegram.open_private_chat(USER)

    with pytest.raises(AssertionError, match=r"expected 1 messages .* got 0"):
        await fakegram.wait_for_messages(1, chat, timeout=0.2)


def test_reset_forgets_users_and_messages(fakegram: Fakegram) -> None:
    fakegram.sync.open_private_chat(USER)
    fakegram.sync.reset()

    assert fakegram.sync.updates() == []
    assert fakegram.sync.stats()["requests_per_method"] == {}
