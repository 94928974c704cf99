"""Bytes of an issue file → clean text: encodings, BOM, line ends, mojibake repair."""

from __future__ import annotations

import codecs

from bot.content.mojibake import has_mojibake
from bot.content.problems import FileProblem
from bot.content.repair import Archive, Repair, no_archive, repair_logged


class UndecodableError(FileProblem):
    """The bytes are not a text file in any encoding we accept."""


# Tried in order; GB18030 is a superset of GBK and GB2312.
_ENCODINGS = ("utf-8", "gb18030")
# Wide encodings are taken only with their BOM (Notepad's "Unicode" is UTF-16 LE with one):
# without it, NUL bytes mean binary data. UTF-32 LE's BOM starts with UTF-16 LE's, so it
# goes first.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# A text file has almost no control characters other than tab and line ends.
_MAX_CONTROL_SHARE = 0.01


def decode_issue_bytes(data: bytes, archive: Archive = no_archive) -> str:
    """Decode an issue file's bytes to text with `\\n` line ends and mojibake repaired, the
    repair learning from `archive` (see `bot.content.repair`)."""
    return decode_issue(data, archive).text


def decode_issue(data: bytes, archive: Archive = no_archive) -> Repair:
    """`decode_issue_bytes`, with how many characters the mojibake repair rebuilt and guessed."""
    return repair_logged(_text_of(data), archive)


def clean_text(data: bytes) -> str | None:
    """The text of an issue file that needs no repair; None if it is no text or has mojibake."""
    try:
        text = _text_of(data)
    except UndecodableError:
        return None
    return None if has_mojibake(text) else text


def _text_of(data: bytes) -> str:
    text = _decode(data)
    if "\x00" in text:  # also a NUL character in a wide encoding
        raise UndecodableError("nul_bytes")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if text and controls / len(text) > _MAX_CONTROL_SHARE:
        raise UndecodableError("control_characters")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes) -> str:
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise UndecodableError("encoding") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\x00" in data:  # binary data, whether or not it happens to decode: said so, not "encoding"
        raise UndecodableError("nul_bytes")
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UndecodableError("encoding")
