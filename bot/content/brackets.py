"""Narrow guesses with paired punctuation: a `」` closes a `「`, a `【` is closed later.

A word model cannot see that `「研发、` is missing its closing bracket; a damaged `」` (its
last byte 8D is among the lost ones) is otherwise read as the commoner `、`.
"""

from __future__ import annotations

from collections.abc import Sequence

_CLOSER_OF = {
    "「": "」",
    "『": "』",
    "“": "”",
    "‘": "’",
    "（": "）",
    "《": "》",
    "【": "】",
    "(": ")",
}
_OPENER_OF = {closer: opener for opener, closer in _CLOSER_OF.items()}


def pair_brackets(positions: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Keep a guessed closer only where an opener waits, and a guessed opener only if closed."""
    result = list(positions)
    waiting = dict.fromkeys(_CLOSER_OF, 0)
    for index, options in enumerate(positions):
        if len(options) == 1:
            _count(options[0], waiting)
            continue
        closers = [o for o in options if o in _OPENER_OF and waiting[_OPENER_OF[o]] > 0]
        if closers:
            result[index] = (closers[0],)
        else:
            later = positions[index + 1 :]
            kept = tuple(o for o in options if _fits(o, later))
            result[index] = kept or options
        if len(result[index]) == 1:
            _count(result[index][0], waiting)
    return result


def _count(char: str, waiting: dict[str, int]) -> None:
    if char in waiting:
        waiting[char] += 1
    elif char in _OPENER_OF and waiting[_OPENER_OF[char]] > 0:
        waiting[_OPENER_OF[char]] -= 1


def _fits(option: str, later: Sequence[tuple[str, ...]]) -> bool:
    """Whether a guessed bracket has its partner: no closer unopened, no opener unclosed."""
    if option in _OPENER_OF:
        return False  # no opener is waiting, or the caller would have chosen this closer
    if option in _CLOSER_OF:
        return any(_CLOSER_OF[option] in options for options in later)
    return True
