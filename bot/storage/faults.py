"""Database faults the bot rides out: a connection lost or refused, SQLite busy past its
timeout. Such a failure is one WARNING line with the driver's reason; anything else (a missing
table, a bad query) is a bug, an ERROR with its traceback."""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from bot.logs import one_line

# What sqlite3 says, all as OperationalError, when the file is busy or out of reach, rather
# than when the schema or the query is wrong ("no such table", a syntax error).
_SQLITE_FAULTS = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk I/O error",
)


def is_database_fault(error: BaseException) -> bool:
    """Whether `error` is the database server, the network or a busy file, not the bot: the
    next try may well succeed."""
    if isinstance(error, DisconnectionError):
        return True
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    if error.connection_invalidated or not isinstance(error.orig, sqlite3.Error):
        return True  # psycopg's OperationalError: connection lost or refused, lock timeout
    return str(error.orig) in _SQLITE_FAULTS


def database_reason(error: BaseException) -> str:
    """The driver's first line, without the SQL and parameters SQLAlchemy adds to it."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return one_line(lines[0]) if lines else type(error).__name__


def log_database_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    """`what` failed: one WARNING line for a database fault, an ERROR with the traceback for
    anything else."""
    if is_database_fault(error):
        logger.warning("%s error=%r", what, database_reason(error))
    else:
        logger.error("%s", what, exc_info=error)
