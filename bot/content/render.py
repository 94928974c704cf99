"""Markdown tokens → Telegram HTML, using only the tags Telegram accepts:
`b i u s a code pre blockquote` (and `pre><code class="language-x">`).

`TelegramRenderer` is a markdown-it renderer with one method per token type. Every token
without a rule renders as nothing (`renderToken`), so no raw `<p>`, `<h2>` or `<li>` can reach
Telegram; raw HTML in the source becomes its text (`<font>`, `<center>`) or is dropped
(`<script>`, `<img>`, which the parser already took as an image).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from bot.content.links import clean_url, find_bare_urls
from bot.content.markdown import html_to_text, inline_text, markdown

_LANGUAGE = re.compile(r"[A-Za-z0-9_+#.-]+")
_BULLET = "•"
_INDENT = "    "
# A paragraph that only announces the link below it ("参考链接：").
_UNPARSED_BOLD = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")
_LABEL = re.compile(r"^.{0,20}[:：]\s*$", re.S)


@dataclass
class _State:
    """What the renderer remembers while it walks one item."""

    seen_urls: set[str]
    lists: list[list[int]] = field(default_factory=list)  # [next number] or [] for bullets
    links: list[bool] = field(default_factory=list)  # whether each open link emitted <a>
    link_urls: list[str | None] = field(default_factory=list)  # each open link's, cleaned
    blockquote_depth: int = 0
    hidden_html: int = 0  # inside <script> or <style>
    nested_list_closed: bool = False  # its last line end also ends the enclosing item


def _state(env: Any) -> _State:
    state: _State = env["telegram"]
    return state


def text_html(text: str) -> str:
    return escape(text, quote=False)


def link_html(url: str, text: str) -> str:
    return f'<a href="{escape(url)}">{text_html(text)}</a>'


class TelegramRenderer(RendererHTML):
    def renderToken(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return ""  # Anything without a rule below is markup Telegram would refuse.

    # Blocks

    def paragraph_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        if tokens[idx].hidden:  # a tight list's paragraph
            return ""
        return "\n" if _state(env).blockquote_depth else "\n\n"

    def heading_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "<b>"

    def heading_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "</b>\n\n"

    def blockquote_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        state = _state(env)
        state.blockquote_depth += 1
        return "<blockquote>" if state.blockquote_depth == 1 else ""  # Telegram can't nest them

    def blockquote_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        state = _state(env)
        state.blockquote_depth -= 1
        return "</blockquote>\n\n" if state.blockquote_depth == 0 else ""

    def bullet_list_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return self._open_list(env, [])

    def ordered_list_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        start = int(tokens[idx].attrGet("start") or 1)
        return self._open_list(env, [start])

    def _open_list(self, env: Any, counter: list[int]) -> str:
        state = _state(env)
        state.lists.append(counter)
        return "\n" if len(state.lists) > 1 else ""

    def bullet_list_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return self._close_list(env)

    def ordered_list_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return self._close_list(env)

    def _close_list(self, env: Any) -> str:
        state = _state(env)
        state.lists.pop()
        state.nested_list_closed = bool(state.lists)
        return "" if state.lists else "\n"

    def list_item_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        state = _state(env)
        counter = state.lists[-1]
        if counter:
            marker = f"{counter[0]}."
            counter[0] += 1
        else:
            marker = _BULLET
        return _INDENT * (len(state.lists) - 1) + marker + " "

    def list_item_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        state = _state(env)
        if state.nested_list_closed:
            state.nested_list_closed = False
            return ""
        return "\n"

    def fence(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        language = _LANGUAGE.match(token.info.strip())
        code = text_html(token.content.rstrip("\n"))
        if language:
            return f'<pre><code class="language-{language.group()}">{code}</code></pre>\n\n'
        return f"<pre>{code}</pre>\n\n"

    def code_block(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f"<pre>{text_html(tokens[idx].content.rstrip(chr(10)))}</pre>\n\n"

    def table_block(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f"<pre>{text_html(tokens[idx].content)}</pre>\n\n"

    def html_block(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        text = html_to_text(tokens[idx].content)
        return f"{text_html(text)}\n\n" if text else ""

    def hr(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "\n"

    # Inline

    def text(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        state = _state(env)
        if state.hidden_html:
            return ""
        content = tokens[idx].content
        if state.links:  # already inside a link: no links within links
            # A link whose text spells its URL (`<https://…>`) shows the URL it now goes to,
            # not the tracking parameters and http:// it was written with.
            return text_html(_spelled_url(content, state.link_urls[-1]) or content)
        # CommonMark leaves `**粗体。**后文` unparsed (the closing `**` follows punctuation and
        # precedes a letter), which is common in Chinese: bold such pairs here.
        pieces = _UNPARSED_BOLD.split(content)
        return "".join(
            f"<b>{_linkify(piece, state.seen_urls)}</b>"
            if odd
            else _linkify(piece, state.seen_urls)
            for odd, piece in ((n % 2 == 1, piece) for n, piece in enumerate(pieces))
        )

    def code_inline(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f"<code>{text_html(tokens[idx].content)}</code>"

    def softbreak(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "\n"

    def hardbreak(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "\n"

    def strong_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "<b>"

    def strong_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "</b>"

    def em_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "<i>"

    def em_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "</i>"

    def s_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "<s>"

    def s_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "</s>"

    def link_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        state = _state(env)
        url = clean_url(str(tokens[idx].attrGet("href") or ""))
        emit = bool(url) and not state.links and url not in state.seen_urls
        if url is not None and _image_links_to_itself(tokens, idx, url):
            emit = False  # the photo itself is what it leads to: nothing to show as text
        state.links.append(emit)
        state.link_urls.append(url)
        if not emit or url is None:
            return ""
        state.seen_urls.add(url)
        if not _has_text(tokens, idx):
            # Around an image only (a badge): the image goes as a photo, and an <a> with no
            # text is no link in Telegram, so the link shows its URL.
            return f'<a href="{escape(url)}">{text_html(url)}'
        return f'<a href="{escape(url)}">'

    def link_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        state = _state(env)
        state.link_urls.pop()
        return "</a>" if state.links.pop() else ""

    def image(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return ""  # images travel as photos, not as text

    def html_inline(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        state = _state(env)
        tag = tokens[idx].content.lower()
        if tag.startswith(("<script", "<style")):
            state.hidden_html += 1
        elif tag.startswith(("</script", "</style")):
            state.hidden_html = max(0, state.hidden_html - 1)
        elif tag.startswith("<br") and not state.hidden_html:
            return "\n"
        return ""


_RENDERER = TelegramRenderer()


def _spelled_url(text: str, url: str | None) -> str | None:
    """`url` when `text` is nothing but a URL that cleans to it, else None (text that also
    has words, even words inside a tracking parameter's value, keeps them)."""
    spelled = text.strip()
    bares = find_bare_urls(spelled)
    if url and len(bares) == 1 and bares[0].url == spelled and clean_url(spelled) == url:
        return url
    return None


def _image_links_to_itself(children: Sequence[Token], open_index: int, url: str) -> bool:
    """Whether the link opened at `open_index` holds only an image of `url` (a full-size
    picture behind its thumbnail)."""
    inside = children[open_index + 1 : open_index + 3]
    return [t.type for t in inside] == ["image", "link_close"] and clean_url(
        str(inside[0].attrGet("src") or "")
    ) == url


def _has_text(children: Sequence[Token], open_index: int) -> bool:
    """Whether the link opened at `open_index` has any text to show."""
    depth = 0
    for child in children[open_index:]:
        depth += child.nesting if child.type in ("link_open", "link_close") else 0
        if depth == 0:
            return False
        if child.type in ("text", "code_inline") and child.content.strip():
            return True
    return False


def render_blocks(markdown_source: str, *, seen_urls: set[str] | None = None) -> list[str]:
    """Render Markdown to Telegram HTML, one string per top-level block, empty ones dropped.

    `seen_urls` holds links already shown (the item's title link); a link shown once is not
    repeated, and a paragraph that is only a repeated link disappears with its label.
    """
    return render_tokens(markdown().parse(markdown_source), seen_urls=seen_urls)


def render_tokens(tokens: Sequence[Token], *, seen_urls: set[str] | None = None) -> list[str]:
    """`render_blocks` for tokens already parsed (an item's, from parsing the whole issue)."""
    seen = set() if seen_urls is None else seen_urls
    tokens = _collapse_tables(tokens)
    tokens = _drop_repeated_link_paragraphs(tokens, seen)
    env = {"telegram": _State(seen_urls=seen)}
    blocks = []
    for group in _top_level_blocks(tokens):
        html = _tidy(_RENDERER.render(group, markdown().options, env))
        if html:
            blocks.append(html)
    return blocks


def _linkify(text: str, seen_urls: set[str]) -> str:
    """Escape `text`, turning bare URLs into cleaned links (each URL once)."""
    out: list[str] = []
    position = 0
    for bare in find_bare_urls(text):
        out.append(text_html(text[position : bare.start]))
        url = clean_url(bare.url)
        if url and url not in seen_urls:
            seen_urls.add(url)
            out.append(link_html(url, url))
        else:  # shown again as text, cleaned too: Telegram makes any URL in a text clickable
            out.append(text_html(url or bare.url))
        position = bare.end
    out.append(text_html(text[position:]))
    return "".join(out)


def _top_level_blocks(tokens: Sequence[Token]) -> list[list[Token]]:
    groups: list[list[Token]] = []
    depth = 0
    for token in tokens:
        if depth == 0:
            groups.append([])
        groups[-1].append(token)
        depth += token.nesting
    return groups


def _tidy(html: str) -> str:
    html = re.sub(r"[ \t]+\n", "\n", html)
    html = re.sub(r"\s+</blockquote>", "</blockquote>", html)
    html = re.sub(r"<blockquote>\s+", "<blockquote>", html)
    html = re.sub(r"\n{3,}", "\n\n", html)
    html = html.strip()
    return "" if _is_blank(html) else html


def _is_blank(html: str) -> bool:
    return not re.sub(r"<[^>]*>", "", html).strip()


def _collapse_tables(tokens: Sequence[Token]) -> list[Token]:
    """Replace each table's tokens with one `table_block` token holding a monospace grid."""
    out: list[Token] = []
    rows: list[list[str]] | None = None
    for token in tokens:
        if token.type == "table_open":
            rows = []
        elif rows is None:
            out.append(token)
        elif token.type == "tr_open":
            rows.append([])
        elif token.type == "inline":
            rows[-1].append(inline_text(token).strip())
        elif token.type == "table_close":
            block = Token("table_block", "", 0, content=_grid(rows), level=token.level)
            out.append(block)
            rows = None
    return out


def _grid(rows: list[list[str]]) -> str:
    columns = max((len(row) for row in rows), default=0)
    rows = [row + [""] * (columns - len(row)) for row in rows]
    widths = [max(_width(row[c]) for row in rows) for c in range(columns)]
    lines = [" | ".join(_pad(cell, widths[c]) for c, cell in enumerate(row)) for row in rows]
    if len(lines) > 1:  # a rule under the header row
        lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _width(text: str) -> int:
    """Columns `text` takes in a monospace font: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _drop_repeated_link_paragraphs(tokens: Sequence[Token], seen: set[str]) -> list[Token]:
    """Remove paragraphs that only repeat a link shown before, with the label above them."""
    out: list[Token] = []
    seen_here = set(seen)
    i = 0
    while i < len(tokens):
        if tokens[i].type == "paragraph_open" and i + 2 < len(tokens):
            url = _sole_url(tokens[i + 1])
            if url and url in seen_here:
                if _ends_with_label(out):
                    del out[-3:]
                i += 3
                continue
            if url:
                seen_here.add(url)
        out.append(tokens[i])
        i += 1
    return out


def _sole_url(inline: Token) -> str | None:
    """The cleaned URL when a paragraph is nothing but one link or one bare URL."""
    text = inline_text(inline).strip()
    bare = find_bare_urls(text)
    if len(bare) == 1 and bare[0].start == 0 and bare[0].end == len(text):
        return clean_url(bare[0].url)
    links = [c for c in inline.children or [] if c.type == "link_open"]
    if len(links) == 1 and text == _link_label(inline):
        return clean_url(str(links[0].attrGet("href") or ""))
    return None


def _link_label(inline: Token) -> str:
    inside = False
    parts = []
    for child in inline.children or []:
        if child.type == "link_open":
            inside = True
        elif child.type == "link_close":
            inside = False
        elif inside and child.type == "text":
            parts.append(child.content)
    return "".join(parts).strip()


def _ends_with_label(out: list[Token]) -> bool:
    return (
        len(out) >= 3
        and out[-1].type == "paragraph_close"
        and out[-2].type == "inline"
        and bool(_LABEL.match(inline_text(out[-2]).strip()))
    )
