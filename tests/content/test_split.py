from __future__ import annotations

from html import escape

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.content.split import pack_blocks, split_html, utf16_length, visible_text
from tests.content.html_check import assert_telegram_html

# Text that stresses counting and escaping: CJK, emoji outside the BMP, markup characters.
_CHARS = st.sampled_from(
    [*list("ab 中文字。，\n&<>\"'"), "😀", "🇨🇳", "\n\n", "é", "👍🏽", "e\u0301"]
)
_TEXT = st.lists(_CHARS, min_size=0, max_size=40).map("".join)


@st.composite
def telegram_html(draw: st.DrawFn, depth: int = 0) -> str:
    """Well-formed Telegram HTML: text and nested b/i/u/s/a/code/blockquote elements."""
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(st.sampled_from(["b", "i", "u", "s", "a", "code", "blockquote"]))
            inner = draw(telegram_html(depth + 1))
            if tag == "a":
                inner = visible_escape(inner)  # links hold plain text here
                parts.append(f'<a href="https://example.com/?q=1&amp;r=2">{inner}</a>')
            else:
                parts.append(f"<{tag}>{inner}</{tag}>")
        else:
            parts.append(escape(draw(_TEXT), quote=False))
    return "".join(parts)


def visible_escape(html: str) -> str:
    return escape(visible_text(html), quote=False)


@settings(max_examples=300, deadline=None)
@given(html=telegram_html(), limit=st.integers(2, 120))
def test_split_keeps_limits_text_and_wellformedness(html: str, limit: int) -> None:
    parts = split_html(html, limit)
    for part in parts:
        assert utf16_length(visible_text(part)) <= limit
        assert_telegram_html(part)
    # No text is lost; only white space at a cut may go, as Telegram trims it anyway.
    assert _ink("".join(visible_text(part) for part in parts)) == _ink(visible_text(html))


@settings(max_examples=100, deadline=None)
@given(
    blocks=st.lists(telegram_html().filter(lambda h: visible_text(h).strip()), max_size=6),
    limit=st.integers(30, 200),
    first_limit=st.integers(10, 60),
)
@example(blocks=["\n\n\n\naaaaaa🇨🇳a"], limit=30, first_limit=10)  # a caption after blank lines
def test_pack_blocks_respects_both_limits(blocks: list[str], limit: int, first_limit: int) -> None:
    parts = pack_blocks(blocks, limit, first_limit=first_limit)
    for index, part in enumerate(parts):
        assert utf16_length(visible_text(part).strip()) <= (first_limit if index == 0 else limit)
        assert_telegram_html(part)
    joined = "".join(visible_text(part) for part in parts)
    assert _ink(joined) == _ink("".join(visible_text(block) for block in blocks))


def _ink(text: str) -> str:
    """The text without white space."""
    return "".join(text.split())


def test_split_prefers_paragraph_breaks() -> None:
    html = "<b>" + "甲" * 30 + "</b>\n\n" + "乙" * 30 + "\n\n" + "丙" * 30
    assert [visible_text(p).strip() for p in split_html(html, 70)] == [
        "甲" * 30 + "\n\n" + "乙" * 30,
        "丙" * 30,
    ]


def test_split_reopens_tags_across_a_cut() -> None:
    html = '<blockquote><a href="https://x.example/?a=1&amp;b=2">' + "链" * 10 + "</a></blockquote>"
    parts = split_html(html, 6)
    assert parts == [
        '<blockquote><a href="https://x.example/?a=1&amp;b=2">链链链链链链</a></blockquote>',
        '<blockquote><a href="https://x.example/?a=1&amp;b=2">链链链链</a></blockquote>',
    ]


def test_split_never_halves_an_emoji_or_an_entity() -> None:
    parts = split_html("😀&amp;😀&lt;😀", 3)
    assert [visible_text(p) for p in parts] == ["😀&", "😀<", "😀"]
    assert parts[0] == "😀&amp;"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("🇨🇳🇯🇵🇺🇸", 6, ["🇨🇳", "🇯🇵", "🇺🇸"]),  # 6 units would halve the second flag
        ("a🇨🇳🇯🇵", 5, ["a🇨🇳", "🇯🇵"]),
        ("ab👍🏽c", 5, ["ab", "👍🏽c"]),  # a thumb and its skin tone
        ("xy👩\u200d💻", 5, ["xy", "👩\u200d💻"]),  # a ZWJ sequence
        ("cafe\u0301s", 4, ["caf", "e\u0301s"]),  # an accent that is a mark of its own
        ("中🇨🇳🇨🇳", 6, ["中🇨🇳", "🇨🇳"]),
    ],
)
def test_split_never_cuts_inside_a_flag_or_a_combined_character(
    text: str, limit: int, expected: list[str]
) -> None:
    assert [visible_text(p) for p in split_html(text, limit)] == expected


def test_split_cuts_a_character_longer_than_a_part_anyway() -> None:
    # Nothing smaller fits: the cluster is cut rather than loop or overflow.
    assert [visible_text(p) for p in split_html("e\u0301\u0301\u0301", 2)] == [
        "e\u0301",
        "\u0301\u0301",
    ]


def test_utf16_counts_astral_characters_twice() -> None:
    assert utf16_length("a中😀") == 4


def test_pack_blocks_cuts_only_between_blocks_when_they_fit() -> None:
    blocks = ["一" * 40, "二" * 40, "三" * 40]
    assert pack_blocks(blocks, 100) == ["一" * 40 + "\n\n" + "二" * 40, "三" * 40]


@pytest.mark.parametrize("limit", [0, 1])
def test_split_rejects_a_limit_too_small_for_any_character(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        split_html("abc", limit)
