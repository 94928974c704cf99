"""Who may change what a chat gets, where no Telegram call is needed to tell."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import telegram
from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Chat, Message, Update, User

from bot import storage
from bot.handlers.common import subscription_refusal, texts_of
from bot.handlers.texts import EN, ZH, Texts

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


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    storage.migrate(engine)
    yield engine
    engine.dispose()


def _context(engine: Engine) -> Any:
    """What texts_of reads of a handler's context: the services' sessions."""
    services = SimpleNamespace(session=lambda: Session(engine))
    return SimpleNamespace(application=SimpleNamespace(bot_data={"services": services}))


@pytest.mark.parametrize(
    ("update", "texts"),
    [
        (_update(GROUP, ANONYMOUS, sender_chat=GROUP), ZH),  # the group's language
        (_update(GROUP, ANN), ZH),  # a member whose client gives no language
        (_update(GROUP, User(id=44, first_name="Bo", is_bot=False, language_code="en")), EN),
        (_update(Chat(id=42, type=Chat.PRIVATE), ANN), EN),  # no language, no group: English
    ],
    ids=["anonymous admin", "member without language", "member in English", "private"],
)
def test_texts_follow_the_chat_when_the_sender_has_no_language(
    engine: Engine, update: Update, texts: Texts
) -> None:
    with Session(engine) as session:
        # A member wrote in Chinese before: the chat's row holds that language.
        storage.upsert_chat(session, GROUP.id, chat_type=GROUP.type, language_code="zh-hans")
        session.commit()
    assert texts_of(update, _context(engine)) is texts


async def test_a_member_is_refused_when_telegram_cannot_say_who_the_admins_are() -> None:
    # A real Bot whose server does not answer: getChatMember fails with a network error.
    bot = telegram.Bot("123:abc", base_url="http://127.0.0.1:9/bot")
    services = SimpleNamespace(is_admin=lambda user_id: False)
    context: Any = SimpleNamespace(
        bot=bot, application=SimpleNamespace(bot_data={"services": services})
    )
    refusal = await subscription_refusal(_update(GROUP, ANN), context, EN)
    assert refusal == EN.admin_check_failed
