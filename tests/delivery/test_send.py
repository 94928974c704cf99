"""classify_error, is_media_fetch_error and fallback_html, without a server.

The errors are made the way PTB makes them: a canned Bot API answer goes through PTB's own
request code, so these tests break if PTB changes how it maps answers to exceptions.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from datetime import timedelta
from typing import Any

import httpx
import pytest
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.content.types import Image, MessageKind, OutgoingMessage
from bot.delivery.send import (
    ChatGone,
    Fatal,
    Migrated,
    Permanent,
    SendFailure,
    Throttled,
    Transient,
    Uncertain,
    classify_error,
    fallback_html,
    is_media_fetch_error,
    is_network_fault,
)


def timed_out(cause: httpx.TimeoutException) -> TimedOut:
    """The TimedOut PTB's own HTTPXRequest raises when httpx raises `cause`."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise cause

    request = HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(fail)})
    try:
        asyncio.run(request.do_request("http://127.0.0.1/bot1:x/sendMessage", "POST"))
    except TimedOut as error:
        return error
    raise AssertionError("no TimedOut raised")


NGINX_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class CannedRequest(BaseRequest):
    """A BaseRequest whose every call gets the same HTTP answer."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        return self.status, self.body


async def ptb_error(status: int, body: dict[str, Any] | bytes) -> TelegramError:
    """The exception PTB raises for this Bot API answer."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = CannedRequest(status, raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # RetryAfter's, as in retry_after()
        with pytest.raises(TelegramError) as caught:
            await request.post("http://api.invalid/bot1:x/sendMessage")
    return caught.value


def retry_after(value: int | timedelta) -> RetryAfter:
    # PTB's own constructor reads `retry_after` and warns about its int-to-timedelta move.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return RetryAfter(value)


def api_error(code: int, description: str, **parameters: int) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


ANSWERS: list[tuple[int, dict[str, Any] | bytes, SendFailure]] = [
    (
        429,
        api_error(429, "Too Many Requests: retry after 7", retry_after=7),
        Throttled(7.0),
    ),
    (
        400,
        api_error(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=-1001234,
        ),
        Migrated(-1001234),
    ),
    (
        403,
        api_error(403, "Forbidden: bot was blocked by the user"),
        ChatGone("Forbidden: bot was blocked by the user"),
    ),
    (
        403,
        api_error(403, "Forbidden: bot was kicked from the group chat"),
        ChatGone("Forbidden: bot was kicked from the group chat"),
    ),
    (
        403,
        api_error(403, "Forbidden: user is deactivated"),
        ChatGone("Forbidden: user is deactivated"),
    ),
    (
        403,
        api_error(403, "Forbidden: bot can't initiate conversation with a user"),
        ChatGone("Forbidden: bot can't initiate conversation with a user"),
    ),
    (
        403,
        api_error(403, "Forbidden: bot is not a member of the supergroup chat"),
        ChatGone("Forbidden: bot is not a member of the supergroup chat"),
    ),
    # PTB drops "Bad Request: " and capitalises what is left
    (400, api_error(400, "Bad Request: chat not found"), ChatGone("Chat not found")),
    (
        400,
        api_error(400, "Bad Request: bot can't initiate conversation with a user"),
        ChatGone("Bot can't initiate conversation with a user"),
    ),
    (
        400,
        api_error(400, "Bad Request: not enough rights to send text messages to the chat"),
        ChatGone("Not enough rights to send text messages to the chat"),
    ),
    (
        400,
        api_error(400, "Bad Request: can't parse entities: Unsupported start tag"),
        Permanent("Can't parse entities: unsupported start tag"),
    ),
    (
        400,
        api_error(400, "Bad Request: message is too long"),
        Permanent("Message is too long"),
    ),
    (
        400,
        api_error(400, "Bad Request: failed to get HTTP URL content"),
        Permanent("Failed to get http url content"),
    ),
    # the reason is one short line, not the page (it goes into the log and the outbox)
    (502, NGINX_502, Transient("Bad Gateway (502), not JSON: 502 Bad Gateway nginx")),
    (500, api_error(500, "Internal Server Error"), Transient("Internal Server Error")),
    (401, api_error(401, "Unauthorized"), Fatal("Unauthorized")),
    (404, api_error(404, "Not Found"), Fatal("Not Found")),
    # a 200 whose body is not JSON (a captive portal, a proxy): try again later
    (200, b"<html>hello</html>", Transient("Invalid server response")),
]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    ANSWERS,
    ids=[f"{status}-{i}" for i, (status, _, _) in enumerate(ANSWERS)],
)
async def test_bot_api_answers_are_classified(
    status: int, body: dict[str, Any] | bytes, expected: SendFailure | type[Transient]
) -> None:
    failure = classify_error(await ptb_error(status, body))
    if isinstance(expected, type):  # the reason is PTB's own wording; only the kind matters
        assert isinstance(failure, expected)
    else:
        assert failure == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # The request went out and no answer came: maybe delivered, so not resent.
        (TimedOut(), Uncertain("timed out waiting for Telegram's answer: Timed out")),
        (timed_out(httpx.ReadTimeout("read")), Uncertain),
        # Timeouts before Telegram can have acted are plain retries.
        (timed_out(httpx.ConnectTimeout("connect")), Transient),
        (timed_out(httpx.PoolTimeout("pool")), Transient),
        (timed_out(httpx.WriteTimeout("write")), Transient),
        (NetworkError("httpx.ConnectError: refused"), Transient("httpx.ConnectError: refused")),
        (retry_after(timedelta(seconds=1.5)), Throttled(1.5)),
        (Conflict("terminated by other getUpdates request"), Permanent),
    ],
)
def test_client_side_errors_are_classified(
    error: TelegramError, expected: SendFailure | type[Permanent | Transient | Uncertain]
) -> None:
    failure = classify_error(error)
    if isinstance(expected, type):
        assert isinstance(failure, expected)
    else:
        assert failure == expected


