"""Both languages have every text, with the same placeholders, and valid Telegram HTML."""

from __future__ import annotations

import dataclasses
import html
import string

import pytest

from bot.content import problems
from bot.content.problems import FileProblem
from bot.handlers.texts import EN, USER_COMMANDS, ZH, Count, Texts, texts_for


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


TEXT_FIELDS = [
    f.name for f in dataclasses.fields(Texts) if f.type == "str" and f.name != "language"
]


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_languages_share_placeholders(name: str) -> None:
    assert placeholders(getattr(EN, name)) == placeholders(getattr(ZH, name))


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_texts_are_not_empty_or_identical(name: str) -> None:
    assert getattr(EN, name).strip()
    assert getattr(ZH, name).strip()


@pytest.mark.parametrize("texts", [EN, ZH], ids=["en", "zh"])
def test_every_user_command_has_a_menu_description(texts: Texts) -> None:
    assert set(texts.commands) == set(USER_COMMANDS)
    # setMyCommands: descriptions of 1-256 characters, names of [a-z0-9_]{1,32}
    assert all(1 <= len(d) <= 256 for d in texts.commands.values())
    assert all(c.isascii() and c.islower() and len(c) <= 32 for c in USER_COMMANDS)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh", ZH),
        ("zh-hans", ZH),
        ("zh-TW", ZH),
        ("ZH", ZH),
        ("en", EN),
        ("ru", EN),
        ("", EN),
        (None, EN),
    ],
)
def test_language_is_chosen_by_code(code: str | None, expected: Texts) -> None:
    assert texts_for(code) is expected


def test_english_nouns_agree_with_their_number() -> None:
    assert EN.issue_line.format(issue_id="20210305", items=1).endswith("— 1 item")
    assert EN.issue_line.format(issue_id="20210305", items=12).endswith("— 12 items")
    assert EN.broadcast_done.format(count=0) == "📣 The notice goes to 0 chats."
    assert EN.push_done.format(issue_id="20210305", count=1).startswith(
        "📤 Issue 20210305: 1 message queued"
    )
    assert ZH.issue_line.format(issue_id="20210305", items=1).endswith("— 1 条")


def test_a_count_that_stopped_early_is_plural_with_a_plus() -> None:
    assert f"{Count(1, at_least=True):result|results}" == "1+ results"
    assert f"{Count(100, at_least=True)}" == "100+"
    assert f"{Count(7)}" == "7"
    assert f"{Count(7):03d}" == "007"
    assert f"{Count(100, at_least=True):,}" == "100+"


def test_both_languages_word_every_file_problem_with_the_same_fields() -> None:
    assert set(EN.file_problems) == set(ZH.file_problems)
    for code, template in EN.file_problems.items():
        assert placeholders(template) == placeholders(ZH.file_problems[code]), code


def test_english_file_problems_are_the_sentences_the_errors_carry() -> None:
    refusal = FileProblem("too_large", size=9, limit=5)
    assert str(refusal) == "9 bytes is too large for an issue (at most 5)"
    assert EN.file_problems is problems.ENGLISH  # one source for the log and the chat
    # Each is both plain text (the log, the CLI) and an HTML template (the chat).
    for code, template in problems.ENGLISH.items():
        assert html.escape(template, quote=False) == template, code
