"""Whom /start greets by name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Chat, Message, Update, User

from bot.handlers.user import greeted_name

GROUP = Chat(id=-100, type=Chat.SUPERGROUP, title="AI readers")
CHANNEL = Chat(id=-200, type=Chat.CHANNEL, title="AI news")
# What Telegram puts in `from` of a message written as a chat: placeholders, not people.
ANONYMOUS = User(id=1087968824, first_name="Group", is_bot=True, username="GroupAnonymousBot")
CHANNEL_BOT = User(id=136817688, first_name="Channel", is_bot=True, username="Channel_Bot")
ANN = User(id=42, first_name="Ann", is_bot=False)


def _start(chat: Chat, user: User, sender_chat: Chat | None = None) -> Update:
    date = datetime(2021, 3, 5, tzinfo=UTC)
    message = Message(1, date, chat, from_user=user, sender_chat=sender_chat, text="/start")
    return Update(1, message=message)


@pytest.mark.parametrize(
    ("update", "name"),
    [
        (_start(Chat(id=42, type=Chat.PRIVATE), ANN), "Ann"),
        (_start(GROUP, ANN), "Ann"),
        (_start(GROUP, ANONYMOUS, sender_chat=GROUP), "AI readers"),  # not "Hello, Group!"
        (_start(GROUP, CHANNEL_BOT, sender_chat=CHANNEL), "AI news"),  # not "Hello, Channel!"
    ],
    ids=["private", "member", "anonymous admin", "linked channel"],
)
def test_start_greets_whoever_wrote_it(update: Update, name: str) -> None:
    assert greeted_name(update) == name
