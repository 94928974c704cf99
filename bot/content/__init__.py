"""The content pipeline: bytes of an issue file → Issue → Telegram messages. Pure: no I/O
(but for what a repair's `Archive`, given by the caller, reads).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from bot.content.decode import UndecodableError, clean_text, decode_issue
from bot.content.parse import IssueFormatError, parse_issue
from bot.content.repair import Archive, Repair, no_archive
from bot.content.types import Issue


@dataclass(frozen=True)
class IssueFile:
    """An issue file read: the issue, and the repaired text it was parsed from with what the
    mojibake repair did to get it."""

    issue: Issue
    repair: Repair

    @property
    def text(self) -> str:
        """The decoded, repaired text the issue was parsed from (what storage keeps)."""
        return self.repair.text


def read_issue(data: bytes, *, file_name: str = "", archive: Archive = no_archive) -> Issue:
    """Decode and parse an issue file's bytes. Raises `UndecodableError` or `IssueFormatError`.

    The content hash is the file's bytes' own, so a scanner can tell an unchanged file without
    decoding it again. `archive` gives the editor's other issues, which a lossy mojibake
    repair learns the editor's words from.
    """
    return read_issue_file(data, file_name=file_name, archive=archive).issue


def read_issue_file(
    data: bytes, *, file_name: str = "", archive: Archive = no_archive
) -> IssueFile:
    """`read_issue`, with the decoded text and the repair it took."""
    repaired = decode_issue(data, archive)
    issue = parse_issue(repaired.text, file_name=file_name)
    issue = dataclasses.replace(issue, content_hash=file_hash(data))
    return IssueFile(issue, repaired)


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "Archive",
    "IssueFile",
    "IssueFormatError",
    "UndecodableError",
    "clean_text",
    "file_hash",
    "read_issue",
    "read_issue_file",
]
