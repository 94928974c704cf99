"""Text folding shared by keyword subscriptions and search, so both match the same way."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Normalise for case-insensitive substring matching.

    NFKC turns full-width Latin letters and digits (common in Chinese text: ＧＰＴ－４) into
    ASCII; casefold is a stronger lower() that also handles ß and friends. Chinese is unchanged.
    """
    return unicodedata.normalize("NFKC", text).casefold()
