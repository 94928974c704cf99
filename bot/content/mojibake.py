"""Find mojibake in a line and list what each of its characters could have been.

Mojibake here is UTF-8 decoded with a Windows code page (cp1252, cp1254) or latin-1. Each
shown character stands for one byte, so the bytes can be rebuilt. Bytes the code page cannot
show (and soft hyphens, often stripped) are lost. Lead bytes always survive, so every damaged
character is still there: a lead byte with too few continuation bytes after it. Its candidates
are the lost-byte values put into the missing places, keeping what decodes to a real character.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

_CODE_PAGES = ("cp1252", "cp1254", "latin-1")


def _byte_of_char() -> dict[str, int]:
    # The three pages never show two different bytes as the same character.
    table: dict[str, int] = {}
    for page in _CODE_PAGES:
        for byte in range(0x80, 0x100):
            char = bytes([byte]).decode(page, errors="ignore")
            if char:
                table.setdefault(char, byte)
    return table


_BYTE_OF_CHAR = _byte_of_char()
# Mojibake always shows a UTF-8 lead byte (0xC2-0xF4) as a character; ftfy also rewrites C1
# controls. Text with neither is left exactly as it is, so it need not be walked at all.
_LEAD_OR_C1 = re.compile(
    "["
    + "".join(re.escape(char) for char, byte in _BYTE_OF_CHAR.items() if byte >= 0xC0)
    + "\u0080-\u009f]"
)
_UNSHOWN = {
    page: frozenset(b for b in range(0x80, 0x100) if not bytes([b]).decode(page, errors="ignore"))
    for page in ("cp1252", "cp1254")
}
_SOFT_HYPHEN = 0xAD
# Characters only one page shows: they tell which page damaged a text.
_ONLY_CP1252 = frozenset("ŽžÐÝÞðýþ")
_ONLY_CP1254 = frozenset("ĞİŞğış")


@dataclass(frozen=True)
class Piece:
    """A stretch of a line and what it may stand for: one option if it is certain."""

    text: str
    options: tuple[str, ...]
    # True when bytes were lost here, so `options` are guesses (or, if none fit, `text`).
    damaged: bool = False
    # True when `options` come from mojibake rather than being the text as it was.
    rebuilt: bool = False


@dataclass(frozen=True)
class _Sequence:
    """One UTF-8 character's bytes as found in a run: a lead and the continuations after it."""

    text: str
    data: bytes
    size: int  # bytes the lead byte announces; 0 for a stray byte

    @property
    def missing(self) -> int:
        return self.size - len(self.data) if self.size else 0


def may_hold_mojibake(text: str) -> bool:
    """False when `text` certainly holds no mojibake (a fast test: one regex search)."""
    return _LEAD_OR_C1.search(text) is not None


def lost_bytes(text: str) -> frozenset[int]:
    """The byte values a damaged `text` can have lost, judging which page showed it."""
    chars = set(text)
    if chars & _ONLY_CP1252 and not chars & _ONLY_CP1254:
        lost = _UNSHOWN["cp1252"]
    elif chars & _ONLY_CP1254 and not chars & _ONLY_CP1252:
        lost = _UNSHOWN["cp1254"]
    else:
        lost = _UNSHOWN["cp1252"] | _UNSHOWN["cp1254"]
    # Only continuation bytes matter: lead bytes are never among the lost ones.
    lost = frozenset(b for b in lost if b < 0xC0)
    return lost if "\u00ad" in chars else lost | {_SOFT_HYPHEN}


def has_mojibake(text: str) -> bool:
    """Whether `text` holds a stretch that is surely UTF-8 shown through a code page."""
    return any(_is_sure(unit) for unit in _units(text))


def pieces(line: str, *, lost: frozenset[int], suspicious: bool) -> list[Piece]:
    """Cut `line` into pieces: plain text, and mojibake rebuilt with its candidates.

    A stretch is taken for mojibake when it holds a whole character of three or more bytes.
    When `suspicious` (the text has such stretches elsewhere), also when it holds only
    damaged ones (alone they could be accented Latin such as `é»`), except lone lead bytes
    inside a Latin word (`Café`).
    """
    result: list[Piece] = []
    cursor = 0
    for start, unit in _units_with_offsets(line):
        end = start + sum(len(seq.text) for seq in unit)
        if not (_is_sure(unit) or (suspicious and _is_plausibly_damaged(unit, line, start, end))):
            continue
        if start > cursor:
            result.append(_plain(line[cursor:start]))
        result.extend(_rebuild(seq, lost) for seq in unit)
        cursor = end
    if cursor < len(line):
        result.append(_plain(line[cursor:]))
    return result


