"""Issue text → `Issue` and `Item` value objects, from markdown-it tokens (never regexes
over lines, so a `# python` comment inside a fenced code block stays code)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markdown_it.token import Token

from bot.content.links import clean_url, find_bare_urls
from bot.content.markdown import images_in, inline_text, markdown, plain_text, walk
from bot.content.problems import FileProblem
from bot.content.types import Issue, Item, Link, Note


class IssueFormatError(FileProblem):
    """The text is not an issue: no date to name it by, or no numbered items."""


_NUMBERED = re.compile(r"^\s*(\d+)\s*[.、．](?!\s*其他\s*$)\s*")
_OTHER_LINKS_TITLE = re.compile(r"^\s*(?:\d+\s*[.、．]\s*)?其他\s*$")
_ISSUE_DATE_IN_INTRO = re.compile(r"简报\s*(\d{8})")
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{6})(?!\d)")
_READING_TIME = re.compile(r"需要\s*(\d+\s*[~～\-–]\s*\d+|\d+)\s*分钟")
_SOURCE_SEPARATOR = re.compile(r"^[\s|｜]+")
_SOURCE_MARK = re.compile(r"^\s*[|｜]")
# Chinese reading speed used when the intro does not say how long the issue takes.
_CHARS_PER_MINUTE = 400
# An item numbered beyond this is a typo, and would not fit the database's integer.
MAX_ITEM_NUMBER = 9999


@dataclass(frozen=True)
class _Section:
    heading: Token  # the heading_open token
    title: Token  # its inline token
    body: Sequence[Token]


def parse_issue(text: str, *, file_name: str = "") -> Issue:
    """Parse a decoded issue file. Raises `IssueFormatError` when it is not an issue."""
    tokens = markdown().parse(text)
    lines = text.split("\n")
    sections, preamble = _split_sections(tokens)
    intro = _intro(preamble)
    issue_id = _issue_id(intro, file_name)

    items: list[Item] = []
    notes: list[Note] = []
    other_links: list[Link] = []
    for index, section in enumerate(sections):
        next_start = sections[index + 1].heading.map[0] if index + 1 < len(sections) else None
        title = inline_text(section.title)
        if _NUMBERED.match(title):
            items.append(_item(section, lines, next_start))
        elif _OTHER_LINKS_TITLE.match(title) or _is_link_list(section.body):
            other_links.extend(_other_links(section.body))
        else:  # the editor's own section: sent as it is, never dropped
            after = items[-1].number if items else None
            notes.append(_note(section, title, after, lines, next_start))
    if not items:
        raise IssueFormatError("no_items")

    return Issue(
        id=issue_id,
        intro=intro,
        reading_time=_reading_time(intro, text),
        items=tuple(items),
        other_links=tuple(_unique_links(other_links)),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        notes=tuple(notes),
    )


def _split_sections(tokens: Sequence[Token]) -> tuple[list[_Section], list[Token]]:
    """Cut the token stream at top-level headings: numbered ones (`#` or `##`) start items,
    any other `#` heading a section that is the further links (`# 其他`, or a list of links
    under any heading) or else a note. Deeper headings stay inside their item."""
    starts = [
        i
        for i, token in enumerate(tokens)
        if token.type == "heading_open"
        and token.level == 0
        and (token.tag == "h1" or _NUMBERED.match(inline_text(tokens[i + 1])))
    ]
    sections = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(tokens)
        sections.append(_Section(tokens[start], tokens[start + 1], tokens[start + 3 : end]))
    preamble = list(tokens[: starts[0]]) if starts else list(tokens)
    return sections, preamble


def _intro(preamble: Sequence[Token]) -> str:
    """The text of the first blockquote before the items (导读 …)."""
    depth = 0
    inside: list[Token] = []
    for token in preamble:
        if token.type == "blockquote_open":
            depth += 1
        elif token.type == "blockquote_close":
            depth -= 1
            if depth == 0:
                break
        elif depth:
            inside.append(token)
    return plain_text(inside)


def _issue_id(intro: str, file_name: str) -> str:
    """The first real date of the intro (after 简报, else anywhere), else of the file name."""
    impossible = None
    for pattern, where in ((_ISSUE_DATE_IN_INTRO, intro), (_DATE, intro), (_DATE, file_name)):
        for match in pattern.finditer(where):
            if _is_date(match.group(1)):
                return match.group(1)
            impossible = impossible or match.group(1)
    if impossible:
        raise IssueFormatError("bad_date", date=impossible)
    raise IssueFormatError("no_date")


def _is_date(digits: str) -> bool:
    try:
        datetime.strptime(digits, "%Y%m%d")
    except ValueError:
        return False
    return True


def _reading_time(intro: str, text: str) -> str:
    if match := _READING_TIME.search(intro):
        return re.sub(r"\s+", "", match.group(1)).replace("～", "~") + " 分钟"
    minutes = max(1, round(len(text) / _CHARS_PER_MINUTE))
    return f"{minutes} 分钟"


def _item(section: _Section, lines: list[str], next_start: int | None) -> Item:
    number, title, url, source = _heading_parts(section.title)
    body_start = section.heading.map[1] if section.heading.map else 0
    body = "\n".join(lines[body_start:next_start]).strip("\n")
    return Item(
        number=number,
        title=title,
        url=url,
        source=source,
        body=body,
        body_text=plain_text(section.body),
        images=tuple(images_in(section.body)),
        links=tuple(_unique_links(_links_in(section.body))),
        tokens=tuple(section.body),
    )


def _note(
    section: _Section, title: str, after_item: int | None, lines: list[str], next_start: int | None
) -> Note:
    body_start = section.heading.map[1] if section.heading.map else 0
    body = "\n".join(lines[body_start:next_start]).strip("\n")
    return Note(
        title=title.strip(),
        after_item=after_item,
        body=body,
        images=tuple(images_in(section.body)),
        tokens=tuple(section.body),
    )


def _is_link_list(body: Sequence[Token]) -> bool:
    """Whether the section is nothing but lines `[title](url) | source`, as the 其他 list is
    under a heading damaged beyond recognition. Anything else is the editor's words."""
    blocks = [token for token in body if token.type not in _LIST_MARKUP]
    inlines = [token for token in blocks if token.type == "inline"]
    return bool(inlines) and len(inlines) == len(blocks) and all(map(_is_link_line, inlines))


