from __future__ import annotations

import pytest

from bot.content import IssueFormatError, read_issue
from bot.content.parse import parse_issue
from bot.content.types import Issue
from tests.conftest import seed_path


def _seed(prefix: str) -> Issue:
    path = seed_path(prefix)
    return read_issue(path.read_bytes(), file_name=path.name)


@pytest.mark.parametrize(
    ("prefix", "issue_id", "items", "other_links", "reading_time"),
    [
        ("001", "20210305", 9, 2, "6~10 分钟"),
        ("002", "20201218", 8, 0, "6~9 分钟"),
        ("003", "20210219", 8, 4, "6~10 分钟"),
        ("004", "20210114", 10, 0, "7~10 分钟"),
    ],
)
def test_seed_structure(
    prefix: str, issue_id: str, items: int, other_links: int, reading_time: str
) -> None:
    issue = _seed(prefix)
    assert issue.id == issue_id
    assert [item.number for item in issue.items] == list(range(1, items + 1))
    assert len(issue.other_links) == other_links
    assert issue.reading_time == reading_time
    assert issue.intro.startswith("导读")


def test_seed_001_titles_sources_urls_and_images() -> None:
    issue = _seed("001")
    first = issue.items[0]
    assert first.title == "每帧只需9ms，手机实时「三维动作识别」"
    assert first.source == "机器之心"
    assert first.url == (
        "https://mp.weixin.qq.com/s?__biz=MzA3MzI4MjgzMw==&mid=2650809135&idx=3"
        "&sn=0e2849bbc389890e2e2b1577cf1ef4a7"
    )
    assert [len(item.images) for item in issue.items] == [1] * 9
    assert issue.items[1].images[0].is_animation  # wx_fmt=gif
    assert not first.images[0].is_animation
    # `|` inside the link text belongs to the title; the source is what follows the link.
    assert issue.items[7].title == "Transformer系列 | 更深、更强、更轻巧的Transformer，DeLighT"
    assert issue.items[7].source == "AI人工智能初学者"
    assert issue.items[2].url == "https://mp.weixin.qq.com/s/JPDcvopsXemjW2uEA9X_XQ"
    # The bare URL glued to full-width punctuation ends before it.
    assert [link.url for link in issue.items[2].links] == ["https://github.com/RangiLyu/nanodet"]
    assert [link.text for link in issue.other_links] == [
        "轻量级网络综述 — 主干网络篇",
        "STM32 嵌入式机器学习（TinyML）实战教程-02",
    ]


def test_seed_002_item_without_link() -> None:
    item = _seed("002").items[7]
    assert item.number == 8
    assert item.url is None
    assert item.title == "保姆级教程: 个人深度学习工作站配置指南"
    assert item.source == "稚晖@知乎"
    assert [len(i.images) for i in _seed("002").items] == [1, 1, 0, 0, 1, 0, 1, 0]


def test_seed_003_numbered_others_and_several_images() -> None:
    issue = _seed("003")
    assert len(issue.items[7].images) == 3
    sources = [link.source for link in issue.other_links]
    assert sources == ["量子位", "机器人大讲堂", "机器之心", "CVer"]
    assert all("chksm" not in link.url and "key=" not in link.url for link in issue.other_links)


def test_seed_004_code_comment_is_not_a_heading() -> None:
    issue = _seed("004")
    assert len(issue.items) == 10
    leetcode = issue.items[8]
    assert leetcode.title == "LeetCode刷题实战1：在数组上遍历出花样"
    assert "# python" in leetcode.body
    assert "for i in range(len(array))" in leetcode.body_text
    # `#wechat_redirect` and `scene=21` are gone from the title link.
    assert leetcode.url is not None
    assert "#" not in leetcode.url
    assert "scene" not in leetcode.url
    assert issue.items[9].title.startswith("涨点神器")


def test_mojibake_copy_parses_into_the_same_items_links_and_images() -> None:
    damaged, original = _seed("000"), _seed("001")
    assert damaged.id == original.id
    assert [i.number for i in damaged.items] == [i.number for i in original.items]
    assert [i.url for i in damaged.items] == [i.url for i in original.items]
    assert [i.images for i in damaged.items] == [i.images for i in original.items]
    assert [i.links for i in damaged.items] == [i.links for i in original.items]
    assert [link.url for link in damaged.other_links] == [link.url for link in original.other_links]


def test_content_hash_changes_with_the_text() -> None:
    text = seed_path("001").read_text(encoding="utf-8")
    assert parse_issue(text).content_hash == parse_issue(text).content_hash
    assert parse_issue(text).content_hash != parse_issue(text + "\n更新").content_hash


def test_issue_id_falls_back_to_the_file_name() -> None:
    issue = parse_issue("# 1. [a](https://a.example) | b\n\ntext\n", file_name="20220101.md")
    assert issue.id == "20220101"
    assert issue.reading_time == "1 分钟"


def test_an_impossible_date_in_the_intro_gives_way_to_the_file_name() -> None:
    text = "> 导读：AI 简报 20219999 期\n\n# 1. [a](https://a.example) | b\n"
    assert parse_issue(text, file_name="20210602.md").id == "20210602"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# 1. [a](https://a.example)\n", "no issue date"),
        ("> AI 简报 20211399 期\n\n# 1. [a](https://a.example)\n", "20211399 is not a real date"),
        (
            "> 导读：AI 简报 20220101 期\n\n# 99999999999999999999. [a](https://a.example)\n",
            "item number 99999999999999999999 is too large",
        ),
        ("> 导读：AI 简报 20220101 期\n\njust prose, no items\n", "no numbered items"),
        ("> 导读：AI 简报 20220101 期\n\n```\n# 1. not an item\n```\n", "no numbered items"),
    ],
)
def test_not_an_issue(text: str, message: str) -> None:
    with pytest.raises(IssueFormatError, match=message):
        parse_issue(text, file_name="notes.md")


