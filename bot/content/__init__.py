"""The content pipeline: bytes of an issue file → Issue → Telegram messages. Pure: no I/O."""

from __future__ import annotations

from bot.content.decode import UndecodableError, decode_issue_bytes
from bot.content.parse import IssueFormatError, parse_issue
from bot.content.types import Issue


def read_issue(data: bytes, *, file_name: str = "") -> Issue:
    """Decode and parse an issue file's bytes. Raises `UndecodableError` or `IssueFormatError`."""
    return parse_issue(decode_issue_bytes(data), file_name=file_name)


__all__ = ["IssueFormatError", "UndecodableError", "read_issue"]
