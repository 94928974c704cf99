from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import read_issue
from bot.content.messages import (
    issue_messages,
    item_messages,
    keyword_header,
    message_moves,
    new_parts,
    shared_text,
)
from bot.content.parse import parse_issue
from bot.content.render import render_blocks
from bot.content.split import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    utf16_length,
    visible_length,
    visible_text,
)
from bot.content.types import Image, Issue, Item, MessageKind, OutgoingMessage
from bot.handlers import keyboards
from tests.conftest import FIXTURES, SEEDS
from tests.content.html_check import assert_telegram_html

ALL_FILES = sorted(SEEDS.glob("*.txt")) + sorted((FIXTURES / "adversarial").glob("*.md"))


def _issue(path: Path) -> Issue:
    return read_issue(path.read_bytes(), file_name=path.name)


def _adversarial(name: str) -> Issue:
    (path,) = (FIXTURES / "adversarial").glob(f"{name}*.md")
    return _issue(path)


def _texts(messages: list[OutgoingMessage]) -> str:
    return "\n".join(message.text for message in messages)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_message_is_valid_telegram_html_within_limits(path: Path) -> None:
    for message in issue_messages(_issue(path)):
        limit = TEXT_LIMIT if message.kind == MessageKind.TEXT else CAPTION_LIMIT
        assert utf16_length(visible_text(message.text).strip()) <= limit
        assert_telegram_html(message.text)
        if message.kind == MessageKind.TEXT:
            assert visible_text(message.text).strip(), "empty text message"
        else:
            assert message.media
            assert_telegram_html(message.fallback_text)
            assert utf16_length(visible_text(message.fallback_text)) <= TEXT_LIMIT
        if message.kind == MessageKind.ALBUM:
            assert 2 <= len(message.media) <= 10
            assert not any(image.is_animation for image in message.media)


def test_seed_001_messages() -> None:
    issue = _issue(SEEDS / "001_42d7db21f5f800b2.txt")
    messages = issue_messages(issue)
    header, *items, more = messages
    assert header.kind == MessageKind.TEXT
    assert "2021-03-05" in header.text
    assert "本期 9 条" in header.text
    assert "6~10 分钟" in header.text
    assert [m.item_number for m in items] == list(range(1, 10))  # one photo message per item
    assert items[1].kind == MessageKind.ANIMATION  # wx_fmt=gif
    assert all(m.kind == MessageKind.PHOTO for m in items if m.item_number != 2)
    assert more.text.startswith("🔗 <b>更多链接</b>")
    assert more.text.count("<a href=") == 2
    # Every tracking parameter is gone from every link that is sent.
    for tracker in ("chksm=", "sessionid=", "pass_ticket=", "exportkey=", "wx_header="):
        assert tracker not in _texts(messages)


def test_first_image_carries_title_and_body_within_caption() -> None:
    item = _issue(SEEDS / "001_42d7db21f5f800b2.txt").items[0]
    (photo,) = item_messages(item)
    assert photo.kind == MessageKind.PHOTO
    assert photo.media[0].url.endswith("20210305165758.png")
    assert photo.text.startswith('<b>1. <a href="https://mp.weixin.qq.com/s?__biz=')
    assert "· <i>机器之心</i>" in photo.text
    assert "AAAI 2021" in photo.text  # the whole body fits in the caption
    assert "🖼" in photo.fallback_text
    assert "20210305165758.png" in photo.fallback_text


def test_item_without_image_is_text_only_and_empty_body_keeps_title() -> None:
    issue = _adversarial("20990101")
    by_number = {item.number: item for item in issue.items}
    (no_image,) = item_messages(by_number[2])
    assert no_image.kind == MessageKind.TEXT
    assert no_image.text.startswith("<b>2. 没有链接也没有图片的条目</b> · <i>某来源</i>")
    (empty,) = item_messages(by_number[3])
    assert empty.text == '<b>3. <a href="https://example.com/empty">正文为空的条目</a></b>'


def test_html_in_the_source_is_shown_as_text_or_dropped() -> None:
    item = _adversarial("20990101").items[0]
    html = _texts(item_messages(item))
    assert "alert" not in html
    assert "never" not in html  # inside an HTML <script> block
    assert "居中" in html
    assert "红字" in html
    assert "a &lt; b &amp;&amp; c &gt; d" in html
    assert "标题里有 标签 &amp; 符号 &lt; &gt;" in html
    for tag in ("<center", "<font", "<script", "<img", "<span", "<div", "<br"):
        assert tag not in html


