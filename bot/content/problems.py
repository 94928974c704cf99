"""Why a file is not an issue: a code with its details, which the chat words in the editor's
language (`Texts.file_problems`), and its English sentence for the log and the command line.

The English templates live here, once: the exception's message and the English chat text are
both made from them. So each is plain text that is also safe as Telegram HTML, and takes no
count forms (`{n:file|files}`, which only the chat's Texts formatter reads).
"""

from __future__ import annotations

from dataclasses import dataclass

ENGLISH: dict[str, str] = {
    "nul_bytes": "binary data (NUL bytes), not a text file",
    "control_characters": "binary data (control characters), not a text file",
    "encoding": "not UTF-8, UTF-16 or GB18030 text",
    "no_items": "no numbered items (# 1. …) found",
    "bad_date": "the issue date {date} is not a real date (YYYYMMDD)",
    "no_date": "no issue date (YYYYMMDD) in the intro or the file name",
    "item_number": "item number {number} is too large (at most {limit})",
    "too_large": "{size} bytes is too large for an issue (at most {limit})",
    "duplicate": "issue {issue_id} is already in {other}",
    "not_md": "only .md issue files are accepted",
    "damaged_copy": (
        "issue {issue_id} is already in the archive, and this copy of it is damaged "
        "(mojibake: {guessed} characters would be guessed); please send the original file"
    ),
}


@dataclass(frozen=True)
class Problem:
    code: str  # a key of ENGLISH and of Texts.file_problems
    details: tuple[tuple[str, str | int], ...] = ()  # the template's fields


class FileProblem(ValueError):
    """A file refused, with its `problem`; str() is the English sentence."""

    def __init__(self, code: str, **details: str | int) -> None:
        super().__init__(ENGLISH[code].format(**details))
        self.problem = Problem(code, tuple(details.items()))
