"""UI texts in English and Chinese, chosen by the user's `language_code` (`zh*` → Chinese).

Texts are Telegram HTML templates filled with `str.format`; every value put into them must
already be escaped (views.py does that). Both languages have the same fields and placeholders,
which a unit test checks. English nouns agree with their number: `{n:result|results}` reads
"1 result" or "3 results" (see `Count`); Chinese needs no such thing and writes `{n}`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bot.content import problems

# Reader commands, in menu order. Admin commands stay out of the menu: readers cannot use them.
USER_COMMANDS = (
    "start",
    "help",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "latest",
    "issues",
    "issue",
    "search",
)


class Count(int):
    """A number in a text: `{n:item|items}` gives the number and the noun that agrees with it;
    `at_least` marks a count that stopped early ("100+", always plural)."""

    at_least: bool

    def __new__(cls, value: int, *, at_least: bool = False) -> Count:
        count = super().__new__(cls, value)
        count.at_least = at_least
        return count

    def __format__(self, spec: str) -> str:
        shown = format(int(self), "" if "|" in spec else spec) + ("+" if self.at_least else "")
        if "|" not in spec:
            return shown
        one, many = spec.split("|", 1)
        return f"{shown} {one if self == 1 and not self.at_least else many}"


class Text(str):
    """A UI text whose `format` passes numbers on as `Count`s, so `{n:item|items}` works
    (keyword arguments only: every text names its fields)."""

    def format(self, *args: Any, **kwargs: Any) -> str:
        counted = {k: Count(v) if type(v) is int else v for k, v in kwargs.items()}
        return str.format(self, *args, **counted)


@dataclass(frozen=True)
class Texts:
    language: str
    commands: dict[str, str]  # command → one-line description for the menu and /help
    greeting: str
    about: str
    help_header: str
    inline_tip: str
    admin_help: str
    subscribed_all: str
    already_all: str
    subscribed_keywords: str
    already_keywords: str
    keyword_too_long: str
    too_many_keywords: str
    too_many_to_drop: str
    subscribe_no_keyword: str
    unsubscribe_no_keyword: str
    see_subscriptions: str
    too_many_followed: str
    subscribe_hint: str
    unsubscribed_all: str
    not_subscribed: str
    following_nothing_now: str
    group_admins_only: str
    admin_check_failed: str
    unsubscribed_keywords: str
    keywords_not_followed: str
    subscriptions_all: str
    subscriptions_keywords: str
    subscriptions_none: str
    subscriptions_buttons: str
    already_dropped: str
    subscribe_button: str
    latest_button: str
    unsubscribe_button: str
    unfollow_button: str
    everything: str
    no_issues: str
    issues_header: str
    issues_page_header: str
    issue_line: str
    issue_waiting: str
    issue_posted_recently: str
    issue_on_its_way: str
    issue_button: str
    issue_usage: str
    issue_unknown: str
    issue_one_at_a_time: str
    issues_tap_named: str
    valid_ids: str
    nearest_ids: str
    period_year: str
    period_month: str
    period_header: str
    period_more: str
    period_unknown: str
    sending_issue: str
    sending_item: str
    unknown_issue_button: str
    unknown_item_button: str
    stale_button: str
    search_usage: str
    search_prompt: str
    search_none: str
    search_too_long: str
    inline_none: str
    search_header: str
    search_line: str
    search_expired: str
    text_search_hint: str
    mistyped_command: str
    previous: str
    next: str
    admin_only: str
    upload_admin_only: str
    stats: str
    stats_reasons: str
    stats_keywords: str
    stats_under_way: str
    stats_issue_progress: str
    reload_done: str
    scan_news: str
    published_news: str
    reload_failed: str
    # A scan report, line by line (plain text: the command line and the log print it too)
    scan_counts: str
    scan_statuses: dict[str, str]  # FileStatus value → its word
    scan_file: str
    scan_of_issue: str
    scan_detail: str
    scan_items: str
    scan_repaired: str
    scan_guessed: str
    scan_news_missed: str
    scan_queued: str
    scan_waiting: str
    scan_never: str
    file_problems: dict[str, str]  # bot.content.problems codes → why a file was refused
    push_usage: str
    push_done: str
    push_nothing: str
    push_under_way: str
    broadcast_usage: str
    broadcast_draft: str
    broadcast_private_only: str
    broadcast_too_long: str
    broadcast_nobody: str
    broadcast_send_button: str
    broadcast_drop_button: str
    broadcast_done: str
    broadcast_dropped: str
    broadcast_sent_before: str
    broadcast_gone: str
    upload_wrong_type: str
    upload_too_large: str
    upload_rejected: str
    upload_done: str
    upload_others_bad: str
    unknown_command: str
    error: str

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str):
                object.__setattr__(self, field.name, Text(value))


EN = Texts(
    language="en",
    commands={
        "start": "Start the bot and show what it does",
        "help": "Show the commands",
        "subscribe": "Get every new issue, or only items with keywords",
        "unsubscribe": "Stop everything, or drop a keyword",
        "subscriptions": "Show what this chat gets",
        "latest": "Send the latest issue",
        "issues": "Browse the issues, newest first",
        "issue": "Send one issue: /issue 20210305, or list a month's: /issue 202103",
        "search": "Search the archive: /search GPT",
    },
    greeting="👋 Hello, {name}!",
    about=(
        "I deliver <b>AI 简报</b>, a weekly newsletter about AI, one message per news item. "
        "Subscribe to every issue or follow keywords, and search the archive."
    ),
    help_header="<b>Commands</b>",
    inline_tip="To share an item in any chat, type <code>@{bot} GPT</code> there.",
    admin_help=(
        "<b>Editor commands</b>\n/stats · /reload · /push ID · /broadcast text\n"
        "Send me an issue as a .md file to publish it."
    ),
    subscribed_all="✅ Subscribed: this chat will get every new issue.",
    already_all="This chat already gets every new issue.",
    subscribed_keywords=(
        "✅ Now following: {keywords}\nYou will get only the items that mention them."
    ),
    already_keywords="This chat already follows {keywords}.",
    keyword_too_long=(
        "That keyword is too long ({length} characters; at most {limit}): {keyword}\n"
        "Try a shorter word, e.g. <code>/subscribe GPT</code>."
    ),
    too_many_keywords="Please follow at most {limit} keywords at once.",
    too_many_to_drop="Please drop at most {limit} keywords at once.",
    subscribe_no_keyword=(
        "There is no keyword in that. Try <code>/subscribe GPT</code>, "
        "or /subscribe alone for every issue."
    ),
    unsubscribe_no_keyword=(
        "There is no keyword in that. Try <code>/unsubscribe GPT</code>, "
        "or /unsubscribe alone to stop everything."
    ),
    see_subscriptions="/subscriptions lists what this chat follows.",
    too_many_followed=(
        "This chat would follow {count} keywords; at most {limit}. "
        "Drop some first, e.g. <code>/unsubscribe GPT</code>."
    ),
    subscribe_hint="Use /subscribe for every issue, or <code>/subscribe GPT 机器人</code>.",
    unsubscribed_all="🔕 Unsubscribed: this chat will get no more issues.",
    not_subscribed="This chat is not subscribed.",
    following_nothing_now="This chat follows nothing now, so it gets no more issues.",
    group_admins_only="Only this group's admins can change what it gets.",
    admin_check_failed="Telegram could not tell me who the admins are. Please try again.",
    unsubscribed_keywords="🔕 No longer following: {keywords}",
    keywords_not_followed="This chat does not follow {keywords}.",
    subscriptions_all="This chat gets <b>every new issue</b>.",
    subscriptions_keywords="This chat gets the items that mention: {keywords}",
    subscriptions_none="This chat is not subscribed.",
    subscriptions_buttons="Tap a button below to stop one.",
    already_dropped="Already done: this chat no longer has that subscription.",
    subscribe_button="📬 Subscribe to every issue",
    latest_button="📰 Read the latest issue ({date}) now",
    unsubscribe_button="🔕 Unsubscribe from every issue",
    unfollow_button="✕ {keyword}",
    everything="everything",
    no_issues="There are no issues yet.",
    issues_header="<b>Issues</b>, newest first (tap one to get it):",
    issues_page_header="<b>Issues</b>, newest first, page {page}/{pages} (tap one to get it):",
    issue_line="• <code>{issue_id}</code> — {items:item|items}",
    issue_waiting=" ⏳ not published yet, readers cannot see it",
    issue_posted_recently=(
        "Issue {issue_id} was posted here {minutes:minute|minutes} ago: scroll up to read it."
    ),
    issue_on_its_way="Issue {issue_id} is on its way here: the rest of it is coming.",
    issue_button="{issue_id} · {items:item|items}",
    issue_usage=(
        "Which issue? For example <code>/issue {example}</code>, or a month's:"
        " <code>/issue {month}</code>."
    ),
    issue_unknown="There is no issue {issue_id}.",
    issue_one_at_a_time="One issue at a time, please: <code>/issue {example}</code>.",
    issues_tap_named="Or tap the ones you want:",
    valid_ids="Recent issues: {ids}",
    nearest_ids="Nearest issues: {ids}",
    period_year="{year}",
    period_month="{year}-{month:02d}",
    period_header="<b>{count:issue|issues} in {period}</b> (tap one to get it):",
    period_more=(
        "…and {count:older one|older ones}: name a month, e.g. <code>/issue {example}</code>."
    ),
    period_unknown="There is no issue in {period}.",
    sending_issue="Sending issue {issue_id}…",
    sending_item="Sending the item…",
    unknown_issue_button="That issue is no longer available.",
    unknown_item_button="That item is no longer available.",
    stale_button="This button no longer works.",
    search_usage="What should I look for? For example <code>/search GPT</code>.",
    search_prompt="Send me a word or two, such as <code>GPT</code>, to search the archive.",
    search_none="Nothing matches {query}. Try fewer or shorter words.",
    search_too_long="Please search with at most {terms} words and {chars} characters.",
    inline_none="Nothing matches. Tap to search in a chat with me.",
    search_header="🔎 {query}: {total:result|results}, page {page}/{pages}",
    search_line="{position}. {title} <i>({issue_id} #{number})</i>",
    search_expired="This search has expired; please search again.",
    text_search_hint="(What you write to me is searched in the archive; /help lists the commands.)",
    mistyped_command=(
        "That “／” is a full-width slash, so Telegram saw no command in it. Send {command}"
        " with “/”."
    ),
    previous="‹ Previous",
    next="Next ›",
    admin_only="Sorry, this is for the newsletter's editors only.",
    upload_admin_only=(
        "Only the newsletter's editors send me files (an issue file becomes an issue)."
        " /help lists what I can do for you."
    ),
    stats=(
        "<b>Stats</b>\n"
        "Chats: {chats} ({active_chats} active)\n"
        "Subscribers: {subscribers} ({keyword_subscribers} of them by keyword)\n"
        "Issues: {issues}\n"
        "Deliveries: {sent} sent, {pending} pending, {failed} failed, {dropped} dropped, "
        "{uncertain} uncertain (timed out, probably delivered, not resent)"
    ),
    stats_reasons="<b>Why deliveries failed</b>",
    stats_keywords="<b>Most followed keywords</b>",
    stats_under_way="<b>On their way</b>",
    stats_issue_progress="• Issue {issue_id}: {sent} sent, {pending} to go",
    reload_done="<b>Scan finished</b>\n{summary}",
    scan_news="<b>Found in the issues folder</b>\n{summary}",
    published_news="<b>Published on schedule</b>\n{summary}",
    reload_failed="❌ Scan failed: {reason}",
    scan_counts="{files:file|files}: {changed} new or updated, {unchanged} unchanged, {bad} bad",
    scan_statuses={
        "new": "new",
        "updated": "updated",
        "unchanged": "unchanged",
        "bad": "bad",
        "still bad": "still bad",
        "writing": "still being written; read once it has not changed for a few seconds",
    },
    scan_file="{file_name}: {status}",
    scan_of_issue=" (issue {issue_id})",
    scan_detail=": {detail}",
    scan_items="{count:item|items}",
    scan_repaired="; mojibake repaired: {restored:character|characters} restored",
    scan_guessed=(
        "; mojibake repaired: {restored:character|characters} restored, {guessed} of them "
        "guessed from context (check the wording, or send the original file: this copy was "
        "opened in the wrong encoding and saved again)"
    ),
    scan_news_missed=(
        "; what is new goes only to the chats still receiving it: /push {issue_id} sends it "
        "to those it had reached"
    ),
    scan_queued="issue {issue_id}: {count:delivery|deliveries} queued",
    scan_waiting="waiting for the publishing time ({when}): {issue_ids}; /push ID sends now",
    scan_never="none to come",
    file_problems=problems.ENGLISH,
    push_usage="Which issue? For example <code>/push {example}</code>.",
    push_done="📤 Issue {issue_id}: {count:message|messages} queued for subscribers.",
    push_nothing="📤 Nothing to send: every subscriber already has issue {issue_id}.",
    push_under_way=(
        "📤 Nothing new to queue: issue {issue_id} is still on its way to subscribers, "
        "{count:message|messages} left to send."
    ),
    broadcast_usage="Write the notice after the command: <code>/broadcast Hello!</code>",
    broadcast_draft="Above is the notice as subscribers will see it. Send it?",
    broadcast_private_only="Please draft notices in our private chat, where only you see them.",
    broadcast_too_long="The notice is too long: {length} characters, at most {limit}.",
    broadcast_nobody="No chat is subscribed yet, so there is nobody to send a notice to.",
    broadcast_send_button="📣 Send to {count:chat|chats}",
    broadcast_drop_button="✕ Don't send",
    broadcast_done="📣 The notice goes to {count:chat|chats}.",
    broadcast_dropped="Not sent.",
    broadcast_sent_before="This notice was sent already.",
    broadcast_gone="This draft is void (dropped, or over a day old). Write /broadcast again.",
    upload_wrong_type="Send an issue as a Markdown file ({suffix}).",
    upload_too_large="That file is too large for an issue ({size} bytes; at most {limit}).",
    upload_rejected="❌ Not accepted: {reason}",
    upload_done="✅ Received {file_name}\n{summary}",
    upload_others_bad="{count:other file is|other files are} bad: /reload lists them",
    unknown_command="I don't know that command. /help lists what I can do.",
    error="Sorry, something went wrong. Please try again later.",
)

ZH = Texts(
    language="zh",
    commands={
        "start": "开始使用，介绍机器人",
        "help": "查看命令",
        "subscribe": "订阅每期，或只订阅关键词",
        "unsubscribe": "取消订阅，或删除一个关键词",
        "subscriptions": "查看本聊天的订阅",
        "latest": "发送最新一期",
        "issues": "浏览往期，由新到旧",
        "issue": "发送某一期：/issue 20210305，或列出一个月的：/issue 202103",
        "search": "搜索往期：/search GPT",
    },
    greeting="👋 {name}，你好！",
    about=(
        "我推送 <b>AI 简报</b>（每周一期的 AI 资讯），每条新闻一条消息。"
        "可以订阅每一期，也可以只关注关键词，还能搜索往期。"
    ),
    help_header="<b>命令</b>",
    inline_tip="在任意聊天里输入 <code>@{bot} GPT</code>，即可把新闻分享到那里。",
    admin_help=(
        "<b>编辑命令</b>\n/stats · /reload · /push ID · /broadcast 文本\n"
        "把一期的 .md 文件发给我即可发布。"
    ),
    subscribed_all="✅ 已订阅：本聊天将收到每一期。",
    already_all="本聊天已经订阅了每一期。",
    subscribed_keywords="✅ 已关注：{keywords}\n只会收到提到这些关键词的新闻。",
    already_keywords="本聊天已经关注了 {keywords}。",
    keyword_too_long=(
        "关键词太长了（{length} 个字符，最多 {limit} 个）：{keyword}\n"
        "请换个短一点的词，例如 <code>/subscribe GPT</code>。"
    ),
    too_many_keywords="一次最多关注 {limit} 个关键词。",
    too_many_to_drop="一次最多取消 {limit} 个关键词。",
    subscribe_no_keyword=(
        "这里面没有关键词。试试 <code>/subscribe GPT</code>，或只发 /subscribe 订阅每一期。"
    ),
    unsubscribe_no_keyword=(
        "这里面没有关键词。试试 <code>/unsubscribe GPT</code>，或只发 /unsubscribe 取消全部订阅。"
    ),
    see_subscriptions="发 /subscriptions 查看本聊天关注的内容。",
    too_many_followed=(
        "这样本聊天会关注 {count} 个关键词，最多 {limit} 个。"
        "请先取消一些，例如 <code>/unsubscribe GPT</code>。"
    ),
    subscribe_hint="用 /subscribe 订阅每一期，或 <code>/subscribe GPT 机器人</code> 只关注关键词。",
    unsubscribed_all="🔕 已取消订阅：本聊天不会再收到简报。",
    not_subscribed="本聊天没有订阅。",
    following_nothing_now="本聊天现在什么也没关注，不会再收到简报。",
    group_admins_only="只有本群的管理员可以更改本群的订阅。",
    admin_check_failed="暂时无法从 Telegram 确认谁是管理员，请稍后再试。",
    unsubscribed_keywords="🔕 已不再关注：{keywords}",
    keywords_not_followed="本聊天没有关注 {keywords}。",
    subscriptions_all="本聊天订阅了<b>每一期</b>。",
    subscriptions_keywords="本聊天只接收提到这些关键词的新闻：{keywords}",
    subscriptions_none="本聊天没有订阅。",
    subscriptions_buttons="点下面的按钮即可取消其中一项。",
    already_dropped="已经取消过了，本聊天不再有这项订阅。",
    subscribe_button="📬 订阅每一期",
    latest_button="📰 现在就看最新一期（{date}）",
    unsubscribe_button="🔕 取消订阅每一期",
    unfollow_button="✕ {keyword}",
    everything="全部",
    no_issues="还没有任何一期。",
    issues_header="<b>往期</b>（由新到旧，点击即可获取）：",
    issues_page_header="<b>往期</b>（由新到旧，第 {page}/{pages} 页，点击即可获取）：",
    issue_line="• <code>{issue_id}</code> — {items} 条",
    issue_waiting=" ⏳ 尚未发布，读者看不到",
    issue_posted_recently="{issue_id} 期 {minutes} 分钟前刚发到这里，往上翻就能看到。",
    issue_on_its_way="{issue_id} 期正在发到这里，后面的内容马上就到。",
    issue_button="{issue_id} · {items} 条",
    issue_usage=(
        "要哪一期？例如 <code>/issue {example}</code>，或某个月的：<code>/issue {month}</code>。"
    ),
    issue_unknown="没有 {issue_id} 这一期。",
    issue_one_at_a_time="一次只能要一期，例如 <code>/issue {example}</code>。",
    issues_tap_named="也可以点下面想要的几期：",
    valid_ids="最近几期：{ids}",
    nearest_ids="日期最接近的几期：{ids}",
    period_year="{year} 年",
    period_month="{year} 年 {month} 月",
    period_header="<b>{period}共 {count} 期</b>（点击即可获取）：",
    period_more="……还有 {count} 期更早的，可以指定月份，例如 <code>/issue {example}</code>。",
    period_unknown="{period}没有任何一期。",
    sending_issue="正在发送 {issue_id} 期…",
    sending_item="正在发送这条新闻…",
    unknown_issue_button="这一期已不存在。",
    unknown_item_button="这条新闻已不存在。",
    stale_button="这个按钮已失效。",
    search_usage="要搜索什么？例如 <code>/search GPT</code>。",
    search_prompt="发给我一两个词（例如 <code>GPT</code>），我来搜索往期。",
    search_none="没有找到与 {query} 相关的新闻，试试更少或更短的词。",
    search_too_long="搜索请用最多 {terms} 个词、{chars} 个字符。",
    inline_none="没有找到相关新闻，点此到机器人里搜索。",
    search_header="🔎 {query}：共 {total} 条，第 {page}/{pages} 页",
    search_line="{position}. {title} <i>（{issue_id} 第 {number} 条）</i>",
    search_expired="这次搜索已过期，请重新搜索。",
    text_search_hint="（发给我的文字会在往期中搜索；/help 查看全部命令。）",
    mistyped_command="“／”是全角斜杠，Telegram 不会把它当作命令。请用半角“/”发送 {command}。",
    previous="‹ 上一页",
    next="下一页 ›",
    admin_only="抱歉，此功能仅供简报编辑使用。",
    upload_admin_only="只有简报编辑可以给我发送简报文件。/help 可查看我能为你做什么。",
    stats=(
        "<b>统计</b>\n"
        "聊天：{chats}（活跃 {active_chats}）\n"
        "订阅者：{subscribers}（其中按关键词 {keyword_subscribers}）\n"
        "期数：{issues}\n"
        "投递：已发送 {sent}，待发送 {pending}，失败 {failed}，已放弃 {dropped}，"
        "不确定 {uncertain}（超时，多半已送达，不重发）"
    ),
    stats_reasons="<b>失败原因</b>",
    stats_keywords="<b>关注最多的关键词</b>",
    stats_under_way="<b>正在发送</b>",
    stats_issue_progress="• {issue_id} 期：已发送 {sent}，待发送 {pending}",
    reload_done="<b>扫描完成</b>\n{summary}",
    scan_news="<b>简报目录里有新变化</b>\n{summary}",
    published_news="<b>已按计划发布</b>\n{summary}",
    reload_failed="❌ 扫描失败：{reason}",
    scan_counts="文件 {files} 个：新增或更新 {changed} 个，未变 {unchanged} 个，有问题 {bad} 个",
    scan_statuses={
        "new": "新增",
        "updated": "已更新",
        "unchanged": "未变",
        "bad": "有问题",
        "still bad": "仍有问题",
        "writing": "仍在写入，停止变化几秒后再读取",
    },
    scan_file="{file_name}：{status}",
    scan_of_issue="（{issue_id} 期）",
    scan_detail="：{detail}",
    scan_items="{count} 条新闻",
    scan_repaired="；已修复乱码：恢复 {restored} 个字符",
    scan_guessed=(
        "；已修复乱码：恢复 {restored} 个字符，其中 {guessed} 个是根据上下文推测的"
        "（请核对措辞，或发送原文件：这份副本曾用错误的编码打开后又保存）"
    ),
    scan_news_missed=(
        "；新增内容只发给仍在接收本期的聊天：/push {issue_id} 可补发给已收到本期的聊天"
    ),
    scan_queued="{issue_id} 期：已排队 {count} 条投递",
    scan_waiting="等待发布时间（{when}）：{issue_ids}；/push 期号 可立即发送",
    scan_never="不会再有",
    file_problems={
        "nul_bytes": "二进制数据（含 NUL 字节），不是文本文件",
        "control_characters": "二进制数据（含控制字符），不是文本文件",
        "encoding": "不是 UTF-8、UTF-16 或 GB18030 编码的文本",
        "no_items": "没有找到编号的新闻（# 1. …）",
        "bad_date": "期号日期 {date} 不是真实的日期（YYYYMMDD）",
        "no_date": "导读和文件名里都没有期号日期（YYYYMMDD）",
        "item_number": "新闻编号 {number} 太大（最多 {limit}）",
        "too_large": "{size} 字节，太大，不像是一期简报（最多 {limit}）",
        "duplicate": "{issue_id} 期已在 {other} 中",
        "not_md": "只接受 .md 格式的简报文件",
        "damaged_copy": (
            "{issue_id} 期已在往期中，而这份副本已损坏（乱码：有 {guessed} 个字符需要推测）；"
            "请发送原文件"
        ),
    },
    push_usage="要推送哪一期？例如 <code>/push {example}</code>。",
    push_done="📤 {issue_id} 期：已为订阅者排队 {count} 条消息。",
    push_nothing="📤 无需发送：订阅者都已收到 {issue_id} 期。",
    push_under_way="📤 无需重新排队：{issue_id} 期仍在发给订阅者，还有 {count} 条消息待发送。",
    broadcast_usage="请在命令后写通知内容：<code>/broadcast 大家好！</code>",
    broadcast_draft="上面是订阅者将看到的通知。要发送吗？",
    broadcast_private_only="请在与我的私聊中起草通知，那里只有你能看到。",
    broadcast_too_long="通知太长了：{length} 个字符，最多 {limit} 个。",
    broadcast_nobody="还没有任何聊天订阅，通知无人可发。",
    broadcast_send_button="📣 发送到 {count} 个聊天",
    broadcast_drop_button="✕ 不发送",
    broadcast_done="📣 通知将发送到 {count} 个聊天。",
    broadcast_dropped="没有发送。",
    broadcast_sent_before="这条通知已经发送过了。",
    broadcast_gone="这份草稿已失效（已放弃或超过一天），请重新使用 /broadcast。",
    upload_wrong_type="请以 Markdown 文件（{suffix}）发送一期简报。",
    upload_too_large="文件太大，不像是一期简报（{size} 字节，最多 {limit}）。",
    upload_rejected="❌ 未接受：{reason}",
    upload_done="✅ 已收到 {file_name}\n{summary}",
    upload_others_bad="另有 {count} 个文件有问题：/reload 可列出",
    unknown_command="我不认识这个命令，/help 查看可用命令。",
    error="抱歉，出了点问题，请稍后再试。",
)


def texts_for(language_code: str | None) -> Texts:
    """Chinese for any `zh*` language code (zh, zh-hans, zh-TW…), English otherwise."""
    if language_code and language_code.lower().startswith("zh"):
        return ZH
    return EN