def test_markdown_structures_render_as_telegram_allows() -> None:
    item = _adversarial("20990101").items[3]
    html = _texts(item_messages(item))
    assert "<b>小标题：二级</b>" in html
    assert '<pre><code class="language-c">#include &lt;stdio.h&gt;' in html
    assert "&amp;amp; &lt;b&gt;not bold&lt;/b&gt;" in html  # code stays literal
    assert "<pre>缩进代码块 &lt;tag&gt; &amp; 符号</pre>" in html
    assert "模型               | 参数量 | 速度 &amp; 精度" in html  # CJK counts two columns
    assert "• 一级列表\n    • 二级列表\n        • 三级列表 &amp; 更多\n• 一级列表第二项" in html
    assert "    1. 有序子项一\n    2. 有序子项二" in html
    assert "<blockquote>引用里 <b>加粗</b> 和 下划线\n嵌套引用\n引用结束</blockquote>" in html
    assert '<a href="https://example.com/inline?id=7">一个链接</a>' in html  # utm_source dropped
    assert '（<a href="https://github.com/RangiLyu/nanodet">' in html


def test_unsafe_links_keep_their_text_and_lose_the_link() -> None:
    item = _adversarial("20990102").items[0]
    html = _texts(item_messages(item))
    assert "危险链接：点我、数据、VB、文件、相对。" in visible_text(html)
    for scheme in ("javascript:", "data:", "vbscript:", "file:"):
        assert f'href="{scheme}' not in html
    assert '<a href="tg://resolve?domain=durov">tg 链接</a>' in html


def test_each_link_appears_once_per_item() -> None:
    item = _adversarial("20990102").items[0]
    html = _texts(item_messages(item))
    assert html.count('href="https://mp.weixin.qq.com/s/JPDcvopsXemjW2uEA9X_XQ"') == 1
    assert html.count('href="https://example.com/repeated"') == 1
    assert "再次" not in html  # the label of a repeated link goes with it
    assert 'href="https://example.com/page?keep=1"' in html


def test_data_uri_images_are_not_sent() -> None:
    item = _adversarial("20990102").items[0]
    assert item.images == ()
    assert all(message.kind == MessageKind.TEXT for message in item_messages(item))


def test_many_images_become_albums_and_animations() -> None:
    item = _adversarial("20990102").items[1]
    messages = item_messages(item)
    kinds = [(m.kind, len(m.media)) for m in messages]
    assert kinds == [
        (MessageKind.ALBUM, 10),
        (MessageKind.ALBUM, 2),
        (MessageKind.ANIMATION, 1),
        (MessageKind.ANIMATION, 1),
    ]
    assert messages[0].text.startswith("<b>2. ")  # the caption rides on the first album
    assert messages[1].text == ""
    assert "<img" not in _texts(messages)
    assert messages[0].media[7].url == "https://example.com/8.png"  # <img src> in order


def test_animation_first_carries_the_caption() -> None:
    item = _adversarial("20990102").items[2]
    first, second = item_messages(item)
    assert (first.kind, second.kind) == (MessageKind.ANIMATION, MessageKind.PHOTO)
    assert first.text.startswith("<b>3. ")
    assert second.text == ""


def test_long_item_is_split_into_caption_and_text_parts() -> None:
    issue = _adversarial("20990103")
    emoji_item, huge_paragraph, long_code = (item_messages(item) for item in issue.items)
    assert emoji_item[0].kind == MessageKind.PHOTO
    assert len(emoji_item) >= 3
    assert all(m.kind == MessageKind.TEXT for m in emoji_item[1:])
    all_text = "".join(visible_text(m.text) for m in emoji_item)
    for n in range(1, 61):
        assert f"第 {n} 段" in all_text
    assert len(huge_paragraph) >= 2
    assert all(m.text.startswith("<pre><code class=") for m in long_code[1:])


def test_render_blocks_of_an_empty_body() -> None:
    assert render_blocks("") == []
    assert render_blocks("![](https://example.com/only-image.png)") == []


def test_header_fills_in_a_missing_item_count() -> None:
    issue = _issue(SEEDS / "004_ee62047fa1d26340.txt")
    header = issue_messages(issue)[0]
    assert "将为您带来 10 条相关新闻" in header.text


