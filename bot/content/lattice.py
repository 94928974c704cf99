"""Choose one option per position so that the whole reads best under the language models.

A line is a row of positions, each with one or more options (a damaged character's
candidates). The score of a reading is the log probability of its best segmentation into
words (a word-frequency model, as jieba finds its route), plus, weighted, that of its
characters under a character trigram model, plus, weighted, how well each word's class follows
the previous word's (a noun, then a conjunction, then a noun). Segmentation is a partition, so
each option is chosen inside exactly one word; the trigram needs only the last two characters
and the class transition only the previous class, so a dynamic programme over (word end, last
characters, last class) finds the best reading. Readings far behind the best at a position are
dropped there (a beam), which keeps two neighbouring guesses of 24 options each affordable.

A certain punctuation mark fixes both the character and the class before what follows, so
the line is cut after each one and only the stretches holding a guess are searched.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from bot.content.zh_chars import ORDER, CharModel
from bot.content.zh_model import WordModel
from bot.content.zh_pos import CLASSES, NOUN, NUMERAL, PUNCTUATION, UNKNOWN, PosModel

# How much the character model counts against the word model; tuned on seed 000 and the
# damaged samples together with CLASS_WEIGHT, last when jiojio's pairs came in (0.6 beat 0.5
# on seed 000, and 0.7 on the samples).
CHAR_WEIGHT = 0.6
# How much the word-class transitions count (1.2 beat 0.3 to 3 on the damaged samples, and
# 1.0 and 1.5 with the trigram).
CLASS_WEIGHT = 1.2
# States scoring this far (in nats) below a position's best are not extended: with 10 (and 6)
# every line came out as without a beam, in a third of the time.
BEAM = 10.0

# Without a class model every transition scores 0.
_NEUTRAL = ((0.0,) * (len(CLASSES) + 1),) * (len(CLASSES) + 1)
# Marks a stretch ends at: no word spans them and the character model knows them all.
_BREAKS = frozenset("，。、；：！？“”「」（）《》【】")

_State = tuple[str, int]  # (the characters the character model saw last, the last word's class)
_Word = tuple[int, tuple[str, ...], float, tuple[tuple[int, float], ...]]


def best_reading(
    positions: Sequence[Sequence[str]],
    words: WordModel,
    chars: CharModel,
    classes: PosModel | None = None,
) -> list[str]:
    """One option per position, maximising the weighted sum of the three models' scores."""
    chosen: list[str] = []
    state: _State = ("", PUNCTUATION)
    for start, end in _stretches(positions):
        stretch = positions[start:end]
        if all(len(options) == 1 for options in stretch):
            chosen.extend(options[0] for options in stretch)
        else:
            chosen.extend(_search(stretch, state, words, chars, classes))
        last = chosen[-1]
        state = (last[-(ORDER - 1) :], PUNCTUATION) if last in _BREAKS else ("", PUNCTUATION)
    return chosen


def _stretches(positions: Sequence[Sequence[str]]) -> Iterator[tuple[int, int]]:
    start = 0
    for index, options in enumerate(positions):
        if len(options) == 1 and options[0] in _BREAKS:
            yield start, index + 1
            start = index + 1
    if start < len(positions):
        yield start, len(positions)


