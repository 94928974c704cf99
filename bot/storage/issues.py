"""Issues and their items: storing parsed issues and reading them back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, text
from sqlmodel import Session, col, delete, func, select

from bot.content.types import Issue, Item
from bot.storage.models import IssueRecord, ItemRecord, utcnow
from bot.storage.search import search_grams
from bot.storage.text import fold


class UpsertResult(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def upsert_issue(
    session: Session,
    issue: Issue,
    raw_text: str,
    file_name: str,
    *,
    now: datetime | None = None,
) -> UpsertResult:
    """Store `issue` (parsed from `raw_text`, read from `file_name`); a changed hash replaces it.

    An update keeps created_at and published_at: whether to re-send is the caller's decision.
    """
    now = now or utcnow()
    record = issue_for_update(session, issue.id)
    if record is not None and record.content_hash == issue.content_hash:
        if record.file_name != file_name:  # renamed, same content
            record.file_name = file_name
            session.add(record)
            session.flush()
        return UpsertResult.UNCHANGED

    result = UpsertResult.NEW if record is None else UpsertResult.UPDATED
    if record is None:
        record = IssueRecord(
            id=issue.id, created_at=now, content_hash="", file_name="", raw_text=""
        )
    else:
        session.exec(delete(ItemRecord).where(col(ItemRecord.issue_id) == issue.id))
    record.content_hash = issue.content_hash
    record.file_name = file_name
    record.raw_text = raw_text
    record.title = issue.title
    record.item_count = len(issue.items)
    record.updated_at = now
    session.add(record)
    session.add_all(_item_record(issue.id, item) for item in issue.items)
    session.flush()
    return result


def _item_record(issue_id: str, item: Item) -> ItemRecord:
    search_text = fold(f"{item.title}\n{item.body_text}")
    return ItemRecord(
        issue_id=issue_id,
        number=item.number,
        title=item.title,
        url=item.url,
        source=item.source,
        body_text=item.body_text,
        search_text=search_text,
        search_grams=search_grams(search_text),  # the search index's entries (triggers copy them)
    )


# Advisory lock class for issue upserts (see bot.storage.leader for the sender's).
_ISSUE_LOCK_CLASS = 0x5E4E


def _lock_issue(session: Session, issue_id: str) -> None:
    """PostgreSQL: serialise upserts of one issue across instances until the transaction ends,
    so two scans storing the same new file never collide on its primary key (the second sees
    the first's row). SQLite has a single writer anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, hashtext(:issue))"),
            {"cls": _ISSUE_LOCK_CLASS, "issue": issue_id},
        )


def get_issue(session: Session, issue_id: str) -> IssueRecord | None:
    return session.get(IssueRecord, issue_id)


def issue_for_update(session: Session, issue_id: str) -> IssueRecord | None:
    """The stored issue as it is once this transaction holds its lock (see upsert_issue), so
    what an update replaces is what is really there, even with several instances."""
    _lock_issue(session, issue_id)
    return session.get(IssueRecord, issue_id, populate_existing=True)


def latest_issue(session: Session, *, published_only: bool = False) -> IssueRecord | None:
    """The newest issue (ids are dates, YYYYMMDD, so they sort by time); `published_only`
    as in `list_issues`."""
    return next(iter(list_issues(session, 1, published_only=published_only)), None)


def list_issues(
    session: Session, limit: int = 10, offset: int = 0, *, published_only: bool = False
) -> list[IssueRecord]:
    """Issues, newest first; `published_only` leaves out those still waiting for PUBLISH_CRON."""
    statement = (
        select(IssueRecord)
        .where(*_shown(published_only))
        .order_by(col(IssueRecord.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.exec(statement))


def issues_in_period(
    session: Session, period: str, *, published_only: bool = False
) -> list[IssueRecord]:
    """The issues of a year (`2021`) or month (`202103`), newest first; ids are dates."""
    in_period = col(IssueRecord.id).startswith(period, autoescape=True)
    statement = select(IssueRecord).where(in_period, *_shown(published_only))
    return list(session.exec(statement.order_by(col(IssueRecord.id).desc())))


def count_issues(session: Session, *, published_only: bool = False) -> int:
    statement = select(func.count()).select_from(IssueRecord).where(*_shown(published_only))
    return session.exec(statement).one()


def issue_ids(session: Session, *, published_only: bool = False) -> list[str]:
    """Every issue id, newest first: a weekly archive holds some fifty a year."""
    statement = select(IssueRecord.id).where(*_shown(published_only))
    return list(session.exec(statement.order_by(col(IssueRecord.id).desc())))


def _shown(published_only: bool) -> list[ColumnElement[bool]]:
    """The condition `published_only` adds: not an issue still waiting for PUBLISH_CRON."""
    return [col(IssueRecord.published_at).is_not(None)] if published_only else []


def get_item(session: Session, issue_id: str, number: int) -> ItemRecord | None:
    return session.get(ItemRecord, (issue_id, number))


def items_of(session: Session, issue_id: str) -> list[ItemRecord]:
    statement = (
        select(ItemRecord)
        .where(col(ItemRecord.issue_id) == issue_id)
        .order_by(col(ItemRecord.number))
    )
    return list(session.exec(statement))


def mark_published(session: Session, issue_id: str, *, now: datetime | None = None) -> None:
    """Record that `issue_id` was broadcast, so a PUBLISH_CRON run does not broadcast it again."""
    record = session.get(IssueRecord, issue_id)
    if record is None:
        raise KeyError(issue_id)
    record.published_at = now or utcnow()
    session.add(record)
    session.flush()


def unpublished_issues(session: Session) -> list[IssueRecord]:
    """Issues stored but not broadcast yet, oldest first: what the next publish run sends."""
    statement = (
        select(IssueRecord)
        .where(col(IssueRecord.published_at).is_(None))
        .order_by(col(IssueRecord.id))
    )
    return list(session.exec(statement))
