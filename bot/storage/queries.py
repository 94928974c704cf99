"""Search queries referred to by a digest: page buttons of a query too long for their
callback data carry the digest, and the query is kept here."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete

from bot.storage.models import SearchQuery, utcnow

# A query not searched or paged for this long is forgotten; its buttons then say so.
QUERY_KEPT_FOR = timedelta(days=90)


def remember_query(
    session: Session, digest: str, query: str, *, now: datetime | None = None
) -> None:
    """Keep `query` under `digest` (marking it used now) and forget queries long unused."""
    now = now or utcnow()
    values = {"digest": digest, "query": query, "used_at": now}
    # An upsert, so two instances remembering the same query at once do not collide.
    insert = (sqlite if session.get_bind().dialect.name == "sqlite" else postgresql).insert
    statement = insert(SearchQuery).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["digest"], set_={"used_at": statement.excluded.used_at}
        )
    )
    session.exec(delete(SearchQuery).where(col(SearchQuery.used_at) < now - QUERY_KEPT_FOR))


def recall_query(session: Session, digest: str) -> str | None:
    row = session.get(SearchQuery, digest)
    return None if row is None else row.query
