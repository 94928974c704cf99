"""What the issue-folder scanner remembers about files: known hashes and files that failed."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, col, delete, select

from bot.content.problems import Problem
from bot.storage.models import BadFile, IssueRecord, utcnow


def stored_hashes(session: Session) -> dict[str, str]:
    """file name → content hash of the stored issue read from it (to skip unchanged files)."""
    rows = session.exec(select(IssueRecord.file_name, IssueRecord.content_hash))
    return dict(rows.all())


def record_bad_file(
    session: Session,
    file_name: str,
    content_hash: str,
    reason: str,
    *,
    problem: Problem | None = None,
    now: datetime | None = None,
) -> None:
    """Remember that `file_name` with this content failed, and why."""
    record = session.get(BadFile, file_name) or BadFile(
        file_name=file_name, content_hash=content_hash, reason=reason
    )
    record.content_hash = content_hash
    record.reason = reason
    record.problem = (
        json.dumps({"code": problem.code, "details": dict(problem.details)}, ensure_ascii=False)
        if problem
        else None
    )
    record.seen_at = now or utcnow()
    session.add(record)
    session.flush()


def is_known_bad(session: Session, file_name: str, content_hash: str) -> bool:
    """True when this exact content already failed: skip it until the file changes."""
    record = session.get(BadFile, file_name)
    return record is not None and record.content_hash == content_hash


def bad_file_problem(session: Session, file_name: str) -> tuple[str, Problem | None]:
    """Why `file_name` failed: its English sentence and, where one was kept, its problem."""
    record = session.get(BadFile, file_name)
    if record is None:
        return "", None
    if not record.problem:
        return record.reason, None
    try:
        kept = json.loads(record.problem)
        problem = Problem(str(kept["code"]), tuple(kept["details"].items()))
    except (ValueError, KeyError, TypeError, AttributeError):
        return record.reason, None  # unreadable: the sentence still says it
    if not all(isinstance(value, str | int) for _, value in problem.details):
        return record.reason, None  # not what a problem holds: edited by hand
    return record.reason, problem


def forget_bad_file(session: Session, file_name: str) -> None:
    """Forget a failure (the file was fixed and stored, or deleted)."""
    session.exec(delete(BadFile).where(col(BadFile.file_name) == file_name))


def bad_files(session: Session) -> list[BadFile]:
    return list(session.exec(select(BadFile).order_by(col(BadFile.file_name))))
