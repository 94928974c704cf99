"""Fit Telegram HTML into messages: lengths as Telegram counts them, parts that never cut a
tag or an entity, each part valid HTML on its own."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape, unescape

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PARAGRAPH_BREAK = "\n\n"

_TAG = re.compile(r"<(/?)([a-z]+)([^>]*)>")


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: an emoji outside the BMP counts 2. Telegram counts code
    points, so this is the stricter, safe measure."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def visible_text(html: str) -> str:
    """The text Telegram shows for `html`: tags removed, entities decoded."""
    return unescape(_TAG.sub("", html))


def visible_length(html: str) -> int:
    return utf16_length(visible_text(html).strip())


@dataclass(frozen=True)
class _Text:
    text: str  # decoded


@dataclass(frozen=True)
class _Open:
    name: str
    raw: str


@dataclass(frozen=True)
class _Close:
    name: str


_Piece = _Text | _Open | _Close


def _tokenize(html: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    position = 0
    for match in _TAG.finditer(html):
        if match.start() > position:
            pieces.append(_Text(unescape(html[position : match.start()])))
        closing, name = match.group(1), match.group(2)
        pieces.append(_Close(name) if closing else _Open(name, match.group()))
        position = match.end()
    if position < len(html):
        pieces.append(_Text(unescape(html[position:])))
    return pieces


def _serialize(pieces: Iterable[_Piece]) -> str:
    """HTML for `pieces`, dropping tags that enclose nothing and closing any left open."""
    out: list[str] = []
    stack: list[tuple[_Open, int]] = []  # open tag, its index in `out`
    for piece in pieces:
        if isinstance(piece, _Text):
            out.append(escape(piece.text, quote=False))
        elif isinstance(piece, _Open):
            stack.append((piece, len(out)))
            out.append(piece.raw)
        else:
            opened, at = stack.pop()
            if at == len(out) - 1:  # nothing between the tags
                out.pop()
            else:
                out.append(f"</{opened.name}>")
    for opened, at in reversed(stack):
        if at == len(out) - 1:
            out.pop()
        else:
            out.append(f"</{opened.name}>")
    return "".join(out)


def split_html(html: str, limit: int, *, first_limit: int | None = None) -> list[str]:
    """Cut `html` into parts of at most `limit` visible UTF-16 units each (the first part:
    at most `first_limit`, when given).

    Cuts fall on the last blank line, line end, sentence end or space that keeps a part at
    least a third full, else anywhere. Tags open at a cut are closed at the end of one part
    and opened again at the start of the next. No visible text is lost; parts that would
    show only white space are left out.
    """
    first_limit = limit if first_limit is None else first_limit
    if min(limit, first_limit) < 2:
        raise ValueError("limit must hold at least one character (2 UTF-16 units)")
    pieces = _tokenize(html)
    visible = "".join(piece.text for piece in pieces if isinstance(piece, _Text))
    cuts = _cut_points(visible, limit, first_limit)

    parts: list[list[_Piece]] = [[]]
    stack: list[_Open] = []
    offset = 0  # position in `visible` of the current text piece
    next_cut = 0  # index into `cuts`
    for piece in pieces:
        if isinstance(piece, _Open):
            stack.append(piece)
        elif isinstance(piece, _Close):
            stack.pop()
        if not isinstance(piece, _Text):
            parts[-1].append(piece)
            continue
        text, start = piece.text, offset
        offset += len(text)
        while next_cut < len(cuts) and cuts[next_cut] <= offset:
            head = cuts[next_cut] - start
            if head:
                parts[-1].append(_Text(text[:head]))
            text, start = text[head:], cuts[next_cut]
            parts.append(list(stack))
            next_cut += 1
        if text:
            parts[-1].append(_Text(text))
    rendered = (_serialize(part) for part in parts)
    return [part for part in rendered if visible_text(part).strip()]


_BREAKS = (
    re.compile(r"\n\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[。！？!?；;])"),
    re.compile(r" "),
)


def _cut_points(visible: str, limit: int, first_limit: int) -> list[int]:
    """Positions in `visible` where a new part starts. A part of white space only is left
    out, so the part after it is still the first one and keeps `first_limit`."""
    cuts: list[int] = []
    start = 0

    def room() -> int:
        return first_limit if not visible[:start].strip() else limit

    while utf16_length(visible[start:]) > room():
        fitting = _prefix_fitting(visible[start:], room())
        window = visible[start : start + fitting + 1]  # a break right after the limit is fine
        cut = _cluster_start(window, fitting)
        for pattern in _BREAKS:
            found = [m.start() for m in pattern.finditer(window) if 0 < m.start() <= fitting]
            if found and found[-1] >= fitting // 3:
                cut = found[-1]
                break
        start += max(cut, 1)
        cuts.append(start)
    return cuts


def _cluster_start(text: str, cut: int) -> int:
    """`cut`, moved back to the start of the character it would split: a flag (two regional
    indicators), an emoji with its modifiers or ZWJ sequence, a letter with its accents. A
    cluster longer than a whole part is cut where it must be."""
    start = cut
    while 0 < start < len(text) and _joins(text, start):
        start -= 1
    return start or cut


def _joins(text: str, at: int) -> bool:
    """Whether `text[at - 1]` and `text[at]` belong to one user-perceived character."""
    before, after = text[at - 1], text[at]
    if before == _ZWJ or after == _ZWJ or _extends(after):
        return True
    if _is_regional(after) and _is_regional(before):
        # Indicators pair from the start of their run: the boundary is inside a flag when an
        # odd number of them precede it.
        run = at
        while run > 0 and _is_regional(text[run - 1]):
            run -= 1
        return (at - run) % 2 == 1
    return False


_ZWJ = "\u200d"


def _extends(char: str) -> bool:
    """Combining marks, variation selectors, skin tones and emoji tags: never a start."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _prefix_fitting(text: str, room: int) -> int:
    """The length of the longest prefix of `text` within `room` UTF-16 units (never half a
    surrogate pair)."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > room:
            return index
    return len(text)


def pack_blocks(blocks: Sequence[str], limit: int, *, first_limit: int | None = None) -> list[str]:
    """Join HTML blocks with blank lines into as few parts as fit `limit`, cutting only
    between blocks unless one block alone is too long. The first part may have its own
    (smaller) limit, for a caption."""
    parts: list[str] = []
    current: list[str] = []

    def part_limit() -> int:
        return first_limit if first_limit is not None and not parts else limit

    for block in blocks:
        # Measure the joined text itself: a block's own edges may hold white space.
        if visible_length(PARAGRAPH_BREAK.join([*current, block])) <= part_limit():
            current.append(block)
            continue
        if current:
            parts.append(PARAGRAPH_BREAK.join(current))
            current = []
        if visible_length(block) <= part_limit():
            current = [block]
            continue
        pieces = split_html(block, limit, first_limit=part_limit())
        parts.extend(pieces[:-1])
        current = pieces[-1:]
    if current:
        parts.append(PARAGRAPH_BREAK.join(current))
    return parts
