"""Pure helpers for the handlers: argument parsing, pagination and message texts.

Nothing here talks to Telegram or the database; values come in as plain data and Telegram
HTML goes out, with everything a user typed escaped.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from bot.content.problems import Problem
from bot.handlers.keyboards import IssueEntry, ResultEntry
from bot.handlers.texts import EN, USER_COMMANDS, Count, Text, Texts
from bot.ingest import FileResult, FileStatus, ScanReport
from bot.storage import Stats, keyword_key
from bot.storage.text import without_invisible

PAGE_SIZE = 5  # search results per page (SPEC §3)
MAX_KEYWORDS_AT_ONCE = 20
# 50 keywords of the longest kind still list in one message (Telegram's limit is 4096).
MAX_KEYWORDS_PER_CHAT = 50
MAX_SEARCH_TERMS = 20
# In a group, a whole issue asked for again this soon after it was posted there is not
# posted again: one member's repeated /latest would fill everyone's chat (20 messages a minute).
GROUP_REPEAT_GAP = timedelta(minutes=10)
# `/start search`: what the inline answer's button opens, for a reader who found nothing.
SEARCH_START = "search"
MAX_SEARCH_CHARS = 200
SHOWN_QUERY = 80  # characters of a query or an issue id echoed back
SHOWN_IDS = 5  # valid issue ids offered after a bad /issue or /push
ISSUES_LISTED = 10  # issues on a page of /issues, and listed by /issue for a year
SHOWN_KEYWORD = 40  # characters of an over-long keyword echoed back

# A phrase in quotes or brackets, opening → closing, is one term ("deep learning", 「深度 学习」:
# the bot's own header shows keywords in 「」, and readers copy them). ASCII ' is no phrase
# quote, as apostrophes (don't) would pair with it, but a lone one at an end is dropped.
_PHRASE_PAIRS = {
    '"': '"',
    "“": "”",
    "‘": "’",
    "「": "」",
    "『": "』",
    "《": "》",
    "〈": "〉",
    "【": "】",
    "〔": "〕",
    "（": "）",
    "［": "］",
    "«": "»",
    "(": ")",
    "[": "]",
}
_QUOTE_PAIRS = {**_PHRASE_PAIRS, "'": "'"}
_CLOSING = {closing: opening for opening, closing in _QUOTE_PAIRS.items()}
_PHRASES = "|".join(
    f"{re.escape(opening)}([^{re.escape(closing)}]+){re.escape(closing)}"
    for opening, closing in _PHRASE_PAIRS.items()
)
# Otherwise terms are separated by spaces or commas, including the full-width ，and 、 a
# Chinese keyboard types, and by the quotes never part of a word; ASCII brackets, ' and ’
# may be (f(x), don't, it’s), and are dropped only around a term.
_IN_WORDS = "()[]‘’"
_NEVER_IN_WORDS = "".join(c for pair in _PHRASE_PAIRS.items() for c in pair if c not in _IN_WORDS)
_TERM = re.compile(rf"{_PHRASES}|([^\s,，、{re.escape(_NEVER_IN_WORDS)}]+)")
_DATE = re.compile(r"([0-9]{4})\s*[-/.年\s]\s*([0-9]{1,2})\s*[-/.月\s]\s*([0-9]{1,2})\s*日?")
# Between the ids of `/issue 20210305 20210219` (or 2021-03-05, 2021-02-19).
_ID_SEPARATORS = re.compile(r"[\s,，、;；]+")
_ISSUE_WORDS = re.compile(r"^(?:第|#)\s*|\s*期$")
# A year (2021, 2021年) or a month (202103, 2021-03, 2021/3, 2021年3月).
_PERIOD = re.compile(r"([0-9]{4})\s*(?:年|[-/.年]\s*([0-9]{1,2})\s*月?|([0-9]{2}))?")


def parse_terms(text: str) -> list[str]:
    """The keywords or search words in `text`, in order, without duplicates."""
    terms = (next(g for g in m.groups() if g) for m in _TERM.finditer(text))
    cleaned = (_unquoted(" ".join(without_invisible(term).split())) for term in terms)
    return list(dict.fromkeys(term for term in cleaned if term))


def _unquoted(term: str) -> str:
    """`term` without the quotes or brackets around it (“「GPT」” in a phrase's quotes) or a
    lone one at an end (`'GPT`, `(芯片`), keeping those within it: GPT(3), don't."""
    while term:
        first, last, inner = term[0], term[-1], term[1:-1]
        if len(term) > 1 and _QUOTE_PAIRS.get(first) == last and last not in inner:
            term = inner
        elif first in _QUOTE_PAIRS and _QUOTE_PAIRS[first] not in term[1:]:
            term = term[1:]
        elif last in _CLOSING and _CLOSING[last] not in term[:-1]:
            term = term[:-1]
        else:
            break
        term = term.strip()
    return term


def keyword_labels(terms: Iterable[str], labels: Mapping[str, str]) -> list[str]:
    """`terms` as keywords to echo: terms that fold alike (`gpt`, `ＧＰＴ`, `GPT`) are one, shown
    as the chat follows it (`labels`: keyword_key → stored label), else as first written."""
    shown: dict[str, str] = {}
    for term in terms:
        key = keyword_key(term)
        shown.setdefault(key, labels.get(key, term))
    return list(shown.values())


def unfollow_terms(terms: list[str], followed: Iterable[str | None]) -> list[str]:
    """The keywords `/unsubscribe` names: its words, or all of them as the one keyword the
    chat follows (`/unsubscribe deep learning` for "deep learning", quotes forgotten)."""
    stored = {keyword for keyword in followed if keyword}
    phrase = " ".join(terms)
    words_followed = {keyword_key(term) for term in terms} & stored
    if len(terms) > 1 and keyword_key(phrase) in stored and not words_followed:
        return [phrase]
    return terms


def normalize_issue_id(text: str) -> str:
    """Accept 2021-03-05, 2021/3/5 or 2021年3月5日 for the issue id 20210305."""
    text = _date_text(text)
    if match := _DATE.fullmatch(text):
        year, month, day = match.groups()
        return f"{year}{int(month):02d}{int(day):02d}"
    return text


def issue_period(text: str) -> str | None:
    """The year (`2021`) or month (`202103`) that `text` names, if it names one: /issue
    lists the issues of a period, as ids are dates."""
    match = _PERIOD.fullmatch(_date_text(text))
    if match is None:
        return None
    year, month_written, month_digits = match.groups()
    month = month_written or month_digits
    if month is None:
        return year
    return f"{year}{int(month):02d}" if 1 <= int(month) <= 12 else None


def named_issues(text: str) -> list[str]:
    """The issue ids and periods `text` names when it names several (`20210305 20210219`), in
    order and each once (so one, if the same is named twice); [] when it names one (`2021 3 5`
    is one date) or anything else."""
    if _day(normalize_issue_id(text)) or issue_period(text):
        return []
    parts = [part for part in _ID_SEPARATORS.split(text.strip()) if part]
    named = [issue_period(part) or normalize_issue_id(part) for part in parts]
    if len(named) < 2 or not all(_day(n) or issue_period(n) for n in named):
        return []
    return list(dict.fromkeys(named))


def _date_text(text: str) -> str:
    """`text` as the date patterns read it: a Chinese input method types full-width digits
    (２０２１年３月), which \\d matches too; pasted text may carry invisible characters; and an
    issue is also written 第20210305期 or #20210305."""
    plain = without_invisible(unicodedata.normalize("NFKC", text)).strip()
    return _ISSUE_WORDS.sub("", plain)


def nearest_ids(issue_ids: Sequence[str], wanted: str) -> list[str] | None:
    """The SHOWN_IDS issue ids closest in date to `wanted` (a date, or a year or month, taken
    at its middle), newest first; None when `wanted` is no date at all."""
    target = _day(wanted) or _day(wanted + "15") or _day(wanted + "0701")
    if target is None:
        return None
    dated = [(abs(day - target), issue_id) for issue_id in issue_ids if (day := _day(issue_id))]
    return sorted((issue_id for _, issue_id in sorted(dated)[:SHOWN_IDS]), reverse=True)


def _day(issue_id: str) -> int | None:
    if len(issue_id) != 8 or not issue_id.isdigit():
        return None
    try:
        return date(int(issue_id[:4]), int(issue_id[4:6]), int(issue_id[6:])).toordinal()
    except ValueError:
        return None


def period_name(t: Texts, period: str) -> str:
    if len(period) == 4:
        return t.period_year.format(year=period)
    return t.period_month.format(year=period[:4], month=int(period[4:]))


def page_count(total: int, per_page: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(total / per_page))


def clamp_page(page: int, total: int, per_page: int = PAGE_SIZE) -> int:
    """A page that exists: results may have changed since the buttons were made."""
    return min(max(page, 0), page_count(total, per_page) - 1)


def shortened(text: str, limit: int = SHOWN_QUERY) -> str:
    """`text` cut to `limit` characters, so that echoing a reader's input stays short."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(term: str) -> str:
    return f"“{html.escape(shortened(term))}”"


def quoted_list(terms: Iterable[str | None], t: Texts) -> str:
    return ", ".join(t.everything if term is None else quoted(term) for term in terms)


def display_name(first_name: str | None, chat_title: str | None) -> str:
    return html.escape(first_name or chat_title or "")


def help_text(
    t: Texts, *, name: str | None = None, admin: bool = False, bot_name: str | None = None
) -> str:
    """The /start greeting (with `name`) or /help: what the bot does and its commands, and
    how to share an item anywhere (with the bot's username, `bot_name`)."""
    parts = []
    if name:
        parts.append(t.greeting.format(name=name))
    parts.append(t.about)
    commands = "\n".join(f"/{command} — {t.commands[command]}" for command in USER_COMMANDS)
    parts.append(f"{t.help_header}\n{commands}")
    if bot_name:
        parts.append(t.inline_tip.format(bot=html.escape(bot_name)))
    if admin:
        parts.append(t.admin_help)
    return "\n\n".join(parts)


def too_long_keyword(t: Texts, keyword: str, limit: int) -> str:
    shown = shortened(keyword, SHOWN_KEYWORD)
    return t.keyword_too_long.format(length=len(keyword), limit=limit, keyword=quoted(shown))


def subscribed_text(t: Texts, added: Sequence[str | None], wanted: Sequence[str]) -> str:
    if not wanted:
        return t.subscribed_all if added else t.already_all
    if not added:
        return t.already_keywords.format(keywords=quoted_list(wanted, t))
    return t.subscribed_keywords.format(keywords=quoted_list(added, t))


def subscriptions_text(t: Texts, subscriptions: Sequence[str | None]) -> str:
    if not subscriptions:
        return f"{t.subscriptions_none}\n{t.subscribe_hint}"
    if None in subscriptions:
        return t.subscriptions_all
    return t.subscriptions_keywords.format(keywords=quoted_list(subscriptions, t))


def valid_ids_text(t: Texts, issue_ids: Sequence[str]) -> str:
    if not issue_ids:
        return t.no_issues
    ids = ", ".join(f"<code>{html.escape(i)}</code>" for i in issue_ids[:SHOWN_IDS])
    return t.valid_ids.format(ids=ids)


def unknown_issue_text(t: Texts, issue_id: str, issue_ids: Sequence[str]) -> str:
    """No such issue; the issues nearest in date when `issue_id` is a date, else the newest."""
    unknown = t.issue_unknown.format(issue_id=f"<code>{html.escape(shortened(issue_id))}</code>")
    return f"{unknown}\n{_offered_ids_text(t, issue_id, issue_ids)}"


def several_issues_text(
    t: Texts, named: Sequence[str], found: Sequence[IssueEntry], issue_ids: Sequence[str]
) -> str:
    """/issue names several issues: one at a time (sending all of them at once would bury the
    chat, a group's most of all), with a button for each of them that exists (`found`)."""
    example = html.escape(found[0].issue_id if found else named[0])
    lines = [t.issue_one_at_a_time.format(example=example)]
    lines.append(t.issues_tap_named if found else valid_ids_text(t, issue_ids))
    return "\n".join(lines)


def empty_period_text(t: Texts, period: str, issue_ids: Sequence[str]) -> str:
    """No issue in that year or month; the issues nearest to it."""
    unknown = t.period_unknown.format(period=period_name(t, period))
    return f"{unknown}\n{_offered_ids_text(t, period, issue_ids)}"


def _offered_ids_text(t: Texts, wanted: str, issue_ids: Sequence[str]) -> str:
    nearest = nearest_ids(issue_ids, wanted)
    if nearest is None or not issue_ids:
        return valid_ids_text(t, issue_ids)
    return t.nearest_ids.format(ids=", ".join(f"<code>{html.escape(i)}</code>" for i in nearest))


def period_text(t: Texts, period: str, issues: Sequence[IssueEntry]) -> str:
    """The issues of a year or month, newest first: a month's all, a year's first
    ISSUES_LISTED, then how to name a month for the rest."""
    shown = period_shown(period, issues)
    header = t.period_header.format(period=period_name(t, period), count=len(issues))
    lines = [header, *_issue_lines(t, shown)]
    if len(issues) > len(shown):
        month = issues[len(shown)].issue_id[:6]  # the newest one not listed
        lines.append(t.period_more.format(count=len(issues) - len(shown), example=month))
    return "\n".join(lines)


def period_shown(period: str, issues: Sequence[IssueEntry]) -> Sequence[IssueEntry]:
    """The issues listed, with a button each: a month has at most 31, a year many more."""
    return issues if len(period) == 6 else issues[:ISSUES_LISTED]


def usage_with_example(template: str, t: Texts, issue_ids: Sequence[str]) -> str:
    """A usage line whose example is a real issue id (and its month), then the valid ids."""
    example = html.escape(issue_ids[0]) if issue_ids else "20210305"
    usage = template.format(example=example, month=example[:6])
    return f"{usage}\n{valid_ids_text(t, issue_ids)}"


def issues_text(t: Texts, issues: Sequence[IssueEntry], *, page: int = 0, pages: int = 1) -> str:
    """A page of the issue list; the header names the page when there are several."""
    header = t.issues_page_header.format(page=page + 1, pages=pages) if pages > 1 else None
    return "\n".join([header or t.issues_header, *_issue_lines(t, issues)])


def _issue_lines(t: Texts, issues: Iterable[IssueEntry]) -> Iterable[str]:
    return (
        t.issue_line.format(issue_id=html.escape(i.issue_id), items=i.items)
        + (t.issue_waiting if i.waiting else "")
        for i in issues
    )


def search_text(
    t: Texts,
    query: str,
    results: Sequence[ResultEntry],
    *,
    total: int,
    page: int,
    exact: bool = True,
) -> str:
    """A page of search results; the buttons below it carry the same numbers. When the count
    stopped early (`exact` False) there are more than `total` results: "100+"."""
    header = t.search_header.format(
        query=quoted(query),
        total=Count(total, at_least=not exact),
        page=page + 1,
        pages=Count(page_count(total), at_least=not exact),
    )
    lines = (
        t.search_line.format(
            position=entry.position,
            title=html.escape(" ".join(entry.title.split())),
            issue_id=html.escape(entry.issue_id),
            number=entry.number,
        )
        for entry in results
    )
    return "\n".join([header, "", *lines])


def push_text(t: Texts, issue_id: str, *, queued: int, pending: int) -> str:
    """What /push did: it queued `queued` new deliveries; or none, since `pending` are still
    to send (the issue is on its way, not there yet) or every subscriber has the issue."""
    shown = html.escape(issue_id)
    if queued:
        return t.push_done.format(issue_id=shown, count=queued)
    if pending:
        return t.push_under_way.format(issue_id=shown, count=pending)
    return t.push_nothing.format(issue_id=shown)


def stats_text(t: Texts, s: Stats) -> str:
    text = t.stats.format(
        chats=s.chats,
        active_chats=s.active_chats,
        subscribers=s.subscribers,
        keyword_subscribers=s.keyword_subscribers,
        issues=s.issues,
        sent=s.deliveries_sent,
        pending=s.deliveries_pending,
        failed=s.deliveries_failed,
        dropped=s.deliveries_dropped,
        uncertain=s.deliveries_uncertain,
    )
    if s.under_way:
        progress = (
            t.stats_issue_progress.format(issue_id=html.escape(issue), sent=sent, pending=pending)
            for issue, sent, pending in s.under_way
        )
        text += f"\n\n{t.stats_under_way}\n" + "\n".join(progress)
    if s.top_keywords:
        keywords = " · ".join(f"{html.escape(label)} {n}" for label, n in s.top_keywords)
        text += f"\n\n{t.stats_keywords}\n{keywords}"
    if s.failure_reasons:
        reasons = "\n".join(f"• {html.escape(reason)}: {n}" for reason, n in s.failure_reasons)
        text += f"\n\n{t.stats_reasons}\n{reasons}"
    return text


def scan_text(
    t: Texts,
    report: ScanReport,
    *,
    escape: Callable[[str], str] = html.escape,
    quiet: Collection[FileStatus] = (FileStatus.UNCHANGED,),
) -> str:
    """A scan report: counts, one line per file not `quiet` (unchanged), what was queued and
    what waits for PUBLISH_CRON. Telegram HTML; `escape=str` gives plain text (the command
    line and the log)."""
    unchanged = sum(f.status == FileStatus.UNCHANGED for f in report.files)
    counts = t.scan_counts.format(
        files=len(report.files),
        changed=len(report.changed),
        unchanged=unchanged,
        bad=len(report.bad),
    )
    lines = [counts]
    lines += [_file_line(t, f, escape) for f in report.files if f.status not in quiet]
    lines += _queued_lines(t, report, escape)
    lines += _waiting_lines(t, report, escape)
    return "\n".join(lines)


def upload_text(t: Texts, report: ScanReport) -> str:
    """What the scan after an upload did, the uploaded file first. Other files stored with it
    are listed (they may have been broadcast, and no later scan reports them); other bad files
    are only counted: they are not the editor's question here, and a folder of 150 of them
    would push the answer past a message (/reload lists them with why)."""
    uploaded = [f for f in report.files if f.file_name == report.uploaded]
    lines = [_file_line(t, f, html.escape) for f in uploaded]
    changed = (f for f in report.changed if f.file_name != report.uploaded)
    lines += [_file_line(t, f, html.escape) for f in changed]
    lines += _queued_lines(t, report, html.escape)
    lines += _waiting_lines(t, report, html.escape)
    if bad := sum(1 for f in report.bad if f.file_name != report.uploaded):
        lines.append(t.upload_others_bad.format(count=bad))
    return "\n".join(lines)


def _queued_lines(t: Texts, report: ScanReport, escape: Callable[[str], str]) -> list[str]:
    return [
        t.scan_queued.format(issue_id=escape(issue_id), count=count)
        for issue_id, count in report.published.items()
    ]


def _waiting_lines(t: Texts, report: ScanReport, escape: Callable[[str], str]) -> list[str]:
    if not report.waiting:
        return []
    at = report.publish_at
    when = f"{at:%Y-%m-%d %H:%M %Z}" if at else t.scan_never
    issue_ids = escape(", ".join(report.waiting))
    return [t.scan_waiting.format(when=when, issue_ids=issue_ids)]


def is_news(report: ScanReport) -> bool:
    """Whether editors would want to hear of a scan nobody asked for: not when it found only
    unchanged files, or files still bad as before."""
    return bool(report.changed or report.published or _went_bad(report))


def _went_bad(report: ScanReport) -> bool:
    return any(f.status == FileStatus.BAD for f in report.files)


def scan_news(t: Texts, report: ScanReport) -> str:
    """What the editors are told of a scan nobody asked for (the schedule's, or a
    PUBLISH_CRON run's)."""
    if not (report.changed or _went_bad(report)):  # only published: what it queued
        return t.published_news.format(summary="\n".join(_queued_lines(t, report, html.escape)))
    # A file still bad was news when it went bad.
    quiet = (FileStatus.UNCHANGED, FileStatus.STILL_BAD)
    return t.scan_news.format(summary=scan_text(t, report, quiet=quiet))


def plain_scan_text(report: ScanReport) -> str:
    """The scan report in plain English, for the command line and the log."""
    return scan_text(EN, report, escape=str)


def _file_line(t: Texts, result: FileResult, escape: Callable[[str], str]) -> str:
    line = t.scan_file.format(
        file_name=escape(result.file_name), status=t.scan_statuses[result.status]
    )
    if result.issue_id:
        line += t.scan_of_issue.format(issue_id=escape(result.issue_id))
    if result.status in (FileStatus.NEW, FileStatus.UPDATED):
        detail = t.scan_items.format(count=result.items)
        if result.guessed:
            detail += t.scan_guessed.format(restored=result.restored, guessed=result.guessed)
        elif result.restored:
            detail += t.scan_repaired.format(restored=result.restored)
        if result.news_missed and result.issue_id:
            detail += t.scan_news_missed.format(issue_id=escape(result.issue_id))
    else:
        detail = problem_text(t, result.problem, result.reason, escape)
    return line + t.scan_detail.format(detail=detail) if detail else line


def problem_text(
    t: Texts,
    problem: Problem | None,
    english: str,
    escape: Callable[[str], str] = html.escape,
) -> str:
    """Why a file was refused, in the editor's language; the English sentence where there is
    no problem code (a failure recorded before migration 0009, or an unexpected one), or where
    a stored problem no longer fits its template (a later release renamed a field)."""
    template = t.file_problems.get(problem.code) if problem else None
    if problem is None or template is None:
        return escape(english)
    details = {k: escape(v) if isinstance(v, str) else v for k, v in problem.details}
    try:
        return Text(template).format(**details)
    except (KeyError, IndexError, ValueError):
        return escape(english)


def command_argument(text: str) -> str:
    """What follows the command word (`/cmd@bot`) in a message's text or HTML, newlines kept."""
    parts = text.split(maxsplit=1)
    if not parts or not parts[0].startswith("/"):
        return text.strip()
    return text.lstrip()[len(parts[0]) :].strip()


# A slash typed in a Chinese input method is full-width ("／latest"): NFKC makes it "/",
# but Telegram sees no command in it.
_LOOKALIKE_COMMAND = re.compile(r"/\s*([a-z]+)(?:@\w+)?(?=\s|$)(.*)", re.S | re.I)


def mistyped_command(text: str) -> str | None:
    """The reader command `text` meant when it begins with a slash Telegram does not take
    for one (`／latest`, `／ＩＳＳＵＥ 20210305`), as it should be sent; else None."""
    plain = without_invisible(unicodedata.normalize("NFKC", text)).strip()
    match = _LOOKALIKE_COMMAND.match(plain)
    if text.lstrip().startswith("/") or not match or match[1].lower() not in USER_COMMANDS:
        return None
    return f"/{match[1].lower()} {match[2].strip()}".strip()


def command_addressee(text: str) -> str | None:
    """The bot a command names (`/foo@ai_brief_bot` → `ai_brief_bot`); None when it names none."""
    parts = text.split(maxsplit=1)
    if not parts or not parts[0].startswith("/"):
        return None
    return parts[0].partition("@")[2] or None


def repeat_refusal(
    t: Texts,
    issue_id: str,
    posted_at: datetime | None,
    changed_at: datetime | None,
    now: datetime,
) -> str | None:
    """What to tell a group that asks for an issue it was sent in full `posted_at`, if that was
    less than GROUP_REPEAT_GAP ago and the issue has not changed since; None: send it."""
    if posted_at is None or now - posted_at >= GROUP_REPEAT_GAP:
        return None
    if changed_at is not None and changed_at > posted_at:  # the editor fixed it since
        return None
    minutes = max(1, math.floor((now - posted_at).total_seconds() / 60))
    return t.issue_posted_recently.format(issue_id=html.escape(issue_id), minutes=minutes)
