"""Engine creation: one place that knows about SQLite pragmas and URL quirks."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

SQLITE_BUSY_TIMEOUT_MS = 10_000


class StorageError(Exception):
    """The database cannot be used; the message is one line for the user."""


class DatabaseUrlError(StorageError):
    """DATABASE_URL is malformed, names an unknown backend, or its driver is missing."""


def make_engine(database_url: str | URL) -> Engine:
    """An Engine for `database_url`; SQLite gets WAL, foreign keys and a busy timeout."""
    url = _parse(database_url)
    if url.get_backend_name() == "sqlite":
        _create_parent_dir(url)
    try:
        engine = create_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite")
    except (NoSuchModuleError, ArgumentError) as exc:
        raise DatabaseUrlError(
            f"DATABASE_URL names an unknown database backend: {_shown(url)} ({exc})"
        ) from None
    except ImportError as exc:
        raise DatabaseUrlError(
            f"DATABASE_URL needs a driver that is not installed: {exc.name or exc} "
            f"(for PostgreSQL install psycopg and use postgresql+psycopg://)"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def describe(engine_or_url: Engine | str | URL) -> str:
    """The database URL with its password hidden, for logs and error messages."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else _parse(engine_or_url)
    return _shown(url)


def _parse(database_url: str | URL) -> URL:
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise DatabaseUrlError(
            "DATABASE_URL is not a database URL "
            "(expected e.g. sqlite:///data/bot.db or postgresql+psycopg://user@host/db)"
        ) from None
    # postgres:// (Heroku and friends) and a bare postgresql:// would pick psycopg2, which we
    # do not ship; psycopg 3 is the driver we test with.
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    database = url.database
    if url.get_backend_name() == "sqlite" and database and database.startswith("~"):
        # SQLite takes `~` literally: its folder was made in the home directory, and then
        # the file could not be opened ("unable to open database file").
        url = url.set(database=str(Path(database).expanduser()))
    return url


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite database; None for another backend, one in memory, or a `file:`
    URI (SQLite's own syntax, left to it)."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database).expanduser()


def _create_parent_dir(url: URL) -> None:
    database = sqlite_file(url)
    if database is None:
        return
    parent = database.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create the directory {str(parent)!r} for the SQLite database: "
            f"{exc.strerror or exc}"
        ) from None


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the sender write while handlers read; NORMAL sync is safe under WAL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()