def test_adversarial_markup_items() -> None:
    from tests.conftest import FIXTURES

    path = FIXTURES / "adversarial" / "20990101_markup.md"
    issue = read_issue(path.read_bytes(), file_name=path.name)
    assert [item.number for item in issue.items] == [*range(1, 12), 123]
    by_number = {item.number: item for item in issue.items}
    assert by_number[1].title == '标题里有 标签 & 符号 < > "引号"'
    assert by_number[1].images[0].url == "https://example.com/html-img.png"
    assert "alert" not in by_number[1].body_text  # script contents are not text
    assert by_number[2].url is None
    assert by_number[2].source == "某来源"
    assert by_number[3].body == ""
    assert by_number[3].body_text == ""
    assert by_number[4].title == "标题里有 粗体、斜体、代码 和 删除线"
    assert by_number[11].title == "第十一条 | 链接文字里有竖线"
    assert [link.url for link in issue.other_links] == ["https://example.com/other1"]


NOTES = """> 导读： 本期为 AI 简报 20990701 期，将为您带来 2 条相关新闻

# 编者按

本期开始改版，欢迎反馈。

# 1. [第一条](https://a.example/1) | 源一

正文一。

# 招聘

我们在招 **编辑**，详见 [这里](https://jobs.example/x)。

![](https://img.example/j.png)

# 2. [第二条](https://a.example/2) | 源二

正文二。

# 其他

- [更多](https://b.example/1) | 某处
"""


def test_the_editors_own_sections_are_kept_as_notes_where_they_stand() -> None:
    issue = parse_issue(NOTES)
    assert [item.number for item in issue.items] == [1, 2]
    assert [(note.title, note.after_item) for note in issue.notes] == [
        ("编者按", None),
        ("招聘", 1),
    ]
    hiring = issue.notes[1]
    assert hiring.body.startswith("我们在招 **编辑**")
    assert [image.url for image in hiring.images] == ["https://img.example/j.png"]
    assert [link.url for link in issue.other_links] == ["https://b.example/1"]  # not the note's


@pytest.mark.parametrize("heading", ["# 其他", "# 9. 其他", "# å…¶ä»–", "# 延伸阅读"])
def test_a_list_of_links_under_any_heading_is_the_more_links(heading: str) -> None:
    text = NOTES.replace("# 其他", heading)
    issue = parse_issue(text)
    assert [note.title for note in issue.notes] == ["编者按", "招聘"]
    assert [link.url for link in issue.other_links] == ["https://b.example/1"]


@pytest.mark.parametrize(
    "section",
    [
        "# 招聘\n\n[报名表](https://f.example) 我们在招编辑，\n欢迎投递。\n",  # words after a link
        "# 感谢阅读\n",  # a heading alone
        "# 推荐\n\n- [一篇](https://f.example/1) | 某处\n- 还有一段话\n",  # one line is not a link
    ],
)
def test_a_section_with_any_words_of_the_editor_is_a_note(section: str) -> None:
    text = NOTES.replace("# 其他", section + "\n# 其他")
    issue = parse_issue(text)
    assert issue.notes[-1].title == section.split("\n")[0][2:]
    assert issue.notes[-1].after_item == 2
    assert [link.url for link in issue.other_links] == ["https://b.example/1"]


def test_an_html_img_src_is_read_with_its_entities_decoded() -> None:
    # Copied from a web page, `&` in an <img src> is written `&amp;`: the URL Telegram
    # fetches must be the real one, and `wx_fmt=gif` after it still makes an animation.
    text = (
        "> 导读：本期为 AI 简报 20210305 期\n\n# 1. [标题](https://example.com/1)\n\n"
        '<img src="https://mmbiz.qpic.cn/a/640?tp=webp&amp;wx_fmt=gif&amp;wxfrom=5">\n'
    )
    (item,) = parse_issue(text).items
    assert [image.url for image in item.images] == [
        "https://mmbiz.qpic.cn/a/640?tp=webp&wx_fmt=gif&wxfrom=5"
    ]
    assert item.images[0].is_animation


def test_an_html_img_src_keeps_parameters_named_like_entities() -> None:
    # `&times` and `&copy` are entities without their `;` to Python's unescape, not to HTML5.
    text = (
        "> 导读：本期为 AI 简报 20210305 期\n\n# 1. [标题](https://example.com/1)\n\n"
        '<img src="https://x.example/a.png?w=1&timestamp=16&copy=1&amp;region=cn">\n'
    )
    (item,) = parse_issue(text).items
    assert [image.url for image in item.images] == [
        "https://x.example/a.png?w=1&timestamp=16&copy=1&region=cn"
    ]


def test_a_bare_url_in_the_more_links_is_a_link_too() -> None:
    text = (
        "> 导读：本期为 AI 简报 20210305 期\n\n# 1. [标题](https://example.com/1)\n\n正文\n\n"
        "# 其他\n\n- 论文：https://arxiv.org/abs/1?utm_source=x | 来源甲\n"
        "- [链接](https://b.example/2) | 来源乙\n- https://c.example/3\n"
        "- 论文：https://d.example/4 | 代码：https://e.example/5 | 来源丙\n"
    )
    links = parse_issue(text).other_links
    assert [(link.text, link.url, link.source) for link in links] == [
        ("论文", "https://arxiv.org/abs/1", "来源甲"),
        ("链接", "https://b.example/2", "来源乙"),
        ("https://c.example/3", "https://c.example/3", ""),
        # Two on a line: each its own title; the source follows the last.
        ("论文", "https://d.example/4", ""),
        ("代码", "https://e.example/5", "来源丙"),
    ]