def _plain(text: str) -> Piece:
    return Piece(text=text, options=(text,))


def _units(text: str) -> Iterator[list[_Sequence]]:
    for _, unit in _units_with_offsets(text):
        yield unit


def _units_with_offsets(line: str) -> Iterator[tuple[int, list[_Sequence]]]:
    """Runs of lead bytes with their continuations, cut at stray bytes and plain text."""
    unit: list[_Sequence] = []
    unit_start = 0
    for start, seq in _sequences(line):
        if seq is not None and seq.size:
            if not unit:
                unit_start = start
            unit.append(seq)
            continue
        if unit:
            yield unit_start, unit
            unit = []
    if unit:
        yield unit_start, unit


def _sequences(line: str) -> Iterator[tuple[int, _Sequence | None]]:
    """Each UTF-8 sequence rebuilt from `line`, or None for a character that is plain text."""
    index = 0
    while index < len(line):
        lead = _BYTE_OF_CHAR.get(line[index])
        size = _sequence_size(lead) if lead is not None else 0
        if lead is None:
            yield index, None
            index += 1
            continue
        end = index + 1
        while end < len(line) and end - index < size and _is_continuation(line[end]):
            end += 1
        text = line[index:end]
        yield index, _Sequence(text, bytes(_BYTE_OF_CHAR[c] for c in text), size)
        index = end


def _sequence_size(byte: int) -> int:
    if 0xC2 <= byte <= 0xDF:
        return 2
    if 0xE0 <= byte <= 0xEF:
        return 3
    if 0xF0 <= byte <= 0xF4:
        return 4
    return 0  # a continuation byte with no lead, or a byte UTF-8 never uses


def _is_continuation(char: str) -> bool:
    byte = _BYTE_OF_CHAR.get(char)
    return byte is not None and 0x80 <= byte <= 0xBF


def _is_sure(unit: list[_Sequence]) -> bool:
    return any(seq.size >= 3 and not seq.missing and _decode(seq.data) for seq in unit)


def _is_plausibly_damaged(unit: list[_Sequence], line: str, start: int, end: int) -> bool:
    if not any(seq.size >= 3 and seq.missing for seq in unit):
        return False
    if any(len(seq.data) > 1 for seq in unit):
        return True
    # Lone lead bytes inside a Latin word are accented letters (Café, naïve), not damage.
    around = line[start - 1 : start] + line[end : end + 1]
    return not any(char.isascii() and char.isalnum() for char in around)


def _rebuild(seq: _Sequence, lost: frozenset[int]) -> Piece:
    if not seq.missing:
        char = _decode(seq.data)
        return Piece(seq.text, (char,), rebuilt=True) if char else _plain(seq.text)
    options = candidates(seq.data, seq.size, lost)
    if not options:
        return Piece(seq.text, (seq.text,), damaged=True)
    return Piece(seq.text, options, damaged=True, rebuilt=True)


def candidates(data: bytes, size: int, lost: frozenset[int]) -> tuple[str, ...]:
    """Characters that `data` (a lead byte and some continuations) can have been."""
    present = data[1:]
    slots = size - 1
    missing = slots - len(present)
    found: dict[str, None] = {}
    for places in itertools.combinations(range(slots), missing):
        for values in itertools.product(sorted(lost), repeat=missing):
            filler = dict(zip(places, values, strict=True))
            rest = iter(present)
            tail = bytes(filler[i] if i in filler else next(rest) for i in range(slots))
            char = _decode(data[:1] + tail)
            if char:
                found.setdefault(char, None)
    return tuple(found)


def _decode(data: bytes) -> str:
    """The character `data` encodes, or '' if it is invalid or not a character text uses."""
    try:
        char = data.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    category = unicodedata.category(char)
    return char if category[0] in "LNPS" or char == "\u3000" else ""
