"""Scan ISSUES_DIR: store new and changed issue files, remember bad ones, report what changed.

The file system and the database meet here; parsing stays in `bot.content`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from bot import storage
from bot.content import (
    IssueFile,
    IssueFormatError,
    clean_text,
    file_hash,
    read_issue_file,
)
from bot.content.messages import issue_messages, message_moves, new_parts
from bot.content.problems import FileProblem, Problem
from bot.content.repair import Archive
from bot.content.types import Issue, OutgoingMessage
from bot.storage.faults import log_database_failure

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services

log = logging.getLogger(__name__)

ISSUE_SUFFIXES = (".md", ".markdown", ".txt")
MAX_ISSUE_BYTES = 2 * 1024 * 1024  # a real issue is ~20 KB; anything this large is not one
# How much of the editor's other issues a damaged file's repair learns from: about the 25
# latest, which take the repair a second to count.
ARCHIVE_CHARS = 500_000


class FileStatus(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    BAD = "bad"  # failed now
    STILL_BAD = "still bad"  # failed before with the same content: skipped
    # New or changed, but modified too recently to be complete: read at a later scan
    WRITING = "writing"


@dataclass(frozen=True)
class FileResult:
    file_name: str
    status: FileStatus
    issue_id: str | None = None
    reason: str = ""  # why a bad file is bad, in English
    problem: Problem | None = None  # ...and for the editor's language
    # A stored file: its news items, and the characters its mojibake repair restored and,
    # of those, guessed (the editor should check the wording).
    items: int = 0
    restored: int = 0
    guessed: int = 0
    # An edit whose new messages only the chats still receiving the issue get: those it
    # had reached already need /push.
    news_missed: bool = False


@dataclass
class ScanReport:
    """What a scan did; `bot.handlers.views.scan_text` words it for editors and operators."""

    files: list[FileResult] = field(default_factory=list)
    published: dict[str, int] = field(default_factory=dict)  # issue id → deliveries queued
    # PUBLISH_CRON: issues stored but not broadcast yet, and when they will be
    waiting: list[str] = field(default_factory=list)
    publish_at: datetime | None = None
    uploaded: str | None = None  # the file an admin sent, as saved: its reply starts with it

    @property
    def changed(self) -> list[FileResult]:
        return [f for f in self.files if f.status in (FileStatus.NEW, FileStatus.UPDATED)]

    @property
    def bad(self) -> list[FileResult]:
        return [f for f in self.files if f.status in (FileStatus.BAD, FileStatus.STILL_BAD)]

    @property
    def writing(self) -> list[FileResult]:
        return [f for f in self.files if f.status == FileStatus.WRITING]


def check_issues_dir(issues_dir: Path) -> None:
    """OSError, saying which, unless `issues_dir` is a folder."""
    if issues_dir.is_dir():
        return
    if issues_dir.exists():  # ISSUES_DIR set to an issue file, say: "does not exist" misled
        raise NotADirectoryError(f"issues folder {issues_dir} is a file, not a folder")
    raise FileNotFoundError(f"issues folder {issues_dir} does not exist")


def issue_files(issues_dir: Path) -> list[Path]:
    """The candidate issue files, in name order (hidden files and folders left out, and
    the suffix's case ignored: X.MD is an issue too). OSError, with a readable message,
    when the folder is missing or cannot be listed."""
    check_issues_dir(issues_dir)
    try:
        entries = list(issues_dir.iterdir())
    except OSError as error:
        raise OSError(f"cannot list issues folder {issues_dir}: {error.strerror}") from None
    return sorted(
        path
        for path in entries
        if path.suffix.lower() in ISSUE_SUFFIXES
        and not path.name.startswith(".")
        and path.is_file()
    )


class FolderArchive:
    """The clean text of a folder's issue files, for the repair of a damaged one: the folder
    is listed and its files read only when a repair asks (most scans repair nothing), each
    file at most once, the latest (by name: names sort by date) first."""

    def __init__(self, folder: Path, files: Sequence[Path] | None = None) -> None:
        self._folder = folder
        self._files = files  # the scan's listing, else listed when first needed
        self._texts: dict[str, str | None] = {}  # file name → clean text, None if not clean

    def without(self, file_name: str) -> Archive:
        """The archive for repairing `file_name`: the latest other files, until ARCHIVE_CHARS."""
        return partial(self._text_without, file_name)

    def _text_without(self, file_name: str) -> str:
        chosen: list[str] = []
        size = 0
        for path in sorted(self._listing(), key=lambda path: path.name, reverse=True):
            if size >= ARCHIVE_CHARS:
                break
            if path.name != file_name and (text := self._text_of(path)) is not None:
                chosen.append(text)
                size += len(text)
        log.info("repair learns from the archive files=%d chars=%d", len(chosen), size)
        return "\n".join(chosen)

    def _listing(self) -> Sequence[Path]:
        if self._files is None:
            try:
                self._files = issue_files(self._folder)
            except OSError:  # the repair does without; the file itself was read
                self._files = []
        return self._files

    def _text_of(self, path: Path) -> str | None:
        if path.name not in self._texts:
            try:
                small = path.stat().st_size <= MAX_ISSUE_BYTES
                self._texts[path.name] = clean_text(path.read_bytes()) if small else None
            except OSError:  # gone or unreadable: the scan reports it, the archive does without
                self._texts[path.name] = None
        return self._texts[path.name]


def ingest_directory(
    engine: Engine, issues_dir: Path, *, settle: float = 0.0, complete: Collection[str] = ()
) -> ScanReport:
    """Store every new or changed issue file of `issues_dir`; never raises for one bad file.

    A new or changed file modified less than `settle` seconds ago is left for a later scan:
    an editor's copy may still be writing it, and half an issue would go out as the issue
    (and the rest as an edit that reaches nobody). Files named in `complete` were written
    whole (the bot's own uploads) and are read at once.
    """
    report = ScanReport()
    files = issue_files(issues_dir)
    present = {path.name for path in files}
    archive = FolderArchive(issues_dir, files)
    with Session(engine) as session:
        known = storage.stored_hashes(session)
        owners = {record.id: record.file_name for record in storage.list_issues(session, 10**6)}
        # Until the first chat comes, new issues are the archive (a new install's shipped
        # seeds, say): there is nobody to broadcast to, and a PUBLISH_CRON run must not send
        # them all later to whoever subscribed by then. (Not "no issues stored yet": a first
        # scan stopped halfway would leave the rest of the archive to be broadcast.)
        fresh = not storage.has_chats(session)
    claimed: dict[str, str] = {}  # issue id → file providing it in this scan
    for path in files:
        try:
            data = path.read_bytes()
            # After the read: a write since then makes the file look fresh, never stale.
            modified = path.stat().st_mtime
        except FileNotFoundError:  # deleted or renamed since the listing: nothing to read
            log.info("issue file gone before it was read file=%s", path.name)
            continue
        except OSError as error:
            reason = f"cannot read: {error.strerror or error}"
            report.files.append(result := FileResult(path.name, FileStatus.BAD, reason=reason))
            _log(result)
            continue
        # Before the first chat nothing is sent: half a file would only be archived, and
        # waiting could let a reader who comes meanwhile be sent the archive as news.
        if (
            not fresh
            and path.name not in complete
            and known.get(path.name) != file_hash(data)
            and is_settling(modified, time.time(), settle)
        ):
            report.files.append(result := FileResult(path.name, FileStatus.WRITING))
            _log(result)
            continue
        try:
            with Session(engine) as session:
                result = _ingest_file(
                    session, path.name, data, known, owners, present, claimed, archive
                )
                if fresh and result.status == FileStatus.NEW and result.issue_id:
                    # in the same transaction: no moment, not even after a crash, when
                    # the archive counts as waiting to be broadcast
                    storage.mark_published(session, result.issue_id)
                session.commit()
        except (OperationalError, InterfaceError):  # the database, not the file: retried next scan
            raise
        except Exception as error:  # one odd file must not stop the scan of the others
            log.exception("issue file failed file=%s", path.name)
            result = _record_failure(engine, path.name, data, error)
        report.files.append(result)
        _log(result)
    if fresh and (archived := sum(f.status == FileStatus.NEW for f in report.files)):
        log.info("no chats yet: %d issues taken as the archive, not broadcast", archived)
    return report


def is_settling(modified: float, now: float, settle: float) -> bool:
    """Whether a file modified at `modified` (a timestamp) may still be being written at
    `now`. Either side of `now`: a network share's clock may run a little ahead of ours."""
    return abs(now - modified) < settle


def _ingest_file(
    session: Session,
    name: str,
    data: bytes,
    known: dict[str, str],
    owners: dict[str, str],
    present: set[str],
    claimed: dict[str, str],
    archive: FolderArchive,
) -> FileResult:
    digest = file_hash(data)
    if known.get(name) == digest:
        return FileResult(name, FileStatus.UNCHANGED, _issue_id_of(owners, name))
    if storage.is_known_bad(session, name, digest):
        reason, problem = storage.bad_file_problem(session, name)
        duplicate_of = dict(problem.details).get("issue_id") if problem else None
        return FileResult(
            name,
            FileStatus.STILL_BAD,
            str(duplicate_of) if duplicate_of else None,
            reason=reason,
            problem=problem,
        )
    try:
        _check_size(data)
        read = read_issue_file(data, file_name=name, archive=archive.without(name))
    except FileProblem as error:
        storage.record_bad_file(session, name, digest, str(error), problem=error.problem)
        return FileResult(name, FileStatus.BAD, reason=str(error), problem=error.problem)
    issue = read.issue

    other = claimed.get(issue.id) or owners.get(issue.id)
    if other and other != name and other in present:
        duplicate = FileProblem("duplicate", issue_id=issue.id, other=other)
        storage.record_bad_file(session, name, digest, str(duplicate), problem=duplicate.problem)
        return FileResult(name, FileStatus.BAD, issue.id, str(duplicate), problem=duplicate.problem)
    claimed[issue.id] = name
    before = storage.issue_for_update(session, issue.id)
    old_messages = _messages_of(before) if before else None
    upserted = storage.upsert_issue(session, issue, read.text, name)
    news_missed = False
    if upserted == storage.UpsertResult.UPDATED and old_messages is not None:
        news_missed = _follow_new_version(session, issue, old_messages)
    storage.forget_bad_file(session, name)
    status = {
        storage.UpsertResult.NEW: FileStatus.NEW,
        storage.UpsertResult.UPDATED: FileStatus.UPDATED,
        storage.UpsertResult.UNCHANGED: FileStatus.UNCHANGED,
    }[upserted]
    repair = read.repair
    return FileResult(
        name,
        status,
        issue.id,
        items=len(issue.items),
        restored=repair.restored,
        guessed=repair.guessed,
        news_missed=news_missed,
    )


def _messages_of(record: storage.IssueRecord) -> tuple[OutgoingMessage, ...] | None:
    from bot.delivery.broadcast import messages_of_text

    try:
        return messages_of_text(record.raw_text, record.file_name)
    except IssueFormatError:  # stored under older rules that no longer accept it
        return None


def _follow_new_version(session: Session, issue: Issue, old: Sequence[OutgoingMessage]) -> bool:
    """Point the issue's deliveries at their messages in its new version (see the outbox),
    send items new in it to the chats the issue is still on its way to, and count again what
    the keyword headers still to be sent introduce. Returns whether the new version has
    messages that chats the issue already reached in full will not get."""
    from bot.delivery.broadcast import broadcast_new_items, reword_keyword_headers

    new = issue_messages(issue)
    receiving = storage.chats_receiving(session, issue.id)
    added_parts = new_parts(old, new)
    news_missed = bool(added_parts) and bool(storage.chats_reached(session, issue.id) - receiving)
    gone = storage.move_deliveries(
        session,
        issue.id,
        message_moves(old, new),
        added_parts,
        item_numbers=[m.item_number for m in new],
    )
    if gone:
        log.info("issue changed issue=%s deliveries_of_removed_messages=%d", issue.id, gone)
    numbers_before = {m.item_number for m in old}
    added = {m.item_number for m in new if m.item_number is not None} - numbers_before
    if added and receiving:
        queued = broadcast_new_items(session, issue.id, new, added, receiving)
        log.info(
            "issue changed issue=%s new_items=%s deliveries=%d", issue.id, sorted(added), queued
        )
    if reworded := reword_keyword_headers(session, issue.id):
        log.info("issue changed issue=%s keyword_headers_recounted=%d", issue.id, reworded)
    return news_missed


def _record_failure(engine: Engine, name: str, data: bytes, error: Exception) -> FileResult:
    """Remember a file that failed unexpectedly as bad (these very bytes: the file may have
    changed since), so the next scans skip it quietly until it changes."""
    reason = f"could not be stored: {error}"[:300]
    with Session(engine) as session:
        storage.record_bad_file(session, name, file_hash(data), reason)
        session.commit()
    return FileResult(name, FileStatus.BAD, reason=reason)


def _check_size(data: bytes) -> None:
    if len(data) > MAX_ISSUE_BYTES:
        raise FileProblem("too_large", size=len(data), limit=MAX_ISSUE_BYTES)


def _issue_id_of(owners: dict[str, str], file_name: str) -> str | None:
    return next((issue_id for issue_id, name in owners.items() if name == file_name), None)


def _log(result: FileResult) -> None:
    if result.status in (FileStatus.NEW, FileStatus.UPDATED):
        log.info(
            "issue file %s file=%s issue=%s items=%d mojibake_restored=%d guessed=%d",
            result.status,
            result.file_name,
            result.issue_id,
            result.items,
            result.restored,
            result.guessed,
        )
    elif result.status == FileStatus.BAD:
        log.warning("issue file rejected file=%s reason=%r", result.file_name, result.reason)
    elif result.status == FileStatus.WRITING:
        log.info("issue file still being written, read later file=%s", result.file_name)


async def scan_and_publish(services: Services) -> ScanReport:
    """One scan (in a worker thread: file reads and repair are blocking), then publish new
    issues at once unless PUBLISH_CRON decides when."""
    async with services.scan_lock:
        return await _scan_and_publish(services)


async def _scan_and_publish(services: Services, complete: Collection[str] = ()) -> ScanReport:
    """`scan_and_publish`, for a caller holding the scan lock."""
    report = await asyncio.to_thread(
        partial(
            ingest_directory,
            services.engine,
            services.settings.issues_dir,
            settle=services.settings.settle_seconds,
            complete=complete,
        )
    )
    if services.settings.publish_cron is None:
        report.published = publish_pending(services)
    else:
        now = datetime.now(UTC)
        # A publishing time that passed while the bot was stopped is not skipped.
        report.published = publish_pending(services, overdue_at=now)
        with services.session() as session:
            report.waiting = [record.id for record in storage.unpublished_issues(session)]
        report.publish_at = services.settings.next_publish_time(now)
    return report


def publish_pending(services: Services, *, overdue_at: datetime | None = None) -> dict[str, int]:
    """Broadcast every stored issue not broadcast yet (oldest first); with `overdue_at`, only
    those whose PUBLISH_CRON time came between their arrival and then."""
    from bot.delivery.broadcast import broadcast_issue

    published = {}
    with services.session() as session:
        pending = [
            record.id
            for record in storage.unpublished_issues(session)
            if overdue_at is None or _overdue(services.settings, record.created_at, overdue_at)
        ]
    # One transaction per issue, so an issue that cannot be published holds back no other.
    for issue_id in pending:
        try:
            with services.session() as session:
                published[issue_id] = broadcast_issue(session, issue_id)
        except Exception as error:  # published at the next run: an outage is one line
            log_database_failure(log, f"issue not published issue={issue_id}", error)
            continue
        log.info("issue published issue=%s deliveries=%d", issue_id, published[issue_id])
    if published:
        services.sender.wake()
    return published


def _overdue(settings: Settings, found_at: datetime, now: datetime) -> bool:
    publish_at = settings.next_publish_time(found_at)
    return publish_at is not None and publish_at <= now


_SAFE_NAME = re.compile(r"[^\w.-]+")


async def accept_upload(services: Services, file_name: str, data: bytes) -> ScanReport:
    """Validate an uploaded issue file, save it (over the file the issue came from, else as
    `<issue id>.md`), then scan as usual. A damaged copy never replaces a stored issue.
    FileProblem (a ValueError) says why a file is refused."""
    if not file_name.lower().endswith(".md"):
        raise FileProblem("not_md")
    _check_size(data)
    read = await asyncio.to_thread(read_issue_file, data, file_name=_SAFE_NAME.sub("_", file_name))
    issue = read.issue
    with services.session() as session:
        stored = storage.get_issue(session, issue.id)
    if stored is not None and read.repair.guessed:
        raise FileProblem("damaged_copy", issue_id=issue.id, guessed=read.repair.guessed)
    # A new version replaces the file the issue came from, so no second copy is refused later.
    owner = services.settings.issues_dir / stored.file_name if stored else None
    target = owner if owner and owner.is_file() else services.settings.issues_dir / f"{issue.id}.md"
    # Under the scan lock from the write on: the scheduled scan must not take the file first
    # and tell the editors of it as news of its own.
    async with services.scan_lock:
        await asyncio.to_thread(_write_atomically, target, data)
        log.info("issue file uploaded file=%s issue=%s", target.name, issue.id)
        report = await _scan_and_publish(services, complete={target.name})
    return _as_uploaded(report, target.name, read, stored)


def _as_uploaded(
    report: ScanReport, file_name: str, read: IssueFile, stored: storage.IssueRecord | None
) -> ScanReport:
    """The report with the uploaded file's line as the admin expects it: a scheduled scan, of
    this instance or another, may have stored the file first, and this scan then found it
    unchanged."""
    if stored is not None and stored.content_hash == read.issue.content_hash:
        return replace(report, uploaded=file_name)  # the very issue the archive had
    status = FileStatus.NEW if stored is None else FileStatus.UPDATED
    uploaded = FileResult(
        file_name,
        status,
        read.issue.id,
        items=len(read.issue.items),
        restored=read.repair.restored,
        guessed=read.repair.guessed,
    )
    files = [
        uploaded if f.file_name == file_name and f.status == FileStatus.UNCHANGED else f
        for f in report.files
    ]
    return replace(report, files=files, uploaded=file_name)


def _write_atomically(target: Path, data: bytes) -> None:
    # A scan running meanwhile must never read half a file.
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    partial.replace(target)
