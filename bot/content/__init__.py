"""The content pipeline: bytes of an issue file → Issue → Telegram messages. Pure: no I/O."""

from __future__ import annotations

import dataclasses
import hashlib

from bot.content.decode import UndecodableError, decode_issue_bytes
from bot.content.parse import IssueFormatError, parse_issue
from bot.content.types import Issue


def read_issue(data: bytes, *, file_name: str = "") -> Issue:
    """Decode and parse an issue file's bytes. Raises `UndecodableError` or `IssueFormatError`.

    The content hash is the file's bytes' own, so a scanner can tell an unchanged file without
    decoding it again.
    """
    return read_issue_and_text(data, file_name=file_name)[0]


def read_issue_and_text(data: bytes, *, file_name: str = "") -> tuple[Issue, str]:
    """`read_issue`, and the decoded text it was parsed from (what storage keeps)."""
    text = decode_issue_bytes(data)
    issue = parse_issue(text, file_name=file_name)
    return dataclasses.replace(issue, content_hash=file_hash(data)), text


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = ["IssueFormatError", "UndecodableError", "file_hash", "read_issue", "read_issue_and_text"]
