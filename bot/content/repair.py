"""Mojibake repair: text that was UTF-8, decoded with a Windows code page and saved again.

Per line, ftfy (restricted to encoding fixes, so clean text is never touched) goes first and
is kept where it leaves no mojibake behind. Otherwise bytes were lost: the line's mojibake is
rebuilt byte by byte, each damaged character gets its candidates, and Chinese word,
character and word-class models choose among them in the context of the whole line.

The character model also counts the editor's other issues (the archive) where the caller
gives them: the sources an issue quotes (量子位) and its jargon are what the packaged corpora
know least, and the editor writes them every week.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial

import ftfy

from bot.content.brackets import pair_brackets
from bot.content.lattice import best_reading
from bot.content.mojibake import Piece, has_mojibake, lost_bytes, may_hold_mojibake, pieces
from bot.content.zh_chars import CharModel, add_text, load_chars
from bot.content.zh_model import WordModel, load_model
from bot.content.zh_pos import load_pos

logger = logging.getLogger(__name__)

# Fewer than 24 cost right lines on the seeds and samples; more never gained any.
_MAX_OPTIONS = 24
# How many times over the archive's characters are counted with the corpus's: 2 to 5 gave
# the same right lines on seed 000 (with seeds 002–004 as its archive) and the samples,
# once two fewer on seed 000.
ARCHIVE_TIMES = 3

# The clean text of the editor's other issues, asked for only when a line needs the models.
Archive = Callable[[], str]


def no_archive() -> str:
    return ""


_ENCODING_ONLY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)


@dataclass(frozen=True)
class Repair:
    """Repaired text, how many characters were rebuilt from mojibake, and how many of
    those had lost bytes and several candidates, so the language model chose."""

    text: str
    restored: int = 0
    guessed: int = 0


def repair_text(text: str, archive: Archive = no_archive) -> str:
    """Return `text` with mojibake undone as far as it can be, logging what was done."""
    return repair_logged(text, archive).text


def repair_logged(text: str, archive: Archive = no_archive) -> Repair:
    """Repair `text` as `repair` does, and log how many characters were restored and guessed."""
    result = repair(text, archive)
    if result.restored:
        logger.info(
            "mojibake repaired restored=%d guessed=%d",
            result.restored,
            result.guessed,
            extra={"chars_restored": result.restored, "guesses": result.guessed},
        )
    return result


def repair(text: str, archive: Archive = no_archive) -> Repair:
    """Repair `text` line by line; see the module docstring for how."""
    if not may_hold_mojibake(text):
        return Repair(text)
    chars = cache(partial(_char_model, archive))  # counted once, on the first guess
    lost = lost_bytes(text)
    suspicious = has_mojibake(text)
    lines: list[str] = []
    restored = guessed = 0
    for line in text.split("\n"):
        found = pieces(line, lost=lost, suspicious=suspicious)
        fixed = _ftfy(line)
        if not _has_rebuilt(found):
            lines.append(fixed)
            continue
        restored += sum(piece.rebuilt for piece in found)
        if _is_clean(fixed, line, lost):
            lines.append(fixed)  # lossless: ftfy undid it all
            continue
        lines.append(_ftfy(_choose(found, chars)))
        guessed += sum(len(piece.options) > 1 for piece in found)
    return Repair("\n".join(lines), restored=restored, guessed=guessed)


def _ftfy(line: str) -> str:
    return ftfy.fix_text(line, _ENCODING_ONLY)


def _has_rebuilt(found: list[Piece]) -> bool:
    return any(piece.rebuilt for piece in found)


def _is_clean(fixed: str, line: str, lost: frozenset[int]) -> bool:
    """Whether ftfy's result has no mojibake left and no replacement character of its own."""
    if fixed.count("\ufffd") > line.count("\ufffd"):
        return False
    return not any(p.rebuilt or p.damaged for p in pieces(fixed, lost=lost, suspicious=True))


def _char_model(archive: Archive) -> CharModel:
    text = archive()
    return add_text(load_chars(), text, ARCHIVE_TIMES) if text else load_chars()


def _choose(found: list[Piece], chars: Callable[[], CharModel]) -> str:
    """Join the pieces, letting the word model pick where a piece has several options."""
    if all(len(piece.options) == 1 for piece in found):
        return "".join(piece.options[0] for piece in found)
    words = load_model()
    positions: list[tuple[str, ...]] = []
    for piece in found:
        if piece.rebuilt or piece.damaged:
            positions.append(_likeliest(piece.options, words))
        else:
            # Plain text one character at a time, so words can span it and a guess.
            positions.extend((char,) for char in piece.text)
    return "".join(best_reading(pair_brackets(positions), words, chars(), load_pos()))


def _likeliest(options: tuple[str, ...], words: WordModel) -> tuple[str, ...]:
    """The options most likely on their own: two lost bytes give up to 64, and the
    lattice's work grows with the square of the options per position."""
    if len(options) <= _MAX_OPTIONS:
        return options
    return tuple(sorted(options, key=words.char_score, reverse=True)[:_MAX_OPTIONS])
