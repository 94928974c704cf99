"""Text folding shared by keyword subscriptions and search, so both match the same way."""

from __future__ import annotations

import re
import unicodedata

# Characters that show nothing (zero-width space and joiners, direction marks and isolates,
# word joiner, byte-order mark, soft hyphen, grapheme joiner): pasted along with a word, they
# would keep it from matching. Migration 0006 holds a copy.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)


def without_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


def fold(text: str) -> str:
    """Normalise for case-insensitive substring matching.

    NFKC turns full-width Latin letters and digits (common in Chinese text: ＧＰＴ－４) into
    ASCII; casefold is a stronger lower() that also handles ß and friends. Chinese is unchanged.
    Invisible characters are dropped.
    """
    return without_invisible(unicodedata.normalize("NFKC", text)).casefold()