async def test_a_long_error_page_is_cut_to_one_short_line() -> None:
    page = b"<html>\r\n<body>\r\n" + b"<p>Cloudflare says\tno</p>\r\n" * 200 + b"</html>"
    failure = classify_error(await ptb_error(502, page))
    assert isinstance(failure, Transient)
    assert failure.reason.startswith("Bad Gateway (502), not JSON: Cloudflare says no Cloud")
    assert len(failure.reason) <= 200
    assert failure.reason.endswith("…")


@pytest.mark.parametrize(
    ("error", "network"),
    [
        (TimedOut(), True),
        (timed_out(httpx.ConnectTimeout("connect")), True),
        (NetworkError("httpx.RemoteProtocolError: Server disconnected"), True),
        (retry_after(3), True),
        (TelegramError("Invalid server response"), True),
        (BadRequest("Can't parse entities"), False),
        (Forbidden("bot was blocked by the user"), False),
        (Conflict("terminated by other getUpdates request"), False),
        (ValueError("a bug"), False),
        (None, False),
    ],
)
def test_network_faults_are_told_from_the_rest(error: BaseException | None, network: bool) -> None:
    assert is_network_fault(error) is network


def test_retry_after_is_read_without_ptb_deprecation_warning(
    recwarn: pytest.WarningsRecorder,
) -> None:
    error = retry_after(3)
    assert classify_error(error) == Throttled(3.0)
    assert not recwarn.list


@pytest.mark.parametrize(
    "description",
    [
        "Bad Request: failed to get HTTP URL content",
        "Bad Request: wrong type of the web page content",
        "Bad Request: wrong file identifier/HTTP URL specified",
        "Bad Request: invalid file HTTP URL specified: Unsupported URL protocol",
        "Bad Request: WEBPAGE_CURL_FAILED",
        "Bad Request: WEBPAGE_MEDIA_EMPTY",
        "Bad Request: group send failed",
        "Bad Request: not enough rights to send photos to the chat",
    ],
)
async def test_media_fetch_errors_are_recognised(description: str) -> None:
    assert is_media_fetch_error(await ptb_error(400, api_error(400, description)))


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (400, "Bad Request: chat not found"),
        (400, "Bad Request: message caption is too long"),
        (403, "Forbidden: bot was blocked by the user"),
    ],
)
async def test_other_errors_are_not_media_fetch_errors(status: int, description: str) -> None:
    assert not is_media_fetch_error(await ptb_error(status, api_error(status, description)))


def test_fallback_html_prefers_the_pipelines_text() -> None:
    message = OutgoingMessage(
        MessageKind.PHOTO, "<b>t</b>", media=(Image("https://x/a.png"),), fallback_text="fb"
    )
    assert fallback_html(message) == "fb"


def test_fallback_html_links_every_image_escaped() -> None:
    message = OutgoingMessage(
        MessageKind.ALBUM,
        "<b>t</b>",
        media=(Image("https://x/a.png?a=1&b=2"), Image("https://x/b.png")),
    )
    assert fallback_html(message) == (
        "<b>t</b>\n\n"
        '<a href="https://x/a.png?a=1&amp;b=2">https://x/a.png?a=1&amp;b=2</a>\n\n'
        '<a href="https://x/b.png">https://x/b.png</a>'
    )
