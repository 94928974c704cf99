"""Callback data: round trips, the 64-byte limit, and the buttons of /issues and /search."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.handlers import keyboards
from bot.handlers.keyboards import (
    MAX_CALLBACK_BYTES,
    ConfirmNotice,
    DropSubscription,
    FollowedEntry,
    IssueEntry,
    ResultEntry,
    SendIssue,
    SendItem,
    ShowIssuesPage,
    ShowSearchPage,
    SubscribeAll,
)
from bot.handlers.texts import EN, ZH


@pytest.mark.parametrize(
    "callback",
    [
        SendIssue("20210305"),
        SendItem("20210305", 3),
        SendItem("20210305", 120),
        ShowSearchPage(0, "GPT"),
        ShowSearchPage(12, "GPT 机器人"),
        ShowSearchPage(1, "a:b:c"),  # a colon in the query survives
        ShowIssuesPage(0),
        ShowIssuesPage(42),
        SubscribeAll(in_list=False),
        SubscribeAll(in_list=True),
        DropSubscription(17, keyboards.keyword_check("gpt")),
        ConfirmNotice(4, send=True),
        ConfirmNotice(4, send=False),
    ],
)
def test_round_trip(callback: keyboards.Callback) -> None:
    assert keyboards.decode(keyboards.encode(callback)) == callback


@pytest.mark.parametrize(
    "data",
    [
        *(None, "", "x", "i:", "t:20210305", "t:20210305:x", "s:x:GPT", "s:1:", "zz:1"),
        *("l:", "l:x", "l:-1", "a:x", "u:", "u:x", "u:17", "u:17:", "n:", "n:x", "n:4:y"),
    ],
)
def test_unknown_data_decodes_to_none(data: str | None) -> None:
    assert keyboards.decode(data) is None


@pytest.mark.parametrize(
    "data",
    [
        # A modified client can send any data with a tap. Digits Python's int() refuses, or
        # numbers past a database integer, raised in the handler (ValueError, OverflowError).
        *("s:²:GPT", "l:²", "t:20210305:²", "u:١٧:abc", "n:²"),
        *("s:99999999999999999999:GPT", "l:99999999999999999999", "t:20210305:1" + "0" * 20),
        *("u:99999999999999999999:abc", "n:99999999999999999999"),
    ],
)
def test_forged_numbers_decode_to_none(data: str) -> None:
    assert keyboards.decode(data) is None


def test_encode_refuses_data_over_64_bytes() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        keyboards.encode(ShowSearchPage(0, "长" * 30))


@given(query=st.text(min_size=1, max_size=200), pages=st.integers(min_value=1, max_value=10**4))
def test_query_ref_always_fits(query: str, pages: int) -> None:
    ref = keyboards.query_ref(query, pages)
    data = keyboards.encode(ShowSearchPage(pages - 1, ref))
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert keyboards.decode(data) == ShowSearchPage(pages - 1, ref)
    # The query is carried as is exactly when it is not a digest.
    assert (ref == query) != keyboards.is_digest(ref)


def test_short_query_is_carried_and_long_one_is_a_stable_digest() -> None:
    assert keyboards.query_ref("GPT 机器人", 3) == "GPT 机器人"
    long_query = "自然语言处理 大语言模型 强化学习 计算机视觉"  # 19 characters: 57 bytes
    ref = keyboards.query_ref(long_query, 3)
    assert keyboards.is_digest(ref)
    assert ref == keyboards.query_ref(long_query, 7)
    # A query that happens to look like a digest is not mistaken for one.
    assert keyboards.is_digest(keyboards.query_ref("#abc", 1))


def buttons(markup: keyboards.InlineKeyboardMarkup) -> list[list[tuple[str, str]]]:
    return [[(b.text, str(b.callback_data)) for b in row] for row in markup.inline_keyboard]


def test_issues_keyboard_has_one_button_per_issue() -> None:
    markup = keyboards.issues_keyboard(EN, [IssueEntry("20210305", 12), IssueEntry("20210219", 9)])
    assert buttons(markup) == [
        [("20210305 · 12 items", "i:20210305")],
        [("20210219 · 9 items", "i:20210219")],
    ]


def results(first: int, count: int) -> list[ResultEntry]:
    return [ResultEntry(first + i, "20210305", i + 1, f"Title {first + i}") for i in range(count)]


def test_issues_keyboard_pages_to_older_and_back_to_newer_issues() -> None:
    entries = [IssueEntry("20210305", 12)]
    first = buttons(keyboards.issues_keyboard(EN, entries, page=0, pages=3))
    assert first[-1] == [("Next ›", "l:1")]
    middle = buttons(keyboards.issues_keyboard(ZH, entries, page=1, pages=3))
    assert middle[-1] == [("‹ 上一页", "l:0"), ("下一页 ›", "l:2")]
    last = buttons(keyboards.issues_keyboard(EN, entries, page=2, pages=3))
    assert last[-1] == [("‹ Previous", "l:1")]
    assert len(buttons(keyboards.issues_keyboard(EN, entries))) == 1  # one page: no row


def test_the_greeting_offers_to_subscribe() -> None:
    assert buttons(keyboards.greeting_keyboard(ZH)) == [[("📬 订阅每一期", "a")]]


def test_subscriptions_keyboard_drops_each_or_subscribes_when_there_is_none() -> None:
    assert buttons(keyboards.subscriptions_keyboard(EN, [])) == [
        [("📬 Subscribe to every issue", "a:l")]
    ]
    everything = keyboards.subscriptions_keyboard(EN, [FollowedEntry(3, None, None)])
    assert buttons(everything) == [
        [("🔕 Unsubscribe from every issue", f"u:3:{keyboards.keyword_check(None)}")]
    ]
    long = "深度学习" * 16  # the longest keyword: 64 characters
    followed = [FollowedEntry(4, "gpt", "GPT"), FollowedEntry(10**9, long, long)]
    assert buttons(keyboards.subscriptions_keyboard(EN, followed)) == [
        [("✕ GPT", f"u:4:{keyboards.keyword_check('gpt')}")],
        [
            (
                f"✕ {keyboards.shorten(long, keyboards.MAX_BUTTON_TITLE)}",
                f"u:{10**9}:{keyboards.keyword_check(long)}",
            )
        ],
    ]


def test_a_drop_button_names_its_keyword_besides_the_row_id() -> None:
    # SQLite gives a deleted row's id to the next row: the check tells the two keywords apart.
    assert keyboards.keyword_check("gpt") != keyboards.keyword_check("芯片")
    assert keyboards.keyword_check(None) == keyboards.keyword_check("")
    assert len(keyboards.keyword_check("芯片" * 32)) == 8


def test_search_keyboard_first_middle_last_and_single_page() -> None:
    first = buttons(keyboards.search_keyboard(EN, results(1, 5), page=0, pages=3, ref="q"))
    assert first[0] == [("1. Title 1", "t:20210305:1")]
    assert first[-1] == [("Next ›", "s:1:q")]
    middle = buttons(keyboards.search_keyboard(ZH, results(6, 5), page=1, pages=3, ref="q"))
    assert middle[-1] == [("‹ 上一页", "s:0:q"), ("下一页 ›", "s:2:q")]
    last = buttons(keyboards.search_keyboard(EN, results(11, 2), page=2, pages=3, ref="q"))
    assert len(last) == 3
    assert last[-1] == [("‹ Previous", "s:1:q")]
    single = buttons(keyboards.search_keyboard(EN, results(1, 2), page=0, pages=1, ref="q"))
    assert len(single) == 2  # no navigation row


def test_long_titles_are_shortened_on_buttons() -> None:
    entry = ResultEntry(1, "20210305", 1, "很长的标题" * 30)
    markup = keyboards.search_keyboard(EN, [entry], page=0, pages=1, ref="q")
    text = markup.inline_keyboard[0][0].text
    assert text.endswith("…")
    assert len(text) <= keyboards.MAX_BUTTON_TITLE + len("1. ")


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("short", 10, "short"), ("a  b\nc", 10, "a b c"), ("abcdefghijk", 5, "abcd…")],
)
def test_shorten(text: str, limit: int, expected: str) -> None:
    assert keyboards.shorten(text, limit) == expected
