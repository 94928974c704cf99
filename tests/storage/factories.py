"""Content value objects and raw rows for storage tests."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text

from bot.content.types import Issue, Item


def make_item(number: int, title: str = "", body_text: str = "", url: str | None = None) -> Item:
    return Item(
        number=number,
        title=title or f"Item {number}",
        url=url,
        source="机器之心",
        body=body_text,
        body_text=body_text,
    )


def make_issue(issue_id: str, *items: Item, salt: str = "") -> Issue:
    """An Issue whose hash follows its content, as the parser's does."""
    items = items or (make_item(1), make_item(2))
    text = issue_id + salt + "".join(f"{i.number}{i.title}{i.body_text}" for i in items)
    return Issue(
        id=issue_id,
        intro=f"导读：本期为 AI 简报 {issue_id} 期",
        reading_time="6~10 分钟",
        items=tuple(items),
        other_links=(),
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )


def insert_issue_row(connection: Connection, issue_id: str) -> None:
    """An issue row written in SQL, for tests that store data under an older schema."""
    connection.execute(
        text(
            "INSERT INTO issues (id, content_hash, file_name, raw_text, title, item_count, "
            "created_at, updated_at) VALUES (:id, 'h', 'a.md', '', '', 1, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"id": issue_id},
    )
