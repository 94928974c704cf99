"""Handled faults make one short log line: the summaries, and PTB's own line for a 502 page."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from telegram.error import NetworkError, TelegramError

from bot.logs import (
    PTB_REQUEST_LOGGER,
    InvalidJsonFilter,
    SecretFilter,
    error_summary,
    one_line,
    quiet_handled_faults,
)
from tests.delivery.test_send import ptb_error

# fakegram's bad_gateway fault, as nginx writes it
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@pytest.fixture
def quiet() -> Iterator[None]:
    quiet_handled_faults()
    quiet_handled_faults()  # installed once however often logging is configured
    logger = logging.getLogger(PTB_REQUEST_LOGGER)
    assert sum(isinstance(f, InvalidJsonFilter) for f in logger.filters) == 1
    yield
    for installed in [f for f in logger.filters if isinstance(f, InvalidJsonFilter)]:
        logger.removeFilter(installed)


def test_one_line_collapses_whitespace_and_cuts() -> None:
    assert one_line("  a\r\n\tb   c \n") == "a b c"
    assert one_line("x" * 300) == "x" * 199 + "…"
    assert one_line("word " * 10, limit=10) == "word word…"  # no space before the …


async def test_a_502_page_is_summarised_as_its_text() -> None:
    error = await ptb_error(502, NGINX_502)
    assert isinstance(error, NetworkError)
    assert "\\r\\n" in error.message  # PTB's message holds the whole page, as a bytes repr
    assert error_summary(error) == (
        "Bad Gateway (502), not JSON: 502 Bad Gateway 502 Bad Gateway nginx/1.18.0"
    )


def test_other_errors_are_summarised_as_their_message() -> None:
    assert error_summary(TelegramError("Chat not found")) == "Chat not found"
    assert error_summary(ValueError("line one\nline two")) == "line one line two"


async def test_ptb_logs_no_error_for_a_502_page(
    quiet: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await ptb_error(502, NGINX_502)
        await ptb_error(200, NGINX_502)  # a 200 that is not JSON: PTB logs it the same way
    assert [r for r in caplog.records if r.name == PTB_REQUEST_LOGGER] == []


async def test_ptb_logs_a_502_page_as_one_debug_line_when_debugging(
    quiet: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger=PTB_REQUEST_LOGGER):
        await ptb_error(502, NGINX_502)
    (record,) = [r for r in caplog.records if r.name == PTB_REQUEST_LOGGER]
    assert record.levelno == logging.DEBUG
    assert record.exc_info is None
    assert record.exc_text is None
    assert record.getMessage() == (
        "answer is not JSON: 502 Bad Gateway 502 Bad Gateway nginx/1.18.0"
    )


def test_the_filter_leaves_ptb_other_lines_alone(
    quiet: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger(PTB_REQUEST_LOGGER).error("something else: %s", "x")
    (record,) = caplog.records
    assert (record.levelno, record.getMessage()) == (logging.ERROR, "something else: x")


async def test_without_the_filter_ptb_logs_a_502_page_at_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What the filter is for; if PTB stops logging this, the filter can go.
    with caplog.at_level(logging.INFO):
        await ptb_error(502, NGINX_502)
    (record,) = [r for r in caplog.records if r.name == PTB_REQUEST_LOGGER]
    assert record.levelno == logging.ERROR
    assert record.exc_info


def test_the_secret_filter_hides_the_token_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.secrets")
    secret_filter = SecretFilter(["123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"])
    caplog.handler.addFilter(secret_filter)
    try:
        with caplog.at_level(logging.INFO, logger="tests.secrets"):
            logger.info("GET %s", "https://x/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe")
            # A malformed call: without the filter logging reports it and the caller goes on
            logger.info(
                "sent %d messages to %s", "three", "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
            )
    finally:
        caplog.handler.removeFilter(secret_filter)
    assert [r.getMessage() for r in caplog.records] == [
        "GET https://x/bot***/getMe",
        "sent %d messages to %s % ('three', '***')",
    ]
