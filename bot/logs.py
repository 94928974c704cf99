"""Log lines an operator can alert on: a fault the bot handles (a 502, a dropped connection, a
timeout) is one WARNING line with a short reason; an ERROR, with its traceback, is something
nobody expected."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MAX_REASON = 200  # characters of a reason, in a log line or the outbox's last_error

# PTB's message for an error answer that is not JSON (a proxy's 502 page): "Bad Gateway (502).
# Parsing the server response b'<html>\r\n…' failed", the whole page as a bytes repr.
_UNPARSED_ANSWER = re.compile(
    r"\. Parsing the server response b(['\"])(?P<page>.*)\1 failed$", re.S
)
_ESCAPED_SPACE = re.compile(r"(?:\\[rnt])+")  # a bytes repr writes line ends as \r\n
_TAG = re.compile(r"<[^>]*>")

# The logger PTB's request code logs through (telegram/request/_baserequest.py), and the start
# of the line it logs, with a traceback at ERROR, for an answer that is not JSON.
PTB_REQUEST_LOGGER = "telegram.request.BaseRequest"
_PTB_INVALID_JSON = "Can not load invalid JSON data"


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """`text` on one line, its whitespace collapsed, cut to `limit` characters (ending in …)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def page_text(page: str, limit: int = MAX_REASON) -> str:
    """What an HTML error page says, without its markup, on one line."""
    return one_line(_TAG.sub(" ", _ESCAPED_SPACE.sub(" ", page)), limit)


def error_summary(error: BaseException, limit: int = MAX_REASON) -> str:
    """What went wrong, in one short line: Telegram's description, or the text of the error
    page a proxy answered with, never the whole page."""
    text = str(error)  # a TelegramError's message
    if match := _UNPARSED_ANSWER.search(text):
        text = f"{text[: match.start()]}, not JSON: {page_text(match['page'])}"
    return one_line(text, limit)


class InvalidJsonFilter(logging.Filter):
    """Turn PTB's ERROR with a traceback for an answer that is not JSON into one DEBUG line.

    PTB logs that line and then raises; whoever catches the error logs it where it happened
    (a send to retry: one warning). At ERROR, every 502 would page the operator twice.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(_PTB_INVALID_JSON):
            return True
        page = record.args[0] if isinstance(record.args, tuple) and record.args else ""
        record.msg, record.args = "answer is not JSON: %s", (page_text(str(page)),)
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        record.exc_info = record.exc_text = record.stack_info = None
        # Lowered here, after the logger's own level check: handlers would print it anyway.
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_handled_faults() -> None:
    """Install the filters that keep faults the bot handles out of ERROR."""
    logger = logging.getLogger(PTB_REQUEST_LOGGER)
    if not any(isinstance(f, InvalidJsonFilter) for f in logger.filters):
        logger.addFilter(InvalidJsonFilter())


ALEMBIC_LOGGER = "alembic.runtime.migration"
# What Alembic says at every start, whether it migrates or not: no news to an operator.
_ALEMBIC_CHATTER = ("Context impl ", "Will assume ")


class MigrationLogFilter(logging.Filter):
    """Alembic's lines as the bot's: its two lines at every start down to DEBUG, and an
    upgrade's message (the migration's docstring, often several lines) on one line, since
    a log reader takes each line for a record of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(_ALEMBIC_CHATTER):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        if "\n" in message:
            record.msg, record.args = " ".join(message.split()), ()
        return True


def quiet_migrations() -> None:
    """Install the MigrationLogFilter (once, however often logging is configured)."""
    logger = logging.getLogger(ALEMBIC_LOGGER)
    if not any(isinstance(f, MigrationLogFilter) for f in logger.filters):
        logger.addFilter(MigrationLogFilter())


MIN_SECRET = 4  # shorter values would blank out ordinary words; no real token is so short


class SecretFilter(logging.Filter):
    """Replace secrets (the bot token, a database password) with `***` in every record.

    PTB logs the Bot API URL, which holds the token, at DEBUG; a start that fails may carry
    it in the error's text or traceback (an `InvalidURL` for a TELEGRAM_API_URL without a
    path). Installed on the handlers, so records of every logger pass through it.
    """

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len)[::-1]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = _message(record)
        if (hidden := self.redact(message)) != message:
            record.msg, record.args = hidden, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def _message(record: logging.LogRecord) -> str:
    """The record's text. A handler's filter runs outside logging's own error handling, so
    a malformed call (`%d` given a str, in the bot or a library) raised at the caller's line,
    ending a send or a job, where logging alone reports it and carries on: kept as written."""
    try:
        return record.getMessage()
    except Exception:
        try:
            record.msg, record.args = f"{record.msg} % {record.args!r}", ()
        except Exception:  # even the parts cannot be shown
            record.msg, record.args = f"unprintable log message at line {record.lineno}", ()
        return str(record.msg)


def hide_secrets(secrets: Iterable[str | None]) -> SecretFilter:
    """Install a SecretFilter on the root logger's handlers (after `basicConfig`)."""
    secret_filter = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(secret_filter)
    return secret_filter
