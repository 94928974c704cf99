"""A Chinese word-frequency model that scores candidate wordings.

Two packaged word lists of recent text, averaged: wordfreq's `large_zh` (web text, subtitles
and more, so it knows 谷歌 and 安卓) and JioNLP's `word_distribution` (counts from six billion
words of Chinese text, so it rates 华为 above 名为). Both are read straight from the installed
packages without importing them, once per process, lazily, and never written anywhere.

jieba's dictionary served here until JioNLP's list came: averaged in as a third, it changed
no right line on seed 000, cost one on the damaged samples and took 2.5 s more to load.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import msgpack

_UNSEEN = 1e-9


@dataclass(frozen=True)
class WordModel:
    """Log probabilities of words, and every proper prefix of a word to prune lookups."""

    logp: dict[str, float]
    prefixes: frozenset[str]
    # Score of a character the dictionary has never seen (jieba's own choice: a count of 1).
    unknown: float

    def char_score(self, char: str) -> float:
        """Score `char` as a one-character word."""
        # JioNLP's list counts punctuation too, so `、` beats the rare ideographs it competes with.
        return self.logp.get(char, self.unknown)


def parse_cbpack(pack: list[object]) -> dict[str, float]:
    """Word probabilities from wordfreq's cBpack: a header, then one bucket per centibel."""
    probabilities: dict[str, float] = {}
    for index, bucket in enumerate(pack[1:]):
        for word in bucket if isinstance(bucket, list) else ():
            probabilities.setdefault(str(word), 10 ** (-index / 100))
    return probabilities


def build_model(*sources: dict[str, float]) -> WordModel:
    """A model whose word probabilities are the average over `sources`."""
    mixed: dict[str, float] = {}
    for source in sources:
        for word, probability in source.items():
            mixed[word] = mixed.get(word, 0.0) + probability / len(sources)
    logp = {word: math.log(p) for word, p in mixed.items()}
    prefixes = frozenset(word[:end] for word in mixed for end in range(1, len(word)))
    # A word no source has seen scores as jieba scores one: a single count in its corpus.
    return WordModel(logp=logp, prefixes=prefixes, unknown=math.log(_UNSEEN))


def package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed; it ships a Chinese model")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def wordfreq_file() -> Path:
    return package_file("wordfreq", "data", "large_zh.msgpack.gz")


def read_wordfreq() -> dict[str, float]:
    """wordfreq's `large_zh` word probabilities, read from the installed package."""
    with gzip.open(wordfreq_file()) as packed:
        return parse_cbpack(msgpack.load(packed, raw=False))


def parse_distribution(lines: Iterable[str]) -> dict[str, float]:
    """Word probabilities from JioNLP-style lines, each a JSON pair `["word", count]`."""
    counts: dict[str, int] = {}
    for line in lines:
        if line.strip():
            word, count = json.loads(line)
            counts[word] = count
    total = sum(counts.values()) or 1
    return {word: count / total for word, count in counts.items()}


def read_jionlp() -> dict[str, float]:
    """JioNLP's word probabilities, read from the zip file inside the installed package."""
    with zipfile.ZipFile(package_file("jionlp", "dictionary", "word_distribution.zip")) as packed:
        data = packed.read("word_distribution.json").decode("utf-8")
    return parse_distribution(data.splitlines())


@cache
def load_model() -> WordModel:
    """The packaged model, loaded on first use and kept for the life of the process."""
    return build_model(read_wordfreq(), read_jionlp())