# Tokens that only wrap the lines of a list or paragraph.
_LIST_MARKUP = frozenset(
    {
        "bullet_list_open",
        "bullet_list_close",
        "ordered_list_open",
        "ordered_list_close",
        "list_item_open",
        "list_item_close",
        "paragraph_open",
        "paragraph_close",
    }
)


def _is_link_line(inline: Token) -> bool:
    """One link, then at most `| source` on the same line."""
    children = [c for c in inline.children or [] if c.type != "text" or c.content.strip()]
    if not children or children[0].type != "link_open":
        return False
    close = next((i for i, c in enumerate(children) if c.type == "link_close"), None)
    if close is None:
        return False
    after = children[close + 1 :]
    return not after or (
        all(c.type == "text" for c in after) and bool(_SOURCE_MARK.match(after[0].content))
    )


def _heading_parts(title_token: Token) -> tuple[int, str, str | None, str]:
    """`1. [title](url) | source` → (1, title, cleaned url, source)."""
    children = title_token.children or []
    link_open = next((i for i, c in enumerate(children) if c.type == "link_open"), None)
    if link_open is None:
        text = inline_text(title_token)
        number, rest = _number_and_rest(text)
        title, _, source = rest.rpartition(" | ") if " | " in rest else (rest, "", "")
        return number, title.strip(), None, source.strip()

    link_close = next(i for i, c in enumerate(children) if c.type == "link_close")
    before = _inline_text_of(title_token, children[:link_open])
    number, _ = _number_and_rest(before)
    title = _inline_text_of(title_token, children[link_open + 1 : link_close]).strip()
    url = clean_url(str(children[link_open].attrGet("href") or ""))
    source = _SOURCE_SEPARATOR.sub("", _inline_text_of(title_token, children[link_close + 1 :]))
    return number, title, url, source.strip()


