"""The sender election: at most one holder per database (schema), handed over on release."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from bot.storage import get_issue, sender_lock, upsert_issue
from bot.storage.leader import AdvisoryLock, FileLock, LocalLock
from tests.storage.factories import make_issue


def _require_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "the advisory lock is PostgreSQL's (SQLite: test_two_processes_on_one_sqlite_file)"
        )


def _soon(acquire: Callable[[], bool], within: float = 5.0) -> bool:
    """Whether `acquire` succeeds within `within` seconds: a closed or killed session's locks
    are freed by the server as the session ends, a moment after the client lets go."""
    deadline = time.monotonic() + within
    while not acquire():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # polling interval
    return True


def test_sqlite_in_memory_has_a_single_instance_which_always_leads() -> None:
    lock = sender_lock(create_engine("sqlite://"))
    assert isinstance(lock, LocalLock)
    assert lock.try_acquire()
    assert lock.still_held()


def test_two_processes_on_one_sqlite_file_do_not_both_send(tmp_path: Path) -> None:
    """`run` started twice on data/bot.db (or a rolling deploy) sent every message twice."""
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    first, second = sender_lock(engine), sender_lock(engine)
    assert isinstance(first, FileLock)
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # holding it already
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()
    assert sender_lock(create_engine(f"sqlite:///{tmp_path / 'other.db'}")).try_acquire()


def test_one_holder_at_a_time_and_handover_on_release(engine: Engine) -> None:
    _require_postgres(engine)
    first, second = sender_lock(engine), sender_lock(engine)
    assert isinstance(first, AdvisoryLock)
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # holding it already
        assert not second.try_acquire()
        assert first.still_held()
        assert not second.still_held()
        first.release()
        assert not first.still_held()
        assert _soon(second.try_acquire)
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def test_a_killed_holder_connection_frees_the_lock(engine: Engine) -> None:
    """What happens when the sending process dies: the server ends its session."""
    _require_postgres(engine)
    holder, standby = AdvisoryLock(engine), AdvisoryLock(engine)
    try:
        assert holder.try_acquire()
        with engine.connect() as admin:
            admin.execute(
                text(
                    # This schema's lock only: other tests elect in schemas of their own.
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND classid = :cls AND pid <> pg_backend_pid() "
                    "AND objid = (hashtext(current_schema())::bigint & 4294967295)::oid"
                ),
                {"cls": 0x5E4D},
            )
        assert not holder.still_held()  # the heartbeat notices
        assert _soon(standby.try_acquire)
    finally:
        holder.release()
        standby.release()


def test_concurrent_upserts_of_one_new_issue_do_not_collide(engine: Engine) -> None:
    """Two instances scanning the same new file at once: one stores it, the other sees it."""
    _require_postgres(engine)
    issue = make_issue("20210305")
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def scan() -> None:
        try:
            with Session(engine) as session:
                start.wait()
                results.append(upsert_issue(session, issue, "raw", "a.md").value)
                session.commit()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == ["new", "unchanged"]
    with Session(engine) as session:
        assert get_issue(session, "20210305") is not None
