"""The one markdown-it configuration the pipeline uses, and token helpers shared by
parsing and rendering."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache
from html import unescape
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.content.types import Image


@cache
def markdown() -> MarkdownIt:
    # Raw HTML is parsed (not passed through): the renderer turns it into text or drops it,
    # and `<img src>` becomes an image.
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # markdown-it leaves `[text](javascript:…)` unparsed, showing the raw Markdown; parse
    # every link instead, and let `clean_url` decide which become links (their text stays).
    md.validateLink = lambda url: True
    return md


def walk(tokens: Sequence[Token]) -> Iterator[Token]:
    """Every token, inline children included, in document order."""
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def image_from_url(url: str) -> Image | None:
    """An `Image` for `url`, or None for what must not be sent (`data:` URIs, no URL)."""
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        return None
    lowered = url.lower()
    is_animation = "wx_fmt=gif" in lowered or lowered.split("?", 1)[0].endswith(".gif")
    return Image(url=url, is_animation=is_animation)


def images_in(tokens: Sequence[Token]) -> list[Image]:
    """Markdown images and HTML `<img src>`, in order, each URL once."""
    urls: list[str] = []
    for token in walk(tokens):
        if token.type == "image":
            urls.append(str(token.attrGet("src") or ""))
        elif token.type in ("html_inline", "html_block"):
            urls.extend(img_sources(token.content))
    images: dict[str, Image] = {}
    for url in urls:
        image = image_from_url(url)
        if image and image.url not in images:
            images[image.url] = image
    return list(images.values())


_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


# A character reference with its `;`. Python's unescape also takes legacy names without one,
# which HTML5 leaves alone in attributes: `&timestamp=` would become `×tamp=`.
_CHARACTER_REFERENCE = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def img_sources(html: str) -> list[str]:
    # An attribute's value is HTML: `&amp;` in it stands for `&` in the URL.
    return [
        _CHARACTER_REFERENCE.sub(
            lambda ref: unescape(ref[0]), next(g for g in match.groups() if g is not None)
        )
        for match in _IMG_SRC.finditer(html)
    ]


class _TextExtractor(HTMLParser):
    """Text of an HTML fragment, without script and style contents."""

    _INVISIBLE = frozenset({"script", "style", "head", "title"})
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._INVISIBLE:
            self._hidden += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._INVISIBLE:
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(extractor.parts)).strip()


def inline_text(token: Token) -> str:
    """Plain text of an inline token: what a reader sees, without markup."""
    parts: list[str] = []
    hidden = False
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            if not hidden:
                parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "html_inline":
            tag = child.content.lower()
            if tag.startswith(("<script", "<style")):
                hidden = True
            elif tag.startswith(("</script", "</style")):
                hidden = False
            elif tag.startswith("<br"):
                parts.append("\n")
    return "".join(parts)


def plain_text(tokens: Sequence[Token]) -> str:
    """Plain text of a token stream, one line per block."""
    lines: list[str] = []
    for token in tokens:
        if token.type == "inline":
            lines.append(inline_text(token))
        elif token.type in ("fence", "code_block"):
            lines.append(token.content.rstrip("\n"))
        elif token.type == "html_block":
            lines.append(html_to_text(token.content))
    return "\n".join(line for line in lines if line.strip())