def _number_and_rest(text: str) -> tuple[int, str]:
    match = _NUMBERED.match(text)
    if not match:
        return 0, text
    number = int(match.group(1))
    if number > MAX_ITEM_NUMBER:
        raise IssueFormatError("item_number", number=number, limit=MAX_ITEM_NUMBER)
    return number, text[match.end() :]


def _inline_text_of(parent: Token, children: Sequence[Token]) -> str:
    return inline_text(Token("inline", "", 0, children=list(children), map=parent.map))


def _links_in(tokens: Sequence[Token]) -> list[Link]:
    """Every link of a token stream, Markdown links and bare URLs alike, cleaned."""
    links: list[Link] = []
    for token in tokens:
        if token.type != "inline":
            continue
        children = token.children or []
        for i, child in enumerate(children):
            if child.type == "link_open":
                text = _link_text(children, i)
                if url := clean_url(str(child.attrGet("href") or "")):
                    links.append(Link(text=text, url=url))
            elif child.type == "text" and not _inside_link(children, i):
                for bare in find_bare_urls(child.content):
                    if url := clean_url(bare.url):
                        links.append(Link(text=url, url=url))
    return links


def _link_text(children: Sequence[Token], open_index: int) -> str:
    parts = []
    for child in children[open_index + 1 :]:
        if child.type == "link_close":
            break
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
    return "".join(parts).strip()


def _inside_link(children: Sequence[Token], index: int) -> bool:
    depth = 0
    for child in children[:index]:
        depth += child.type == "link_open"
        depth -= child.type == "link_close"
    return depth > 0


def _other_links(tokens: Sequence[Token]) -> list[Link]:
    """The 其他 list: each line `[title](url) | source`."""
    links: list[Link] = []
    for token in walk(tokens):
        if token.type != "inline":
            continue
        children = token.children or []
        if not any(child.type == "link_open" for child in children):
            links.extend(_bare_other_links(inline_text(token)))
            continue
        for i, child in enumerate(children):
            if child.type != "link_open":
                continue
            url = clean_url(str(child.attrGet("href") or ""))
            if not url:
                continue
            close = next(j for j in range(i, len(children)) if children[j].type == "link_close")
            after = [c for c in children[close + 1 :] if c.type == "text"][:1]
            source = _SOURCE_SEPARATOR.sub("", after[0].content).strip() if after else ""
            links.append(Link(text=_link_text(children, i) or url, url=url, source=source))
    return links


def _bare_other_links(line: str) -> list[Link]:
    """A 其他 line that gives its link as a bare URL (`论文：https://… | 来源`): the words
    before it (since the URL before, if any) are its title, else the URL itself; what follows
    the last URL after `|` is that link's source."""
    links = []
    bares = find_bare_urls(line)
    for position, bare in enumerate(bares):
        if not (url := clean_url(bare.url)):
            continue
        start = bares[position - 1].end if position else 0
        title = _SOURCE_SEPARATOR.sub("", line[start : bare.start]).strip().rstrip(":：").strip()
        after = line[bare.end :] if position == len(bares) - 1 else ""
        source = _SOURCE_SEPARATOR.sub("", after).strip() if _SOURCE_MARK.match(after) else ""
        links.append(Link(text=title or url, url=url, source=source))
    return links


def _unique_links(links: Sequence[Link]) -> list[Link]:
    seen: dict[str, Link] = {}
    for link in links:
        seen.setdefault(link.url, link)
    return list(seen.values())
