"""Plain, frozen value objects that cross from the content pipeline to storage and delivery.

Nothing here knows about Telegram, the database or the file system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Image:
    url: str
    is_animation: bool = False


@dataclass(frozen=True)
class Link:
    text: str
    url: str
    source: str = ""


@dataclass(frozen=True)
class Item:
    """One numbered news item of an issue."""

    number: int
    title: str  # plain text, as a reader sees it
    url: str | None  # the cleaned article URL; None when the heading has no link
    source: str  # who published it ("机器之心"); may be empty
    body: str  # the item's Markdown source below its heading, images included
    body_text: str  # plain text of the body, for search and keyword matching
    images: tuple[Image, ...] = ()
    links: tuple[Link, ...] = ()  # every cleaned link of the body, once each, in order
    # The body's markdown-it tokens from parsing the whole issue, so rendering need not parse
    # it again; empty for an Item made by hand (rendering then parses `body`).
    tokens: tuple[Any, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Note:
    """A section of an issue under a heading that is neither an item nor the 其他 list
    (编者按, 招聘…): sent in its place, to the readers who get the whole issue."""

    title: str  # plain text
    after_item: int | None  # the number of the item it follows; None: before the first
    body: str  # its Markdown source
    images: tuple[Image, ...] = ()
    # Its markdown-it tokens, as for Item; empty for a Note made by hand.
    tokens: tuple[Any, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Issue:
    """One newsletter issue, parsed from one file."""

    id: str  # the issue date, "20210305"
    intro: str  # the 导读 text, plain
    reading_time: str  # "6~10 分钟", from the intro or estimated
    items: tuple[Item, ...]
    other_links: tuple[Link, ...]  # the "其他" list
    content_hash: str  # sha256 of the file's bytes; a changed file is an update
    title: str = "AI 简报"
    notes: tuple[Note, ...] = ()


class MessageKind(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    ANIMATION = "animation"
    ALBUM = "album"


@dataclass(frozen=True)
class Button:
    """An inline button under a text message: its label, and the callback data it sends
    (the formats of bot.handlers.keyboards)."""

    label: str
    data: str


@dataclass(frozen=True)
class OutgoingMessage:
    """One Bot API send: sendMessage, sendPhoto, sendAnimation or sendMediaGroup.

    `text` is Telegram HTML (parse mode HTML): the message text, or the caption of a photo,
    an animation or the first photo of an album. `fallback_text` is what to send instead
    when Telegram cannot fetch the media: the same words with the images as links.
    `buttons` go in one row under a text message.
    """

    kind: MessageKind
    text: str
    media: tuple[Image, ...] = ()
    fallback_text: str = ""
    item_number: int | None = None  # None for the header, the notes and the "more links"
    buttons: tuple[Button, ...] = ()
