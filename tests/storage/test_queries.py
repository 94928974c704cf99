"""Long search queries kept under the digest their page buttons carry."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from bot.storage import recall_query, remember_query
from bot.storage.queries import QUERY_KEPT_FOR

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_a_query_comes_back_by_its_digest(session: Session) -> None:
    remember_query(session, "#a1", "很长的查询 " * 10, now=NOW)
    session.commit()
    assert recall_query(session, "#a1") == "很长的查询 " * 10
    assert recall_query(session, "#b2") is None


def test_remembering_twice_keeps_one_row(session: Session) -> None:
    remember_query(session, "#a1", "query", now=NOW)
    session.commit()
    remember_query(session, "#a1", "query", now=NOW + QUERY_KEPT_FOR)  # used again: kept on
    remember_query(session, "#c3", "another", now=NOW + QUERY_KEPT_FOR * 1.5)
    session.commit()
    assert recall_query(session, "#a1") == "query"


def test_queries_unused_for_long_are_forgotten(session: Session) -> None:
    remember_query(session, "#old", "old query", now=NOW)
    remember_query(session, "#recent", "recent query", now=NOW + QUERY_KEPT_FOR / 2)
    session.commit()
    remember_query(session, "#new", "new query", now=NOW + QUERY_KEPT_FOR * 1.1)
    session.commit()
    assert recall_query(session, "#old") is None
    assert recall_query(session, "#recent") == "recent query"
    assert recall_query(session, "#new") == "new query"