def _search(
    positions: Sequence[Sequence[str]],
    first: _State,
    words: WordModel,
    chars: CharModel,
    classes: PosModel | None,
) -> list[str]:
    association = classes.association if classes is not None and CLASS_WEIGHT else _NEUTRAL
    # best[i] maps the state before position i to the best score reaching it.
    best: list[dict[_State, float]] = [{} for _ in range(len(positions) + 1)]
    best[0][first] = 0.0
    back: dict[tuple[int, _State], tuple[tuple[int, _State], tuple[str, ...]]] = {}
    memo: dict[tuple[str, str], float] = {}  # character scores, asked for again and again
    for start in range(len(positions)):
        if not best[start]:
            continue
        found = list(_words_from(positions, start, words, classes))
        # The character part depends on the last characters only, not on the class.
        by_last: dict[str, list[tuple[float, str]]] = {}
        floor = max(best[start].values()) - BEAM
        for state, base in best[start].items():
            if base < floor:
                continue
            last, previous = state
            scored = by_last.get(last)
            if scored is None:
                scored = by_last[last] = [
                    _chars_score(choice, last, positions, start, chars, memo)
                    for _, choice, _, _ in found
                ]
            row = association[previous]
            for (end, choice, score, word_classes), (char_score, new_last) in zip(
                found, scored, strict=True
            ):
                total = base + score + CHAR_WEIGHT * char_score
                # No classes: spaces and letters inside a word keep the previous class.
                for current, share in word_classes or ((previous, 0.0),):
                    value = total + CLASS_WEIGHT * (share + row[current])
                    key = (new_last, current)
                    if value > best[end].get(key, -math.inf):
                        best[end][key] = value
                        back[(end, key)] = ((start, state), choice)
    ends = best[len(positions)]
    final = (len(positions), max(ends, key=ends.__getitem__))
    chosen: list[str] = []
    while final in back:
        final, choice = back[final]
        chosen[:0] = choice
    return chosen


def _classes(
    choice: tuple[str, ...], start: int, positions: Sequence[Sequence[str]], model: PosModel | None
) -> tuple[tuple[int, float], ...]:
    """The classes a word can take with log shares; () to keep the previous class."""
    if model is None or not CLASS_WEIGHT:
        return ((UNKNOWN, 0.0),)
    word = "".join(choice)
    if word.isspace():
        return ()
    if word.isascii() and word.isalnum():
        before = positions[start - 1] if start else ()
        if len(before) == 1 and before[0].isascii() and before[0].isalnum():
            return ()  # one letter or digit of a longer Latin word or number
        return ((NUMERAL if word.isdigit() else NOUN, 0.0),)
    found = model.classes_of(word)
    if found:
        return found
    if len(word) == 1 and not word.isalnum():
        return ((PUNCTUATION, 0.0),)
    return ((UNKNOWN, 0.0),)


def _chars_score(
    choice: tuple[str, ...],
    last: str,
    positions: Sequence[Sequence[str]],
    start: int,
    chars: CharModel,
    memo: dict[tuple[str, str], float],
) -> tuple[float, str]:
    """Character score of `choice` after `last`; spaces and unknown plain text are skipped."""
    total = 0.0
    for offset, option in enumerate(choice):
        guessed = len(positions[start + offset]) > 1
        if option.isspace() or (not guessed and not chars.knows(option)):
            continue
        score = memo.get((last, option))
        if score is None:
            score = memo[(last, option)] = chars.score(last, option)
        total += score
        last = (last + option)[-(ORDER - 1) :]
    return total, last


def _words_from(
    positions: Sequence[Sequence[str]], start: int, model: WordModel, classes: PosModel | None
) -> Iterator[_Word]:
    """Every word (or single option) starting at `start`: end, options, score, classes."""
    for option in positions[start]:
        choice = (option,)
        score = model.char_score(option)
        yield start + 1, choice, score, _classes(choice, start, positions, classes)
    # Grow dictionary words option by option while they remain a prefix of some word.
    frontier: list[tuple[str, tuple[str, ...]]] = [
        (option, (option,)) for option in positions[start] if option in model.prefixes
    ]
    end = start + 1
    while frontier and end < len(positions):
        grown: list[tuple[str, tuple[str, ...]]] = []
        for text, choice in frontier:
            for option in positions[end]:
                word = text + option
                score = model.logp.get(word)
                longer = (*choice, option)
                if score is not None:
                    yield end + 1, longer, score, _classes(longer, start, positions, classes)
                if word in model.prefixes:
                    grown.append((word, longer))
        frontier = grown
        end += 1
