"""Which instance sends: an election through the database, so several bots can share one.

PostgreSQL: a session-level advisory lock held on a dedicated connection. The server drops it
the moment that connection ends, so when the sending process dies (even by SIGKILL) a standby
wins the next `try_acquire` within a poll interval. TCP keepalives bound how long a silently
vanished host (power cut, partition) keeps the lock.

SQLite: an exclusive lock on a file beside the database, so a second process on the same
file (a rolling deploy, a `run` started twice) stands by instead of sending every message
again; the operating system frees it when the holder's process ends, even by SIGKILL.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from bot.storage.engine import sqlite_file
from bot.storage.faults import database_reason

log = logging.getLogger(__name__)

# Two-int advisory key space: (this constant, hash of the schema), so two deployments sharing
# one database in different schemas elect separately. The migration lock uses the one-bigint
# key space, which never collides with this one.
_LOCK_CLASS = 0x5E4D
# libpq settings: a dead peer is noticed in about idle + interval × count = 11 s.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "connect_timeout": 10,
}


class SenderLock(Protocol):
    """Held by at most one instance at a time; the holder is the one that sends."""

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True while this instance holds it."""
        ...

    def still_held(self) -> bool:
        """A heartbeat: False once the lock is (or may be) lost."""
        ...

    def release(self) -> None: ...


try:
    import fcntl
except ImportError:  # Windows: no flock, one process per database is assumed
    fcntl = None  # type: ignore[assignment]


class LocalLock:
    """SQLite in memory, or without flock: the only instance always holds the lock."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


class FileLock:
    """SQLite: `flock` on `<database>-sender.lock`, held while the file stays open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        assert fcntl is not None
        try:
            lock_file = self.path.open("ab")
        except OSError as error:  # a read-only folder: lead, as before there was a lock
            log.warning("sender lock file unusable, leading anyway error=%r", str(error))
            return True
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by another process on this database
            lock_file.close()
            return False
        self._file = lock_file
        return True

    def still_held(self) -> bool:
        return True  # nothing can take a lock this process holds

    def release(self) -> None:
        lock_file, self._file = self._file, None
        if lock_file is not None:
            lock_file.close()  # closing the file is what frees the lock


class AdvisoryLock:
    """PostgreSQL: `pg_try_advisory_lock` on a connection of its own, outside any pool."""

    def __init__(self, engine: Engine) -> None:
        # A separate engine: the lock must live on one connection that no one else borrows,
        # and NullPool means closing it really closes it (and so frees the lock).
        self._engine = create_engine(
            engine.url, poolclass=NullPool, connect_args=_KEEPALIVES, isolation_level="AUTOCOMMIT"
        )
        self._connection: Connection | None = None
        self._held = False

    def try_acquire(self) -> bool:
        if self._held:
            return self.still_held()
        try:
            connection = self._connect()
            self._held = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:cls, hashtext(current_schema()))"),
                    {"cls": _LOCK_CLASS},
                ).scalar_one()
            )
        except DBAPIError as error:
            log.warning("sender election failed error=%r", database_reason(error))
            self._drop_connection()
        return self._held

    def still_held(self) -> bool:
        if not self._held or self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except DBAPIError as error:
            # The server ends the session with the connection, and the lock with it.
            log.warning("sender lock connection lost error=%r", database_reason(error))
            self._drop_connection()
        return self._held

    def release(self) -> None:
        self._drop_connection()  # closing the session is what frees the lock

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.closed:
            self._connection = self._engine.connect()
        return self._connection

    def _drop_connection(self) -> None:
        self._held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except DBAPIError:
                connection.invalidate()


def sender_lock(engine: Engine) -> SenderLock:
    """The election that fits the database behind `engine`."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    path = sqlite_file(engine.url)
    if fcntl is None or path is None:
        return LocalLock()
    return FileLock(path.with_name(f"{path.name}-sender.lock"))
