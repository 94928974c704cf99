"""Which handler takes which update: register_handlers' filters, without Telegram."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Chat, Message, Update, User
from telegram.ext import Application, BaseHandler

from bot.handlers import archive, register_handlers

READER = User(id=42, first_name="Ann", is_bot=False, language_code="en")
PRIVATE = Chat(id=42, type=Chat.PRIVATE, first_name="Ann")
THIS_BOT = User(id=123456, first_name="Test Bot", is_bot=True, username="test_bot")
# What an inline answer becomes once a reader picks it: the whole item, sent as the reader.
SHARED_ITEM = (
    "1. 每帧只需9ms，手机实时「三维动作识别」 · 机器之心\n\n"
    "本文提出了一种用于三维卷积神经网络的模型压缩和移动加速框架"
)


def _handlers() -> list[BaseHandler[Update, Any, Any]]:
    app = Application.builder().token("123456:TEST").build()
    register_handlers(app)
    return [handler for group in app.handlers.values() for handler in group]


def _taker(update: Update) -> object | None:
    """The callback of the first handler that takes `update`, as PTB picks it."""
    for handler in _handlers():
        check = handler.check_update(update)
        if check is not None and check is not False:
            return handler.callback
    return None


def _message(text: str, via_bot: User | None = None) -> Update:
    date = datetime(2021, 3, 5, tzinfo=UTC)
    message = Message(1, date, PRIVATE, from_user=READER, text=text, via_bot=via_bot)
    return Update(1, message=message)


def test_text_in_a_private_chat_is_a_search() -> None:
    assert _taker(_message("GPT")) is archive.text_search


@pytest.mark.parametrize(
    "via", [THIS_BOT, User(id=7, first_name="gif", is_bot=True, username="gif")]
)
def test_an_inline_answer_posted_in_the_private_chat_is_no_search(via: User) -> None:
    # The help says "type @test_bot GPT" in any chat; done here, the item the reader picked
    # arrived as their message, and was searched for ("at most 20 words and 200 characters").
    assert _taker(_message(SHARED_ITEM, via_bot=via)) is None
