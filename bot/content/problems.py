"""Why a file is not an issue: an English sentence for the log and the command line, and a
code with its details, which the chat words in the editor's language (`Texts.file_problems`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    code: str  # a key of Texts.file_problems
    details: tuple[tuple[str, str | int], ...] = ()  # the template's fields


class FileProblem(ValueError):
    """A file refused, with its `problem`; str() is the English sentence."""

    def __init__(self, message: str, code: str, **details: str | int) -> None:
        super().__init__(message)
        self.problem = Problem(code, tuple(details.items()))
