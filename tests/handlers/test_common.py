"""Who may change what a chat gets, where no Telegram call is needed to tell."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Chat, Message, Update, User

from bot.handlers.common import subscription_refusal
from bot.handlers.texts import EN

GROUP = Chat(id=-100, type=Chat.SUPERGROUP, title="AI readers")
CHANNEL = Chat(id=-200, type=Chat.CHANNEL, title="Linked channel")
# What Telegram puts in `from` of a message an anonymous admin writes as the group.
ANONYMOUS = User(id=1087968824, first_name="Group", is_bot=True, username="GroupAnonymousBot")
ANN = User(id=42, first_name="Ann", is_bot=False)
NO_CONTEXT: Any = None  # these cases must decide without asking Telegram or the settings


def _update(chat: Chat, user: User, sender_chat: Chat | None = None) -> Update:
    date = datetime(2021, 3, 5, tzinfo=UTC)
    message = Message(1, date, chat, from_user=user, sender_chat=sender_chat, text="/subscribe")
    return Update(1, message=message)


@pytest.mark.parametrize(
    ("update", "allowed"),
    [
        (_update(Chat(id=42, type=Chat.PRIVATE), ANN), True),  # a reader's own chat
        (_update(GROUP, ANONYMOUS, sender_chat=GROUP), True),  # an anonymous admin
        (_update(GROUP, ANONYMOUS, sender_chat=CHANNEL), False),  # a post of a linked channel
    ],
    ids=["private", "anonymous admin", "linked channel"],
)
async def test_who_may_change_subscriptions_without_asking(update: Update, allowed: bool) -> None:
    refusal = await subscription_refusal(update, NO_CONTEXT, EN)
    assert refusal == (None if allowed else EN.group_admins_only)
