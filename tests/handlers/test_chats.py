"""Reading the bot's membership changes: blocked, kicked, left, back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import (
    Chat,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    User,
)

from bot.handlers.chats import is_present, removal_reason

BOT = User(id=1, first_name="bot", is_bot=True)
USER = User(id=42, first_name="Ann", is_bot=False)
NOW = datetime(2021, 3, 5, tzinfo=UTC)


def member() -> ChatMember:
    return ChatMemberMember(BOT)


def banned() -> ChatMember:
    return ChatMemberBanned(BOT, until_date=NOW)


def left() -> ChatMember:
    return ChatMemberLeft(BOT)


def admin() -> ChatMember:
    return ChatMemberAdministrator(
        BOT,
        can_be_edited=False,
        is_anonymous=False,
        can_manage_chat=True,
        can_delete_messages=True,
        can_manage_video_chats=True,
        can_restrict_members=True,
        can_promote_members=False,
        can_change_info=True,
        can_invite_users=True,
        can_post_stories=False,
        can_edit_stories=False,
        can_delete_stories=False,
    )


def change(chat_type: str, old: ChatMember, new: ChatMember) -> ChatMemberUpdated:
    chat = Chat(id=-5 if chat_type != "private" else 42, type=chat_type)
    return ChatMemberUpdated(chat, USER, NOW, old, new)


@pytest.mark.parametrize(
    ("status", "present"), [(member, True), (admin, True), (banned, False), (left, False)]
)
def test_is_present(status: object, present: bool) -> None:
    assert is_present(status()) is present  # type: ignore[operator]


@pytest.mark.parametrize(
    ("chat_type", "new", "reason"),
    [
        ("private", banned, "bot was blocked by the user"),
        ("group", banned, "bot was removed from the group"),
        ("supergroup", banned, "bot was removed from the supergroup"),
        ("group", left, "bot left the group"),
        ("private", member, None),
        ("supergroup", admin, None),
    ],
)
def test_removal_reason(chat_type: str, new: object, reason: str | None) -> None:
    assert removal_reason(change(chat_type, member(), new())) == reason  # type: ignore[operator]
