"""The error handler's pure parts: what it logs, and when answering the user can work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram import Chat, InlineQuery, Message, Update, User
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.delivery.limiter import SendAbandoned
from bot.handlers.errors import describe_update, should_answer


@pytest.mark.parametrize(
    ("error", "answer"),
    [
        (ValueError("bug"), True),
        (BadRequest("can't parse entities"), True),
        (Forbidden("bot was blocked by the user"), False),
        (RetryAfter(timedelta(seconds=5)), False),
        (TimedOut(), False),
        (NetworkError("connection reset"), False),
        (SendAbandoned("the bot is stopping"), False),
        (None, True),
    ],
)
def test_should_answer(error: BaseException | None, answer: bool) -> None:
    assert should_answer(error) is answer


def test_describe_update() -> None:
    user = User(id=42, first_name="Ann", is_bot=False)
    message = Message(
        7, datetime(2021, 3, 5, tzinfo=UTC), Chat(42, "private"), from_user=user, text="/search x"
    )
    assert describe_update(Update(3, message=message)) == {
        "update_id": 3,
        "chat": 42,
        "user": 42,
        "text": "/search x",
        "callback": None,
        "inline": None,
    }
    inline = InlineQuery("q1", user, "芯片 GPT", offset="")
    assert describe_update(Update(4, inline_query=inline))["inline"] == "芯片 GPT"
    assert describe_update(None) == {"update": None}
    assert describe_update("job") == {"update": "str"}
