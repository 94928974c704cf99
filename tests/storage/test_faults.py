"""Database faults are one WARNING line; a failure that is the bot's own keeps its traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.storage.faults import is_database_fault, log_database_failure


def _failure(url: str, sql: str = "SELECT 1") -> Exception:
    """What SQLAlchemy raises for `sql` on the SQLite database at `url`."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(sql))
    except Exception as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError(f"{sql!r} succeeded")


def test_an_unreachable_database_is_one_warning_with_the_drivers_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = _failure(f"sqlite:///{tmp_path / 'gone' / 'bot.db'}")  # no such folder
    assert is_database_fault(unreachable)
    log_database_failure(logging.getLogger("test.sender"), "claiming failed", unreachable)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == "claiming failed error='unable to open database file'"


def test_a_missing_table_is_an_error_with_its_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # sqlite3 raises OperationalError for it too, but no retry will make the table appear.
    missing = _failure(f"sqlite:///{tmp_path / 'bot.db'}", "SELECT * FROM deliveries")
    assert not is_database_fault(missing)
    log_database_failure(logging.getLogger("test.sender"), "claiming failed", missing)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None


def test_any_other_failure_is_an_error_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert not is_database_fault(KeyError("issue"))
    log_database_failure(logging.getLogger("test.sender"), "scan failed", KeyError("issue"))
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.getMessage() == "scan failed"
