"""Choose one option per position so that the whole reads best under the language models.

A line is a row of positions, each with one or more options (a damaged character's
candidates). The score of a reading is the log probability of its best segmentation into
words (a word-frequency model, as jieba finds its route) plus, weighted, that of its characters
under a character bigram model. Segmentation is a partition, so each option is chosen inside
exactly one word, and the bigram only needs the previous character: a dynamic programme over
(word end, last character) finds the best reading exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bot.content.zh_bigram import ORDER, CharBigram
from bot.content.zh_model import WordModel

# How much the character bigram counts against the word model; tuned on seed 000.
BIGRAM_WEIGHT = 0.5

_State = tuple[int, str]  # (position, the characters before it that the bigram model saw)


def best_reading(
    positions: Sequence[Sequence[str]], words: WordModel, chars: CharBigram
) -> list[str]:
    """One option per position, maximising word score plus weighted bigram score."""
    # best[i] maps the context before position i to the best score reaching it.
    best: list[dict[str, float]] = [{} for _ in range(len(positions) + 1)]
    best[0][""] = 0.0
    back: dict[_State, tuple[_State, tuple[str, ...]]] = {}
    for start in range(len(positions)):
        found = list(_words_from(positions, start, words)) if best[start] else []
        for last, base in best[start].items():
            for end, choice, score in found:
                char_score, new_last = _chars_score(choice, last, positions, start, chars)
                total = base + score + BIGRAM_WEIGHT * char_score
                if total > best[end].get(new_last, float("-inf")):
                    best[end][new_last] = total
                    back[(end, new_last)] = ((start, last), choice)
    ends = best[len(positions)]
    final: _State = (len(positions), max(ends, key=ends.__getitem__))
    chosen: list[str] = []
    while final in back:
        final, choice = back[final]
        chosen[:0] = choice
    return chosen


def _chars_score(
    choice: tuple[str, ...],
    last: str,
    positions: Sequence[Sequence[str]],
    start: int,
    chars: CharBigram,
) -> tuple[float, str]:
    """Bigram score of `choice` after `last`; spaces and unknown plain text are skipped."""
    total = 0.0
    for offset, option in enumerate(choice):
        guessed = len(positions[start + offset]) > 1
        if option.isspace() or (not guessed and not chars.knows(option)):
            continue
        total += chars.score(last, option)
        last = (last + option)[-(ORDER - 1) :]
    return total, last


def _words_from(
    positions: Sequence[Sequence[str]], start: int, model: WordModel
) -> Iterator[tuple[int, tuple[str, ...], float]]:
    """Every word (or single option) starting at `start`: end, options used, score."""
    for option in positions[start]:
        yield start + 1, (option,), model.char_score(option)
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
                if score is not None:
                    yield end + 1, (*choice, option), score
                if word in model.prefixes:
                    grown.append((word, (*choice, option)))
        frontier = grown
        end += 1
