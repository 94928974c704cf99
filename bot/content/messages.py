"""Issue → the list of Telegram messages to send: a header, each item, the editor's own
sections (notes) where they stand, the "more links".

Per item: the title (bold, linked) with its source; with images, the first image carries the
title and as much body as fits a caption, several photos travel as an album, animations one
by one; the rest of the body follows as text messages within Telegram's limits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from bot.content.render import link_html, render_blocks, render_tokens, text_html
from bot.content.split import (
    CAPTION_LIMIT,
    PARAGRAPH_BREAK,
    TEXT_LIMIT,
    pack_blocks,
    split_html,
    visible_length,
)
from bot.content.types import (
    Button,
    Image,
    Issue,
    Item,
    Link,
    MessageKind,
    Note,
    OutgoingMessage,
)

ALBUM_MAX = 10
KEYWORDS_SHOWN = 5  # in a keyword reader's header; a chat may follow 50
_ITEM_COUNT = re.compile(r"带来\s*\d*\s*条")


def issue_messages(issue: Issue) -> list[OutgoingMessage]:
    """Every message of an issue, in the order a reader should get them: the editor's own
    sections (notes) come where the editor put them."""
    notes_after: dict[int | None, list[Note]] = {}
    for note in issue.notes:
        notes_after.setdefault(note.after_item, []).append(note)
    messages = header_messages(issue)
    for note in notes_after.pop(None, []):
        messages.extend(note_messages(note))
    for item in issue.items:
        messages.extend(item_messages(item))
        for note in notes_after.pop(item.number, []):
            messages.extend(note_messages(note))
    for notes in notes_after.values():  # after an item the issue lacks (a Note made by hand)
        for note in notes:
            messages.extend(note_messages(note))
    messages.extend(other_links_messages(issue.other_links))
    return messages


def header_messages(issue: Issue) -> list[OutgoingMessage]:
    date = issue_date(issue.id)
    intro = issue.intro.split("\n", 1)[0] if issue.intro else ""
    # The editor sometimes leaves the count blank ("将为您带来  条"): say what was parsed.
    intro = _ITEM_COUNT.sub(f"带来 {len(issue.items)} 条", intro)
    contents = "\n".join(f"{item.number}. {text_html(item.title)}" for item in issue.items)
    blocks = [
        f"📰 <b>{text_html(issue.title)} · {date}</b>",
        text_html(intro),
        f"本期 {len(issue.items)} 条 · 阅读约 {text_html(issue.reading_time)}",
        contents,
    ]
    return _text_messages([block for block in blocks if block], item_number=None)


def issue_date(issue_id: str) -> str:
    """ "20210305" as 2021-03-05; an id that is not a date as it is."""
    return f"{issue_id[:4]}-{issue_id[4:6]}-{issue_id[6:]}" if len(issue_id) == 8 else issue_id


def keyword_header(
    issue_id: str, title: str, matched: int, total: int, labels: Sequence[str]
) -> OutgoingMessage:
    """What a keyword reader gets before an issue's items that mention its keywords, in
    place of the issue's own header: which issue they come from, why they came, and a button
    for the rest. In the newsletter's language, like the header it stands for."""
    shown = "、".join(f"「{text_html(label)}」" for label in labels[:KEYWORDS_SHOWN])
    if len(labels) > KEYWORDS_SHOWN:
        shown += f"等 {len(labels)} 个关键词"
    share = f"{total} 条都" if matched >= total else f"{total} 条中有 {matched} 条"
    lines = [
        f"🔔 <b>{text_html(title)} · {issue_date(issue_id)}</b>",
        f"本期 {share}提到你关注的{shown}",
    ]
    text = "\n".join(lines)
    return OutgoingMessage(kind=MessageKind.TEXT, text=text, buttons=(whole_issue(issue_id),))


def whole_issue(issue_id: str) -> Button:
    """The button that sends an issue in full (bot.handlers.keyboards' SendIssue)."""
    return Button("📰 看全期", f"i:{issue_id}")


def shared_text(messages: Sequence[OutgoingMessage], issue_id: str, title: str) -> str:
    """One item's messages as the one text message a reader shares it with (inline mode):
    their words with the images as links, as much as fits, signed with the issue."""
    signature = f"📰 {text_html(title)} · {issue_date(issue_id)}"
    parts = [m.fallback_text if m.media else m.text for m in messages if m.text or m.media]
    shared = ""
    for part in [*parts, signature]:
        longer = f"{shared}{PARAGRAPH_BREAK}{part}" if shared else part
        if visible_length(longer) > TEXT_LIMIT:
            break  # whole parts only: each one ends at a paragraph, with its tags closed
        shared = longer
    return shared


def item_messages(item: Item) -> list[OutgoingMessage]:
    title = title_html(item)
    seen = {item.url} if item.url else set()
    if item.tokens:
        body = render_tokens(item.tokens, seen_urls=seen)
    else:
        body = render_blocks(item.body, seen_urls=seen)
    if not item.images:
        return _text_messages([title, *body], item_number=item.number)

    first, *rest = item.images
    caption, *more = pack_blocks([title, *body], TEXT_LIMIT, first_limit=CAPTION_LIMIT)
    messages: list[OutgoingMessage] = []
    photos = [image for image in rest if not image.is_animation]
    animations = [image for image in rest if image.is_animation]
    if first.is_animation:
        messages.append(_media(MessageKind.ANIMATION, (first,), caption, item.number))
    else:
        photos.insert(0, first)
    for index, chunk in enumerate(_chunks(photos, ALBUM_MAX)):
        chunk_caption = caption if index == 0 and not first.is_animation else ""
        kind = MessageKind.ALBUM if len(chunk) > 1 else MessageKind.PHOTO
        messages.append(_media(kind, tuple(chunk), chunk_caption, item.number))
    for animation in animations:
        messages.append(_media(MessageKind.ANIMATION, (animation,), "", item.number))
    messages.extend(_text_messages(more, item_number=item.number))
    return messages


