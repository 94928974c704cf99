"""Archive search. LIKE over pre-folded text for now; this is the one place to make it smarter
(SQLite FTS5 with a CJK tokenizer, PostgreSQL pg_trgm) without touching callers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.storage.models import ItemRecord
from bot.storage.text import fold


@dataclass(frozen=True)
class SearchPage:
    items: list[ItemRecord]
    total: int  # matches over all pages

    @property
    def empty(self) -> bool:
        return self.total == 0


def search_items(
    session: Session, words: Iterable[str], limit: int = 5, offset: int = 0
) -> SearchPage:
    """Items containing every word (case-insensitive, Chinese substrings), newest issue first."""
    needles = [fold(w.strip()) for w in words if w.strip()]
    if not needles:
        return SearchPage(items=[], total=0)
    # autoescape: a reader's % or _ is a character to find, not a wildcard
    conditions = [col(ItemRecord.search_text).contains(n, autoescape=True) for n in needles]
    total = session.exec(select(func.count()).select_from(ItemRecord).where(*conditions)).one()
    items = session.exec(
        select(ItemRecord)
        .where(*conditions)
        .order_by(col(ItemRecord.issue_id).desc(), col(ItemRecord.number))
        .limit(limit)
        .offset(offset)
    ).all()
    return SearchPage(items=list(items), total=total)
