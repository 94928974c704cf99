"""Command line: `python -m bot run | webhook | preview FILE | ingest`. Wiring only."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.content import IssueFormatError, UndecodableError, read_issue
from bot.content.messages import issue_messages
from bot.content.problems import FileProblem
from bot.logs import SecretFilter, hide_secrets, quiet_handled_faults, quiet_migrations
from bot.preview import format_preview
from bot.storage import StorageError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="AI 简报 Telegram bot")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="poll Telegram, serve commands, scan and deliver issues")
    commands.add_parser(
        "webhook", help="like run, but Telegram posts updates to WEBHOOK_URL (several instances)"
    )
    commands.add_parser("ingest", help="scan ISSUES_DIR once and store new or changed issues")
    preview = commands.add_parser("preview", help="print the messages an issue file becomes")
    preview.add_argument("file", type=Path)
    preview.add_argument("--html", action="store_true", help="print Telegram HTML as sent")
    args = parser.parse_args(argv)

    if args.command == "preview":
        return _preview(args.file, html=args.html)
    try:
        settings = load_settings()  # LOG_LEVEL too, from the environment or `.env`
        _configure_logging(settings.log_level, settings.secrets())
        if args.command == "run":
            return _run(settings)
        if args.command == "webhook":
            return _webhook(settings)
        return _ingest(settings)
    except (ConfigError, StorageError, OSError) as error:  # OSError: the issues folder
        return _fail(str(error))


def _configure_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    hide_secrets(secrets)  # PTB logs the Bot API URL, token included, at DEBUG
    # One line per HTTP request, and two per run of every scheduled job (a scan a minute), are
    # noise at INFO: half of all lines. A job that fails is still logged, as an error.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # A 502 page from Telegram's proxy is retried; PTB's own traceback at ERROR for it is not
    # an error (bot.logs). Lowered for that one line only: PTB's other errors stay.
    quiet_handled_faults()
    quiet_migrations()  # an upgrade on one line; Alembic's two lines at every start at DEBUG
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)


def _open_database(settings: Settings):  # type: ignore[no-untyped-def]
    """The migrated database, once the issues folder is known to exist (checked first, so a
    typo in ISSUES_DIR creates no database)."""
    from bot.ingest import check_issues_dir
    from bot.storage import make_engine, migrate

    check_issues_dir(settings.issues_dir)

    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


def _require_lasting_database(settings: Settings) -> None:
    """An in-memory SQLite is one empty database per connection, and the bot's threads each
    have their own: every scan and send failed with 'no such table'."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ConfigError(
            "DATABASE_URL is an in-memory SQLite database, which the bot cannot run on; "
            "use a file, like sqlite:///data/bot.db"
        )


def _run(settings: Settings) -> int:
    from bot.app import build_application, run_polling

    settings.require_bot_token()
    _require_lasting_database(settings)
    engine = _open_database(settings)
    return _until_stopped(settings, lambda: run_polling(build_application(settings, engine)))


def _webhook(settings: Settings) -> int:
    from bot.app import build_application, run_webhook

    settings.require_bot_token()
    webhook = settings.require_webhook()  # checked before the database is touched
    _require_lasting_database(settings)
    engine = _open_database(settings)

    def serve() -> None:
        try:
            run_webhook(build_application(settings, engine), webhook)
        except OSError as error:  # the port is taken, or the address is not this machine's
            raise ConfigError(
                f"cannot listen for webhooks on {webhook.listen}:{webhook.port} "
                f"(WEBHOOK_LISTEN, PORT): {error.strerror or error}"
            ) from None

    return _until_stopped(settings, serve)


def _until_stopped(settings: Settings, serve: Callable[[], None]) -> int:
    """Serve until stopped; a Telegram that cannot be reached or refuses the token at start
    is one line and exit 1 (once running, the bot retries on its own)."""
    from telegram.error import InvalidToken, TelegramError

    ptb = logging.getLogger("telegram.ext")
    ptb.addFilter(_drop_start_failure)
    hide = SecretFilter(settings.secrets()).redact
    # The URL too: a TELEGRAM_API_URL pasted with the token in it (`…/bot123:AA…/`) is
    # refused, and this line is printed, not logged, so the log filter never sees it.
    where = f"Telegram at {hide(settings.telegram_api_url)}"
    try:
        serve()
    except InvalidToken:
        # PTB's text quotes the token; a 401 or 404 may as well be a wrong URL.
        return _fail(
            f"{where} refused BOT_TOKEN: check it, and that TELEGRAM_API_URL is the Bot API's "
            "base URL, like https://api.telegram.org/bot"
        )
    except TelegramError as error:
        # The text may hold the token (an InvalidURL built from URL and token).
        return _fail(f"cannot start with {where}: {hide(str(error))}")
    finally:
        ptb.removeFilter(_drop_start_failure)
    return 0


def _drop_start_failure(record: logging.LogRecord) -> bool:
    """PTB logs a start Telegram refuses with a full traceback before raising it; the raise
    becomes the one error line above, so that record is dropped."""
    failed = record.levelno >= logging.ERROR
    return not (failed and record.getMessage().startswith("Network Retry Loop (Bootstrap"))


def _ingest(settings: Settings) -> int:
    from sqlalchemy.exc import DBAPIError

    from bot.handlers.views import plain_scan_text
    from bot.ingest import ingest_directory
    from bot.storage import describe
    from bot.storage.faults import database_reason

    engine = _open_database(settings)
    try:
        report = ingest_directory(engine, settings.issues_dir)
    except DBAPIError as error:  # locked by another process, or the server went away
        raise StorageError(
            f"cannot store issues in the database {describe(engine)}: {database_reason(error)}"
        ) from None
    print(plain_scan_text(report))
    return 1 if report.bad else 0


def _preview(path: Path, *, html: bool) -> int:
    from bot.ingest import MAX_ISSUE_BYTES, FolderArchive

    try:
        data = path.read_bytes()
        if len(data) > MAX_ISSUE_BYTES:  # the bot refuses it: a preview must not pass it
            raise FileProblem("too_large", size=len(data), limit=MAX_ISSUE_BYTES)
        # The file's folder is the archive a damaged file is repaired with, as by the scan of
        # the issues folder it is in.
        archive = FolderArchive(path.parent).without(path.name)
        issue = read_issue(data, file_name=path.name, archive=archive)
    except OSError as error:
        return _fail(f"cannot read {path}: {error.strerror or error}")
    except (UndecodableError, IssueFormatError, FileProblem) as error:
        return _fail(f"{path}: {error}")
    try:
        print(format_preview(issue, issue_messages(issue), html=html))
        sys.stdout.flush()
    except BrokenPipeError:  # `| head` stopped reading: nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