def test_item_title_with_markup_is_plain_and_escaped() -> None:
    item = Item(
        number=12,
        title="a <b> & c",
        url="https://example.com/?a=1&b=2",
        source="<src>",
        body="",
        body_text="",
    )
    (message,) = item_messages(item)
    assert message.text == (
        '<b>12. <a href="https://example.com/?a=1&amp;b=2">a &lt;b&gt; &amp; c</a></b>'
        " · <i>&lt;src&gt;</i>"
    )


def _parts(*items: int | None) -> list[OutgoingMessage]:
    return [OutgoingMessage(MessageKind.TEXT, f"m{i}", item_number=n) for i, n in enumerate(items)]


def test_message_moves_follow_each_item_when_an_earlier_one_grows() -> None:
    old = _parts(None, 1, 2, 3, None)  # header, items 1-3, more links
    new = _parts(None, 1, 1, 2, 3, None)  # item 1 gained a GIF
    assert message_moves(old, new) == {0: 0, 1: 1, 2: 3, 3: 4, 4: 5}


def test_message_moves_know_the_header_from_the_more_links() -> None:
    old = _parts(None, 1, None)
    new = _parts(None, None, 1, 2, None)  # a longer header (two parts), and an item 2
    assert message_moves(old, new) == {0: 0, 1: 2, 2: 4}


def test_messages_that_are_gone_move_nowhere() -> None:
    old = _parts(None, 1, 1, 2)
    new = _parts(None, 1)  # item 1 lost its second part, item 2 was removed
    assert message_moves(old, new) == {0: 0, 1: 1, 2: None, 3: None}


def test_an_unchanged_issue_moves_nothing() -> None:
    messages = issue_messages(_issue(SEEDS / "003_8e0a2ce222201680.txt"))
    assert message_moves(messages, messages) == {i: i for i in range(len(messages))}


def test_new_parts_come_with_the_places_of_their_siblings() -> None:
    old = _parts(None, 1, 2)
    new = _parts(None, 1, 1, 2, 3)  # item 1 gained a part; item 3 is new
    assert new_parts(old, new) == {2: [1], 4: []}
    assert new_parts(new, new) == {}


def test_notes_are_sent_where_the_editor_put_them_to_whole_issue_readers() -> None:
    from tests.content.test_parse import NOTES

    messages = issue_messages(parse_issue(NOTES))
    for message in messages:
        assert_telegram_html(message.text)
    firsts = [message.text.split("\n")[0] for message in messages]
    assert firsts[1] == "<b>编者按</b>"
    assert firsts[2].startswith("<b>1. ")
    assert firsts[3] == "<b>招聘</b>"
    assert firsts[4].startswith("<b>2. ")
    hiring = messages[3]
    assert hiring.item_number is None  # keyword readers get items only
    assert "我们在招 <b>编辑</b>" in hiring.text
    assert "https://img.example/j.png" in hiring.text  # its image, as a link


def test_a_note_added_between_items_moves_nothing_else() -> None:
    old = _parts(None, 1, 2, None)
    new = _parts(None, 1, None, 2, None)  # a note after item 1
    assert message_moves(old, new) == {0: 0, 1: 1, 2: 3, 3: 4}
    # Who is still due the more links (a whole-issue reader) is due the new note too.
    assert new_parts(old, new) == {2: [4]}
    assert new_parts(_parts(None, 1, 2), _parts(None, 1, None, 2)) == {2: []}  # no one to ask


def test_a_keyword_readers_header_says_where_its_items_come_from_and_why() -> None:
    header = keyword_header("20210305", "AI 简报", 2, 7, ["GPT", "<芯片>"])
    assert header.kind is MessageKind.TEXT
    assert header.item_number is None
    assert_telegram_html(header.text)
    assert visible_text(header.text).split("\n") == [
        "🔔 AI 简报 · 2021-03-05",
        "本期 7 条中有 2 条提到你关注的「GPT」、「<芯片>」",
    ]
    (button,) = header.buttons  # the rest of the issue, a tap away
    assert keyboards.decode(button.data) == keyboards.SendIssue("20210305")