def title_html(item: Item) -> str:
    title = text_html(item.title) or "—"
    if item.url:
        title = f'<a href="{escape(item.url)}">{title}</a>'
    line = f"<b>{item.number}. {title}</b>"
    if item.source:
        line += f" · <i>{text_html(item.source)}</i>"
    return line


def note_messages(note: Note) -> list[OutgoingMessage]:
    """A note: its heading as a bold line, then its body, its images as links (the section
    is about its words); no item number, so keyword readers skip it as they skip the header."""
    body = render_tokens(note.tokens) if note.tokens else render_blocks(note.body)
    title = f"<b>{text_html(note.title)}</b>" if note.title else ""
    images = fallback_text("", note.images) if note.images else ""
    return _text_messages([b for b in (title, *body, images) if b], item_number=None)


def other_links_messages(links: Sequence[Link]) -> list[OutgoingMessage]:
    if not links:
        return []
    lines = [
        f"• {link_html(link.url, link.text)}"
        + (f" · {text_html(link.source)}" if link.source else "")
        for link in links
    ]
    return _text_messages(["🔗 <b>更多链接</b>", "\n".join(lines)], item_number=None)


def fallback_text(caption: str, images: Sequence[Image]) -> str:
    """The caption with the images as links: what to send when Telegram can't fetch them."""
    names = "、".join(
        link_html(image.url, "动图" if image.is_animation else f"图片 {n}")
        for n, image in enumerate(images, start=1)
    )
    return f"{caption}\n\n🖼 {names}" if caption else f"🖼 {names}"


def _media(
    kind: MessageKind, images: tuple[Image, ...], caption: str, item_number: int
) -> OutgoingMessage:
    return OutgoingMessage(
        kind=kind,
        text=caption,
        media=images,
        fallback_text=fallback_text(caption, images),
        item_number=item_number,
    )


def _text_messages(blocks: Sequence[str], *, item_number: int | None) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(kind=MessageKind.TEXT, text=part, item_number=item_number)
        for part in pack_blocks(blocks, TEXT_LIMIT)
    ]


def _chunks(images: list[Image], size: int) -> list[list[Image]]:
    return [images[i : i + size] for i in range(0, len(images), size)]


__all__ = ["issue_messages", "item_messages", "split_html"]


def message_moves(
    old: Sequence[OutgoingMessage], new: Sequence[OutgoingMessage]
) -> dict[int, int | None]:
    """Where each message of an issue's old version is in its new one, or None if gone.

    A message is known by what it belongs to (the header, the item of its number, a note
    between items, the closing notes and "more links") and its place there, so a GIF added
    to item 1 moves every later message without changing which item a chat was due. Items
    renumbered by the editor are other items.
    """
    new_places = {key: index for index, key in enumerate(_message_keys(new))}
    return {index: new_places.get(key) for index, key in enumerate(_message_keys(old))}


def new_parts(
    old: Sequence[OutgoingMessage], new: Sequence[OutgoingMessage]
) -> dict[int, list[int]]:
    """The messages of the new version that the old one lacked, each with its siblings (the
    new places of the messages of the same header or item that were there before): a chat
    still due one of those is due the new part too. A wholly new item has no siblings; a
    wholly new note has those of the issue's later messages that no item owns (the closing
    part), as what only the readers of the whole issue get."""
    old_keys = set(_message_keys(old))
    keys = _message_keys(new)
    siblings: dict[int | str, list[int]] = {}
    for index, key in enumerate(keys):
        if key in old_keys:
            siblings.setdefault(key[0], []).append(index)
    parts: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        if key in old_keys:
            continue
        parts[index] = siblings.get(key[0], [])
        if not parts[index] and new[index].item_number is None:
            parts[index] = [
                later
                for later in range(index + 1, len(new))
                if keys[later] in old_keys and new[later].item_number is None
            ]
    return parts


def _message_keys(messages: Sequence[OutgoingMessage]) -> list[tuple[int | str, int]]:
    """(what a message belongs to, its place there). What is not an item's is the header's
    before the first item, the closing part's ("links": notes and the more links) after the
    last, and in between the part "after N" of the note(s) following item N."""
    numbered = [i for i, message in enumerate(messages) if message.item_number is not None]
    last_of_items = numbered[-1] if numbered else -1
    places: dict[int | str, int] = {}
    keys = []
    previous: int | None = None  # the number of the last item so far
    for index, message in enumerate(messages):
        part: int | str
        if message.item_number is not None:
            part = previous = message.item_number
        elif previous is None:
            part = "header"
        elif index > last_of_items:
            part = "links"
        else:
            part = f"after {previous}"
        keys.append((part, places.get(part, 0)))
        places[part] = places.get(part, 0) + 1
    return keys
