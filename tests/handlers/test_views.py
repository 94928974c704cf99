"""Argument parsing, pagination and message texts: escaped, valid Telegram HTML, both languages."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import ingest
from bot.content.decode import decode_issue
from bot.content.parse import parse_issue
from bot.content.problems import FileProblem, Problem
from bot.content.split import TEXT_LIMIT
from bot.handlers import views
from bot.handlers.keyboards import IssueEntry, ResultEntry
from bot.handlers.texts import EN, ZH, Texts
from bot.ingest import FileResult, FileStatus, ScanReport
from bot.storage import Stats
from tests.content.html_check import assert_telegram_html

HOSTILE = '<script>&"x"</script>'
LANGUAGES = pytest.mark.parametrize("t", [EN, ZH], ids=["en", "zh"])


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("", []),
        ("   ", []),
        ("GPT", ["GPT"]),
        ("GPT  机器人\n视觉", ["GPT", "机器人", "视觉"]),
        ("GPT,机器人，视觉、语音", ["GPT", "机器人", "视觉", "语音"]),
        ('"machine learning" GPT', ["machine learning", "GPT"]),
        ("“强化 学习” GPT", ["强化 学习", "GPT"]),
        ("GPT gpt GPT", ["GPT", "gpt"]),  # duplicates go; case folding is storage's business
        ('"  spaced   out  "', ["spaced out"]),
        ('""', []),
        ("\u200b \u200bGPT\u200d \ufeff", ["GPT"]),  # invisible characters, pasted along
        # Quotes and brackets around a term are no part of it: the bot shows keywords in 「」.
        ("「芯片」", ["芯片"]),
        ("「GPT」、「芯片」", ["GPT", "芯片"]),
        ("『深度 学习』 GPT", ["深度 学习", "GPT"]),  # a phrase, as in "…"
        ("《三体》【AI】(GPT-3)［模型］", ["三体", "AI", "GPT-3", "模型"]),
        ("'GPT' ‘芯片’ «AI»", ["GPT", "芯片", "AI"]),
        ("「“GPT”」", ["GPT"]),
        ("「芯片 AI", ["芯片", "AI"]),  # a quote left open
        ("(GPT 芯片）", ["GPT", "芯片"]),
        ("「」 ()", []),
        ("GPT(3) f(x) don't it’s", ["GPT(3)", "f(x)", "don't", "it’s"]),  # within a word
    ],
)
def test_parse_terms(text: str, terms: list[str]) -> None:
    assert views.parse_terms(text) == terms


@pytest.mark.parametrize(
    ("text", "command_argument"),
    [
        ("/search GPT 机器人", "GPT 机器人"),
        ("/search@test_bot  GPT", "GPT"),
        ("/search", ""),
        ("/broadcast <b>Hi</b>\nline two", "<b>Hi</b>\nline two"),
        ("  /issue 20210305 ", "20210305"),
    ],
)
def test_command_argument(text: str, command_argument: str) -> None:
    assert views.command_argument(text) == command_argument


@pytest.mark.parametrize(
    ("text", "addressee"),
    [
        ("/foo@test_bot", "test_bot"),
        ("/search@Test_Bot GPT", "Test_Bot"),  # compared without case by the filter
        ("/foo", None),  # maybe another bot's, in a group
        ("/foo GPT@test_bot", None),  # an argument, not the command word
        ("/foo@", None),
        ("foo@test_bot", None),
        ("", None),
    ],
)
def test_command_addressee(text: str, addressee: str | None) -> None:
    assert views.command_addressee(text) == addressee


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("／latest", "/latest"),  # a Chinese input method's slash
        ("／ＩＳＳＵＥ　２０２１０３０５", "/issue 20210305"),  # full-width letters and digits too
        (" ／Search GPT-4o ", "/search GPT-4o"),
        ("／latest@test_bot", "/latest"),
        ("／ latest", "/latest"),
        ("／latestx", None),  # no such command: a search
        ("／stats", None),  # not a reader's command
        ("/latest", None),  # Telegram took that one for a command
        ("GPT", None),
        ("", None),
    ],
)
def test_a_command_typed_with_a_full_width_slash_is_recognised(
    text: str, meant: str | None
) -> None:
    assert views.mistyped_command(text) == meant


@pytest.mark.parametrize(
    ("text", "issue_id"),
    [
        ("20210305", "20210305"),
        (" 2021-03-05 ", "20210305"),
        ("2021/3/5", "20210305"),
        ("2021.03.05", "20210305"),
        ("2021年3月5日", "20210305"),
        ("２０２１年３月５日", "20210305"),
        ("2021 03 05", "20210305"),
        ("20210305\u200b", "20210305"),  # pasted along with a zero-width space
        ("第20210305期", "20210305"),
        ("20210305期", "20210305"),
        ("#20210305", "20210305"),
        ("＃2021年3月5日", "20210305"),
        ("2021-13", "2021-13"),  # not a date: left for the "unknown issue" reply
        ("", ""),
    ],
)
def test_normalize_issue_id(text: str, issue_id: str) -> None:
    assert views.normalize_issue_id(text) == issue_id


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2021", "2021"),
        (" 2021年 ", "2021"),
        ("202103", "202103"),
        ("2021-03", "202103"),
        ("2021/3", "202103"),
        ("2021.3", "202103"),
        ("2021年3月", "202103"),
        ("2021 年 3 月", "202103"),
        ("２０２１年３月", "202103"),  # full-width digits, as a Chinese input method types them
        ("\u200b2021年\u200b", "2021"),
        ("202113", None),  # no such month
        ("2021-13", None),
        ("20210305", None),  # a day: an issue id, not a period
        ("20213", None),
        ("21", None),
        ("", None),
        ("GPT", None),
    ],
)
def test_issue_period(text: str, period: str | None) -> None:
    assert views.issue_period(text) == period


ARCHIVE = ["20210305", "20210219", "20210114", "20201218", "20201120", "20200501", "20190104"]


@pytest.mark.parametrize(
    ("wanted", "nearest"),
    [
        ("20210306", ["20210305", "20210219", "20210114", "20201218", "20201120"]),
        ("20200601", ["20210219", "20210114", "20201218", "20201120", "20200501"]),
        ("2019", ["20210114", "20201218", "20201120", "20200501", "20190104"]),  # its middle
        ("202005", ["20210219", "20210114", "20201218", "20201120", "20200501"]),
        ("2030", ["20210305", "20210219", "20210114", "20201218", "20201120"]),
        ("20219999", None),  # not a date
        ("GPT", None),
    ],
)
def test_nearest_ids(wanted: str, nearest: list[str] | None) -> None:
    assert views.nearest_ids(ARCHIVE, wanted) == nearest


@pytest.mark.parametrize(
    ("total", "pages"), [(0, 1), (1, 1), (5, 1), (6, 2), (10, 2), (11, 3), (101, 21)]
)
def test_page_count(total: int, pages: int) -> None:
    assert views.page_count(total) == pages


@pytest.mark.parametrize(
    ("page", "total", "clamped"), [(0, 12, 0), (2, 12, 2), (3, 12, 2), (-1, 12, 0), (4, 0, 0)]
)
def test_clamp_page(page: int, total: int, clamped: int) -> None:
    assert views.clamp_page(page, total) == clamped


@LANGUAGES
def test_help_lists_every_command_and_admin_part_only_for_admins(t: Texts) -> None:
    reader = views.help_text(t, name=views.display_name(HOSTILE, None))
    assert_telegram_html(reader)
    assert "&lt;script&gt;" in reader
    assert all(f"/{command} " in reader for command in t.commands)
    assert "/stats" not in reader
    admin = views.help_text(t, admin=True)
    assert_telegram_html(admin)
    assert "/stats" in admin
    assert not admin.startswith("👋")
    assert "@" not in admin  # no username, no tip on sharing


@LANGUAGES
def test_help_shows_how_to_share_an_item_with_the_bots_username(t: Texts) -> None:
    shown = views.help_text(t, bot_name="ai_brief_bot")
    assert_telegram_html(shown)
    assert "<code>@ai_brief_bot GPT</code>" in shown


@LANGUAGES
def test_subscription_texts(t: Texts) -> None:
    assert views.subscribed_text(t, [None], []) == t.subscribed_all
    assert views.subscribed_text(t, [], []) == t.already_all
    added = views.subscribed_text(t, ["gpt", HOSTILE], ["GPT", HOSTILE])
    assert_telegram_html(added)
    assert "“gpt”" in added
    assert "“GPT”" in views.subscribed_text(t, [], ["GPT"])
    assert views.subscriptions_text(t, [None]) == t.subscriptions_all
    assert "“gpt”, “机器人”" in views.subscriptions_text(t, ["gpt", "机器人"])
    none = views.subscriptions_text(t, [])
    assert_telegram_html(none)
    assert "/subscribe" in none


@LANGUAGES
def test_too_long_keyword_is_shortened_and_escaped(t: Texts) -> None:
    text = views.too_long_keyword(t, "<" * 500, 64)
    assert_telegram_html(text)
    assert "500" in text
    assert "64" in text
    assert len(text) < 400


@LANGUAGES
def test_the_issue_list_names_its_page_when_there_are_several(t: Texts) -> None:
    entries = [IssueEntry("20210305", 9), IssueEntry("20210219", 8, waiting=True)]
    one = views.issues_text(t, entries).split("\n")
    assert one[0] == t.issues_header
    assert one[2].endswith(t.issue_waiting)
    paged = views.issues_text(t, entries, page=1, pages=3)
    assert_telegram_html(paged)
    assert paged.split("\n")[0] == t.issues_page_header.format(page=2, pages=3)


@LANGUAGES
def test_a_year_lists_its_issues_and_points_to_a_month_for_the_rest(t: Texts) -> None:
    issues = [IssueEntry(f"2021{month:02d}01", 8) for month in range(12, 0, -1)]
    lines = views.period_text(t, "2021", issues).split("\n")
    assert_telegram_html("\n".join(lines))
    assert lines[0] == t.period_header.format(period=views.period_name(t, "2021"), count=12)
    listed = [i.issue_id for i in issues[: views.ISSUES_LISTED]]
    assert [re.findall(r"<code>(\d+)</code>", line) for line in lines[1:-1]] == [
        [issue_id] for issue_id in listed
    ]
    assert lines[-1] == t.period_more.format(count=2, example="202102")  # newest not listed
    daily = [IssueEntry(f"202103{day:02d}", 3) for day in range(31, 0, -1)]
    month = views.period_text(t, "202103", daily).split("\n")
    assert len(month) == 1 + 31  # a month lists every issue, with no hint
    assert views.period_shown("202103", daily) == daily
    assert views.period_shown("2021", issues) == issues[: views.ISSUES_LISTED]


@LANGUAGES
def test_an_unknown_date_offers_the_nearest_issues_and_anything_else_the_newest(
    t: Texts,
) -> None:
    archive = ["20210305", "20210219", "20210114", "20201218", "20201120", "20200501"]
    near = views.unknown_issue_text(t, "20200502", archive).split("\n")[1]
    assert near == t.nearest_ids.format(ids=", ".join(f"<code>{i}</code>" for i in archive[1:]))
    odd = views.unknown_issue_text(t, HOSTILE, archive)
    assert_telegram_html(odd)
    assert odd.split("\n")[1] == views.valid_ids_text(t, archive)  # the newest five
    empty = views.empty_period_text(t, "2019", archive).split("\n")
    assert empty[0] == t.period_unknown.format(period=views.period_name(t, "2019"))
    assert "20200501" in empty[1]
    assert views.empty_period_text(t, "2019", []).endswith(t.no_issues)


@LANGUAGES
def test_unknown_issue_lists_valid_ids(t: Texts) -> None:
    ids = ["20210305", "20210219", "20210114", "20201218"]
    text = views.unknown_issue_text(t, HOSTILE, ids)
    assert_telegram_html(text)
    assert all(i in text for i in ids)
    usage = views.usage_with_example(t.issue_usage, t, ids)
    assert "/issue 20210305" in usage
    assert "/issue 202103" in usage.replace("/issue 20210305", "")
    assert views.valid_ids_text(t, []) == t.no_issues


@LANGUAGES
def test_issue_list_and_search_page(t: Texts) -> None:
    listing = views.issues_text(
        t, [IssueEntry("20210312", 8, waiting=True), IssueEntry("20210305", 12)]
    )
    assert_telegram_html(listing)
    waiting, published = listing.splitlines()[1:]
    assert "20210312" in waiting
    assert waiting.endswith(t.issue_waiting)
    assert "20210305" in published
    assert t.issue_waiting not in published
    entries = [ResultEntry(6, "20210305", 3, f"{HOSTILE}\nsecond line")]
    page = views.search_text(t, HOSTILE, entries, total=7, page=1)
    counted_early = views.search_text(t, "模型", entries, total=100, page=1, exact=False)
    assert "100+" in counted_early
    assert "2/20+" in counted_early
    one = views.search_text(EN, "模型", entries[:1], total=1, page=0)
    assert "1 result, page 1/1" in one
    assert "100+ results" in views.search_text(EN, "模型", entries, total=100, page=1, exact=False)
    assert_telegram_html(page)
    assert "2/2" in page
    assert "6. " in page
    assert "\nsecond" not in page  # a title stays on its line


@LANGUAGES
def test_stats_text(t: Texts) -> None:
    counts = Stats(
        chats=10,
        active_chats=9,
        subscribers=8,
        issues=4,
        deliveries_sent=300,
        deliveries_pending=2,
        deliveries_failed=1,
        deliveries_dropped=5,
        deliveries_uncertain=7,
        failure_reasons=(("Bad Request: <odd> & reason", 1),),
        under_way=(("20210305", 1200, 3800),),
        keyword_subscribers=6,
        top_keywords=(("GPT", 3), ("<芯片>", 2)),
    )
    text = views.stats_text(t, counts)
    assert "GPT 3 · &lt;芯片&gt; 2" in text
    assert "20210305" in text
    assert "1200" in text
    assert "3800" in text
    assert_telegram_html(text)
    for number in ("10", "9", "8", "6", "4", "300", "2", "1", "5", "7"):
        assert number in text
    assert "• Bad Request: &lt;odd&gt; &amp; reason: 1" in text


@LANGUAGES
def test_push_says_what_it_queued_or_why_nothing(t: Texts) -> None:
    done = views.push_text(t, "20210305", queued=12, pending=30)
    assert done == t.push_done.format(issue_id="20210305", count=12)
    # Nothing new, but messages still queued: the issue is on its way, not there yet.
    under_way = views.push_text(t, "20210305", queued=0, pending=7)
    assert under_way == t.push_under_way.format(issue_id="20210305", count=7)
    assert "7" in under_way
    assert under_way != t.push_nothing.format(issue_id="20210305")
    nothing = views.push_text(t, "20210305", queued=0, pending=0)
    assert nothing == t.push_nothing.format(issue_id="20210305")
    assert_telegram_html(views.push_text(t, HOSTILE, queued=0, pending=1))


def test_push_under_way_in_both_languages() -> None:
    assert views.push_text(EN, "20210305", queued=0, pending=1) == (
        "📤 Nothing new to queue: issue 20210305 is still on its way to subscribers, "
        "1 message left to send."
    )
    assert views.push_text(ZH, "20210305", queued=0, pending=7) == (
        "📤 无需重新排队：20210305 期仍在发给订阅者，还有 7 条消息待发送。"
    )


def _scan_report() -> ScanReport:
    tz = ZoneInfo("Asia/Shanghai")
    return ScanReport(
        files=[
            FileResult("20210219.md", FileStatus.UNCHANGED, "20210219"),
            FileResult("20210305.md", FileStatus.NEW, "20210305", items=9, restored=40, guessed=3),
            FileResult("20210312.md", FileStatus.UPDATED, "20210312", items=1, restored=1),
            FileResult(f"{HOSTILE}.md", FileStatus.BAD, reason=f"no news item in {HOSTILE}"),
            FileResult("photo.md", FileStatus.STILL_BAD, reason="not text"),
        ],
        published={"20210305": 18, "20210312": 1},
        waiting=["20210319"],
        publish_at=datetime(2021, 3, 19, 9, 0, tzinfo=tz),
    )


def test_scan_text_in_english_reads_as_the_command_line_prints_it() -> None:
    assert views.plain_scan_text(_scan_report()).splitlines() == [
        "5 files: 2 new or updated, 1 unchanged, 2 bad",
        "20210305.md: new (issue 20210305): 9 items; mojibake repaired: 40 characters restored, "
        "3 of them guessed from context (check the wording, or send the original file: this "
        "copy was opened in the wrong encoding and saved again)",
        "20210312.md: updated (issue 20210312): 1 item; mojibake repaired: 1 character restored",
        f"{HOSTILE}.md: bad: no news item in {HOSTILE}",
        "photo.md: still bad: not text",
        "issue 20210305: 18 deliveries queued",
        "issue 20210312: 1 delivery queued",
        "waiting for the publishing time (2021-03-19 09:00 CST): 20210319; /push ID sends now",
    ]


def test_scan_text_in_chinese_for_a_chinese_editor() -> None:
    text = views.scan_text(ZH, _scan_report())
    assert_telegram_html(text)
    assert text.splitlines()[:3] == [
        "文件 5 个：新增或更新 2 个，未变 1 个，有问题 2 个",
        "20210305.md：新增（20210305 期）：9 条新闻；已修复乱码：恢复 40 个字符，其中 3 个是根据"
        "上下文推测的（请核对措辞，或发送原文件：这份副本曾用错误的编码打开后又保存）",
        "20210312.md：已更新（20210312 期）：1 条新闻；已修复乱码：恢复 1 个字符",
    ]
    assert "&lt;script&gt;" in text  # what came from a file name is escaped
    assert "20210305 期：已排队 18 条投递" in text
    assert text.endswith("等待发布时间（2021-03-19 09:00 CST）：20210319；/push 期号 可立即发送")


def test_a_scan_nobody_asked_for_is_news_for_editors_when_something_changed() -> None:
    report = _scan_report()
    news = views.scan_news(EN, report)
    assert views.is_news(report)
    assert news.startswith("<b>Found in the issues folder</b>\n5 files: 2 new or updated")
    assert "photo.md" not in news  # still bad: the editors heard of it when it went bad
    assert f"{html.escape(HOSTILE)}.md: bad" in news

    def only(*statuses: FileStatus) -> ScanReport:
        return ScanReport(files=[f for f in report.files if f.status in statuses])

    assert not views.is_news(only(FileStatus.UNCHANGED, FileStatus.STILL_BAD))
    assert views.is_news(only(FileStatus.BAD))
    assert views.is_news(only(FileStatus.UPDATED))
    published = ScanReport(published={"20210305": 18})  # a PUBLISH_CRON run
    assert views.is_news(published)
    assert views.scan_news(ZH, published) == "<b>已按计划发布</b>\n20210305 期：已排队 18 条投递"
    # A scan that only made up a publishing time missed while the bot was stopped: the same.
    caught_up = ScanReport(files=only(FileStatus.UNCHANGED).files, published={"20210305": 18})
    assert views.scan_news(ZH, caught_up) == views.scan_news(ZH, published)


@LANGUAGES
def test_an_upload_reply_starts_with_the_file_and_only_counts_the_other_bad_ones(
    t: Texts,
) -> None:
    bad = [
        FileResult(f"notes-{n:03d}.md", FileStatus.STILL_BAD, reason=f"no news item in {HOSTILE}")
        for n in range(150)
    ]
    report = ScanReport(
        files=[
            FileResult("20210219.md", FileStatus.UNCHANGED, "20210219"),
            *bad[:75],
            FileResult("20210305.md", FileStatus.NEW, "20210305", items=9),
            FileResult("20210312.md", FileStatus.UPDATED, "20210312", items=1),
            *bad[75:],
        ],
        published={"20210305": 18, "20210312": 1},
        uploaded="20210305.md",
    )
    assert len(views.scan_text(t, report)) > TEXT_LIMIT  # what /reload says, in parts
    text = views.upload_text(t, report)
    assert_telegram_html(text)
    lines = text.splitlines()
    assert lines[0].startswith("20210305.md")
    assert lines[1].startswith("20210312.md")  # stored by the same scan: news no one else tells
    assert lines[2:4] == [
        t.scan_queued.format(issue_id="20210305", count=18),
        t.scan_queued.format(issue_id="20210312", count=1),
    ]
    assert lines[4] == t.upload_others_bad.format(count=150)
    assert len(lines) == 5
    assert "notes-" not in text


def test_an_upload_reply_names_the_file_even_when_the_archive_had_it() -> None:
    report = ScanReport(
        files=[FileResult("20210305.md", FileStatus.UNCHANGED, "20210305")],
        uploaded="20210305.md",
    )
    assert views.upload_text(EN, report) == "20210305.md: unchanged (issue 20210305)"
    assert EN.upload_others_bad.format(count=1) == "1 other file is bad: /reload lists them"


@LANGUAGES
def test_every_file_status_has_a_word(t: Texts) -> None:
    assert set(t.scan_statuses) == {status.value for status in FileStatus}


def _refusal(make: Callable[[], object]) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        make()
    return caught.value


REFUSALS = {
    "no_items": lambda: parse_issue("> 导读：本期为 AI 简报 20210305 期\n\n正文\n"),
    "no_date": lambda: parse_issue("# 1. 标题\n"),
    "bad_date": lambda: parse_issue("> 导读：本期为 AI 简报 20219999 期\n\n# 1. 标题\n"),
    "item_number": lambda: parse_issue("> AI 简报 20210305 期\n\n# 123456. 标题\n"),
    "nul_bytes": lambda: decode_issue(b"abc\x00def"),
    "control_characters": lambda: decode_issue(b"\x01\x02\x03\x04" * 10),
    "encoding": lambda: decode_issue(b"\xfe\xfa\xff" * 10),  # no BOM: FF FE is UTF-16's
    "too_large": lambda: ingest._check_size(b"x" * (ingest.MAX_ISSUE_BYTES + 1)),
}


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_a_refusal_reads_in_english_as_its_sentence_and_in_chinese(code: str) -> None:
    refusal = _refusal(REFUSALS[code])
    assert refusal.problem.code == code
    assert views.problem_text(EN, refusal.problem, str(refusal)) == html.escape(str(refusal))
    chinese = views.problem_text(ZH, refusal.problem, str(refusal))
    assert chinese != html.escape(str(refusal))
    assert re.search("[\u4e00-\u9fff]", chinese)


def test_a_bad_file_in_a_chinese_scan_report() -> None:
    report = ScanReport(
        files=[
            FileResult(
                "a.md",
                FileStatus.BAD,
                "20210305",
                "issue 20210305 is already in <b>.md",
                problem=Problem("duplicate", (("issue_id", "20210305"), ("other", "<b>.md"))),
            ),
            FileResult("b.md", FileStatus.STILL_BAD, reason="not UTF-8 or GB18030 text"),
        ]
    )
    lines = views.scan_text(ZH, report).splitlines()
    assert lines[1] == "a.md：有问题（20210305 期）：20210305 期已在 &lt;b&gt;.md 中"
    # A row from before migration 0009 kept only its sentence.
    assert lines[2] == "b.md：仍有问题：not UTF-8 or GB18030 text"


def test_a_stored_problem_that_no_longer_fits_its_template_reads_as_its_sentence() -> None:
    outdated = Problem("bad_date", (("day", "20219999"),))  # the field was renamed since
    english = "the issue date 20219999 is not a real date (YYYYMMDD)"
    assert views.problem_text(ZH, outdated, english) == english


@pytest.mark.parametrize(
    ("ago", "shown"),
    [(timedelta(seconds=20), "1 minute ago"), (timedelta(minutes=4, seconds=59), "4 minutes ago")],
)
def test_a_group_asking_again_soon_is_pointed_up(ago: timedelta, shown: str) -> None:
    now = datetime(2021, 3, 5, 12, tzinfo=UTC)
    refusal = views.repeat_refusal(EN, "20210305", now - ago, now - timedelta(hours=1), now)
    assert refusal == f"Issue 20210305 was posted here {shown}: scroll up to read it."


def test_a_group_asking_after_the_gap_or_for_the_first_time_is_sent_the_issue() -> None:
    now = datetime(2021, 3, 5, 12, tzinfo=UTC)
    assert views.repeat_refusal(EN, "20210305", now - views.GROUP_REPEAT_GAP, None, now) is None
    assert views.repeat_refusal(ZH, "20210305", None, None, now) is None
    posted = now - timedelta(minutes=2)
    edited = now - timedelta(minutes=1)  # the editor fixed it after it was posted
    assert views.repeat_refusal(EN, "20210305", posted, edited, now) is None


@pytest.mark.parametrize(
    ("terms", "followed", "named"),
    [
        (["deep", "learning"], [None, "deep learning"], ["deep learning"]),  # quotes forgotten
        (["Deep", "Learning"], ["deep learning"], ["Deep Learning"]),  # shown as written
        (["deep", "learning"], ["deep learning", "deep"], ["deep", "learning"]),  # "deep" too
        (["gpt", "芯片"], ["gpt"], ["gpt", "芯片"]),
        (["gpt"], ["gpt"], ["gpt"]),
    ],
)
def test_unfollow_terms(terms: list[str], followed: list[str | None], named: list[str]) -> None:
    assert views.unfollow_terms(terms, followed) == named


@pytest.mark.parametrize(
    ("terms", "labels", "shown"),
    [
        (["gpt", "ＧＰＴ", "GPT"], {"gpt": "GPT"}, ["GPT"]),  # one keyword, as followed
        (["gpt", "ＧＰＴ"], {}, ["gpt"]),  # not followed yet: as first written
        (["芯片", "Gpt", "GPT"], {"gpt": "GPT"}, ["芯片", "GPT"]),
        (["Deep Learning"], {"deep learning": "deep learning"}, ["deep learning"]),
        ([], {"gpt": "GPT"}, []),
    ],
)
def test_keyword_labels_are_one_per_keyword_as_the_chat_follows_it(
    terms: list[str], labels: dict[str, str], shown: list[str]
) -> None:
    assert views.keyword_labels(terms, labels) == shown


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("20210305 20210219", ["20210305", "20210219"]),
        ("2021-03-05, 2021/2/19、第20210114期", ["20210305", "20210219", "20210114"]),
        ("20210305 2021-03-05", ["20210305"]),  # twice is still more than one at a time
        ("20210305 202102 2020", ["20210305", "202102", "2020"]),
        ("20210305", []),  # one issue, a month, a date with spaces: /issue's own business
        ("202103", []),
        ("2021 3 5", []),
        ("2021年3月", []),
        ("20210305 GPT", []),  # not all issues: unknown, as before
        ("", []),
    ],
)
def test_named_issues_are_several_ids_or_periods(text: str, named: list[str]) -> None:
    assert views.named_issues(text) == named


@LANGUAGES
def test_several_issues_are_offered_one_at_a_time(t: Texts) -> None:
    found = [IssueEntry("20210219", 9)]
    shown = views.several_issues_text(t, ["19990101", "20210219"], found, ["20210305"])
    assert_telegram_html(shown)
    assert shown.splitlines() == [
        t.issue_one_at_a_time.format(example="20210219"),  # one that exists
        t.issues_tap_named,
    ]
    none = views.several_issues_text(t, ["19990101", "19990102"], [], ["20210305"])
    assert "<code>/issue 19990101</code>" in none
    assert "20210305" in none  # what there is instead
