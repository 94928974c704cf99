"""`python -m bot preview FILE`: the messages an issue file becomes, for a terminal."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import unescape

from bot.content.types import Issue, OutgoingMessage

_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)
_TAG = re.compile(r"<[^>]+>")


def readable(html: str) -> str:
    """Telegram HTML as a reader sees it, with each link's target after its text."""

    def link(match: re.Match[str]) -> str:
        url, text = unescape(match.group(1)), match.group(2)
        return text if unescape(_TAG.sub("", text)) == url else f"{text} ({url})"

    return unescape(_TAG.sub("", _LINK.sub(link, html)))


def format_preview(issue: Issue, messages: Sequence[OutgoingMessage], *, html: bool) -> str:
    notes = f", notes: {'、'.join(note.title for note in issue.notes)}" if issue.notes else ""
    lines = [
        f"AI 简报 {issue.id}: {len(issue.items)} items, {len(issue.other_links)} more links, "
        f"{len(messages)} messages{notes}"
    ]
    for number, message in enumerate(messages, start=1):
        media = " ".join(image.url for image in message.media)
        lines.append(f"\n── {number}/{len(messages)} {message.kind} {media}".rstrip())
        lines.append(message.text if html else readable(message.text))
    return "\n".join(lines)