def test_a_keyword_readers_header_names_a_few_keywords_and_counts_the_rest() -> None:
    labels = [f"词{n}" for n in range(50)]
    line = visible_text(keyword_header("20210305", "AI 简报", 3, 3, labels).text).split("\n")[1]
    assert (
        line == "本期 3 条都提到你关注的「词0」、「词1」、「词2」、「词3」、「词4」等 50 个关键词"
    )


def test_a_shared_item_is_one_message_with_its_images_as_links_and_the_issue() -> None:
    item = Item(
        number=2,
        title="NanoDet",
        url="https://example.com/2",
        source="机器之心",
        body="第一段。\n\n第二段。",
        body_text="第一段。 第二段。",
        images=(
            Image("https://img.example.com/a.png"),
            Image("https://img.example.com/b.gif", is_animation=True),
        ),
    )
    shared = shared_text(item_messages(item), "20210305", "AI 简报")
    assert_telegram_html(shared)
    assert visible_text(shared).split("\n\n") == [
        "2. NanoDet · 机器之心",
        "第一段。",
        "第二段。",
        "🖼 图片 1",
        "🖼 动图",
        "📰 AI 简报 · 2021-03-05",
    ]
    assert 'href="https://img.example.com/a.png"' in shared


def test_a_long_shared_item_keeps_whole_parts_within_one_message() -> None:
    body = "\n\n".join(f"第 {n} 段" + "长文本" * 300 for n in range(8))
    item = Item(number=1, title="长文", url=None, source="", body=body, body_text=body)
    messages = item_messages(item)
    assert len(messages) > 1
    shared = shared_text(messages, "20210305", "AI 简报")
    assert_telegram_html(shared)
    assert visible_length(shared) <= TEXT_LIMIT
    assert shared == messages[0].text  # the rest, and the signature, did not fit


def test_a_repeated_bare_url_shows_without_its_tracking_parameters() -> None:
    # Telegram makes any URL in a text clickable, so the text of a URL shown a second time
    # (not linked again) must be the cleaned one too.
    first = "https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1&sn=ab&chksm=9&scene=21#rd"
    again = "http://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1&sn=ab&chksm=8&scene=27"
    (html,) = render_blocks(f"原文 {first} 与 {again} 再见 https://example.com/p?utm_source=x")
    assert html.count("<a ") == 2
    for tracking in ("chksm", "scene", "#rd", "http://", "utm_source"):
        assert tracking not in html
    assert visible_text(html).count("https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1&sn=ab") == 2


@pytest.mark.parametrize(
    "source",
    [
        "见 <http://mp.weixin.qq.com/s/JPDcvopsXemjW2uEA9X_XQ?scene=1#rd> 一文",
        "见 [http://mp.weixin.qq.com/s/JPDcvopsXemjW2uEA9X_XQ?scene=1#rd]"
        "(http://mp.weixin.qq.com/s/JPDcvopsXemjW2uEA9X_XQ?scene=1#rd) 一文",
    ],
)
def test_a_link_that_spells_its_url_shows_the_cleaned_url(source: str) -> None:
    clean = "https://mp.weixin.qq.com/s/JPDcvopsXemjW2uEA9X_XQ"
    assert render_blocks(source) == [f'见 <a href="{clean}">{clean}</a> 一文']


def test_a_link_whose_text_has_words_beside_its_url_keeps_them() -> None:
    # "点此" would be part of a utm_source value to clean_url, which drops that parameter.
    source = "[https://x.example/p?utm_source=a 点此](https://x.example/p)"
    assert render_blocks(source) == [
        '<a href="https://x.example/p">https://x.example/p?utm_source=a 点此</a>'
    ]


def test_an_image_linked_to_itself_adds_no_text() -> None:
    source = "[![](https://x.example/full.png)](https://x.example/full.png)\n\n正文"
    assert render_blocks(source) == ["正文"]


def test_a_link_around_an_image_only_still_shows_its_link() -> None:
    # The image goes as a photo; the link it wrapped must not become an empty <a> that
    # Telegram drops, counting as shown so that the next mention of it is no link either.
    source = (
        "[![](https://x.example/badge.png)](https://github.com/a/b)\n\n项目：https://github.com/a/b"
    )
    html = "\n\n".join(render_blocks(source))
    assert visible_text(html).count("https://github.com/a/b") >= 1
    assert html.count('<a href="https://github.com/a/b">https://github.com/a/b</a>') == 1
    assert "></a>" not in html
