"""The error handler: what it logs (a handled fault in one line, a bug with its traceback), and
when answering the user can work."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import cast

import pytest
from telegram import Chat, InlineQuery, Message, Update, User
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from bot.delivery.limiter import SendAbandoned
from bot.handlers.errors import describe_update, on_error, should_answer
from tests.delivery.test_send import NGINX_502, ptb_error


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


def _context(error: BaseException) -> ContextTypes.DEFAULT_TYPE:
    return cast("ContextTypes.DEFAULT_TYPE", SimpleNamespace(error=error))


@pytest.mark.parametrize(
    "error",
    [
        TimedOut(),  # a reply whose answer did not come in time
        NetworkError("httpx.RemoteProtocolError: Server disconnected without sending a response."),
        Forbidden("bot was blocked by the user"),
    ],
)
async def test_a_handled_fault_is_one_warning_line(
    error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await on_error(None, _context(error))  # None: a polling error, as PTB passes it
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == f"handler fault {type(error).__name__}: {error} update=None"


async def test_a_502_page_in_a_reply_is_summarised(caplog: pytest.LogCaptureFixture) -> None:
    error = await ptb_error(502, NGINX_502)
    caplog.clear()  # PTB's own line for the page (tests/test_logs.py)
    with caplog.at_level(logging.INFO):
        await on_error(None, _context(error))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "handler fault NetworkError: Bad Gateway (502), not JSON: 502 Bad Gateway nginx update=None"
    )


@pytest.mark.parametrize("error", [ValueError("bug"), BadRequest("Can't parse entities")])
async def test_an_unexpected_error_keeps_its_traceback(
    error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await on_error(None, _context(error))
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[1] is error
