"""Archive search: every word a substring of an item's folded text, newest issue first.

An index narrows the candidates, then the folded text decides (`LIKE` on SQLite, `strpos` on
PostgreSQL), so the index only has to over-match: the answer is always exactly what a full
scan of the text would give.

The index is a "gram" list per item (`items.search_grams`, written by `upsert_issue`): every
pair of adjacent word characters, and every non-ASCII word character alone. A word's own grams
are a subset of the grams of any text containing it, so "items with all the word's grams" is a
superset of the matches. 2-character Chinese words (模型) are one gram, exact; longer words
are several grams; 1-character Chinese words one gram. Words without grams (a single ASCII
letter, punctuation) fall back to the text alone.

- SQLite: an FTS5 table `items_grams` over those grams (migration 0004, kept in sync by
  triggers on `items`), whose rowid is the result order, so results come out of the index
  newest first and a page stops after its rows.
- PostgreSQL: a GIN index on `string_to_array(search_grams, ' ')`. A common word's page is a
  walk of the primary key newest first; a rare word's, its few index hits sorted.

Counting every match of a common word costs as much as the old scan, so `total` is exact only
up to a cap above the requested page (`COUNT_STEP`); past it `exact` is False.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from bot.storage.models import IssueRecord, ItemRecord
from bot.storage.text import fold

# Totals are counted up to the next multiple of this above the page asked for ("100+").
COUNT_STEP = 100
# PostgreSQL: a word with more than `cap` matches among the newest WINDOW x cap items is
# common (over 1 in WINDOW): paging it walks the primary key, not the GIN index.
WINDOW = 10
# PostgreSQL: a page past the first COUNT_STEP results sorts the GIN hits of a word with at
# most this many matches, rather than walk (offset / share of items matching) rows.
SORT_LIMIT = 5_000

# The FTS5 rowid of an item: issue ids are dates (YYYYMMDD, bot.content.parse makes nothing
# else), so `id * KEY_SPAN + (KEY_SPAN - 1 - number)` sorts, descending, as "newest issue
# first, then item number". Migration 0004's triggers compute the same expression.
KEY_SPAN = 100_000

_WORD_RUN = re.compile(r"[^\W_]+")  # runs of str.isalnum() characters
_FTS = sa.table("items_grams", sa.column("rowid", sa.BigInteger))
_ORDER = (col(ItemRecord.issue_id).desc(), col(ItemRecord.number))


@dataclass(frozen=True)
class SearchPage:
    items: list[ItemRecord]
    # Matches over all pages; when `exact` is False there are more than `total` (show "100+").
    # `total` is then still above the page asked for, so the page and the next one exist.
    total: int
    exact: bool = True

    @property
    def empty(self) -> bool:
        return self.total == 0


def include_in_schema_comparison(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic `include_name` hook: the index objects migration 0004 makes by hand (the FTS5
    table and its shadow tables, the GIN expression index) have no model, and must not be
    taken by autogenerate or the models-vs-migrations test for leftovers to drop."""
    if type_ == "table" and name is not None:
        return name != "items_grams" and not name.startswith("items_grams_")
    return not (type_ == "index" and name == "ix_items_search_grams")


def search_grams(folded: str) -> str:
    """The index entries of folded text: adjacent word-character pairs, non-ASCII characters."""
    return " ".join(sorted(_grams(folded)))


def search_items(
    session: Session,
    words: Iterable[str],
    limit: int = 5,
    offset: int = 0,
    *,
    published_only: bool = False,
) -> SearchPage:
    """Items containing every word (case-insensitive, Chinese substrings), newest issue first;
    `published_only` leaves out the items of issues still waiting for PUBLISH_CRON."""
    needles = [n for n in (fold(w).strip() for w in words) if n]
    if not needles:
        return SearchPage(items=[], total=0)
    # Mostly no issue is waiting, and then the queries below carry no filter at all.
    waiting = _unpublished_ids(session) if published_only else []
    shown = [col(ItemRecord.issue_id).not_in(waiting)] if waiting else []
    query_grams = [_query_grams(n) for n in needles]
    grams = sorted(set().union(*query_grams))
    # A word that is a gram itself (模型, 模, ai) is decided by the index alone; the others
    # are checked against the text.
    inexact = [n for n, g in zip(needles, query_grams, strict=True) if g != {n}]
    cap = COUNT_STEP * ((offset + limit) // COUNT_STEP + 1)  # always above offset + limit
    dialect = session.get_bind().dialect.name
    if grams and dialect == "sqlite":
        counted, items = _sqlite_search(session, grams, inexact, shown, cap, limit, offset)
    elif grams and dialect == "postgresql":
        counted, items = _pg_search(session, needles, grams, inexact, shown, cap, limit, offset)
    else:  # nothing the index can narrow: the text alone, as before the index
        matches = select(ItemRecord).where(*_contains(dialect, needles), *shown)
        counted = _count(session, matches, cap)
        items = _page(session, matches, _ORDER, limit, offset)
    if counted > cap:
        return SearchPage(items=items, total=cap, exact=False)
    return SearchPage(items=items, total=counted)


def _unpublished_ids(session: Session) -> list[str]:
    statement = select(IssueRecord.id).where(col(IssueRecord.published_at).is_(None))
    return list(session.exec(statement))


def _grams(folded: str) -> set[str]:
    grams: set[str] = set()
    for run in _WORD_RUN.findall(folded):
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
        # ASCII letters alone are in nearly every item: no use as a filter
        grams.update(c for c in run if not c.isascii())
    return grams


def _query_grams(needle: str) -> set[str]:
    """The grams a text containing `needle` must have: its pairs, and a lone non-ASCII
    character (a pair already implies its characters, and fewer grams are cheaper to join)."""
    grams: set[str] = set()
    for run in _WORD_RUN.findall(needle):
        if len(run) > 1:
            grams.update(run[i : i + 2] for i in range(len(run) - 1))
        elif not run.isascii():
            grams.add(run)
    return grams


def _count(session: Session, matches: Any, cap: int) -> int:
    """Matches, counted up to cap + 1 only."""
    capped = matches.with_only_columns(sa.literal(1)).limit(cap + 1).subquery()
    return session.exec(select(sa.func.count()).select_from(capped)).one()


def _page(session: Session, matches: Any, order: Sequence[Any], limit: int, offset: int) -> Any:
    return list(session.exec(matches.order_by(*order).limit(limit).offset(offset)).all())


def _sqlite_search(
    session: Session,
    grams: list[str],
    inexact: list[str],
    shown: list[Any],
    cap: int,
    limit: int,
    offset: int,
) -> tuple[int, list[ItemRecord]]:
    """FTS5 hands out candidates newest first (its rowid is the order), so both queries stop
    after the rows they need; items are joined only for a LIKE recheck and for the page."""
    key = _FTS.c.rowid
    # Grams are word characters only, so quoting each one is a complete escape; a space
    # between quoted strings is AND in FTS5's query syntax.
    match = sa.text("items_grams MATCH :grams").bindparams(grams=" ".join(f'"{g}"' for g in grams))
    on_item = sa.and_(
        col(ItemRecord.issue_id) == sa.func.printf("%08d", key // KEY_SPAN),
        col(ItemRecord.number) == KEY_SPAN - 1 - key % KEY_SPAN,
    )
    matches = select(ItemRecord).select_from(_FTS).join(ItemRecord, on_item).where(match)
    checks = [*_contains("sqlite", inexact), *shown]
    if checks:
        counted = _count(session, matches.where(*checks), cap)
    else:  # the index alone decides: count its rows, no join
        counted = _count(session, select(key).select_from(_FTS).where(match), cap)
    return counted, _page(session, matches.where(*checks), [key.desc()], limit, offset)


def _pg_search(
    session: Session,
    needles: list[str],
    grams: list[str],
    inexact: list[str],
    shown: list[Any],
    cap: int,
    limit: int,
    offset: int,
) -> tuple[int, list[ItemRecord]]:
    """The planner cannot know how common a word is (it multiplies the frequencies of its
    grams) and a wrong pick costs 10-100x, so the plan is chosen here:
    1. a common word has more than `cap` matches among the newest WINDOW x cap items: count
       those by the text alone (cheap per row) and walk the primary key for the page;
    2. otherwise count through the GIN index (short posting lists for a rare word), and page
       through it too, sorting its hits, when there are at most `cap` of them;
    3. else walk the primary key. A page past the first COUNT_STEP results skips 1. (its
       window would be large) and sorts up to SORT_LIMIT hits, as the walk would be long."""
    walk = select(ItemRecord).where(*_pg_contains(col(ItemRecord.search_text), needles), *shown)
    deep = offset >= COUNT_STEP
    if not deep:
        newest = (
            select(col(ItemRecord.search_text))
            .where(*shown)
            .order_by(col(ItemRecord.issue_id).desc())
            .limit(WINDOW * cap)
            .subquery()
        )
        recent = select(newest).where(*_pg_contains(newest.c.search_text, needles))
        with _pg_planner(session, "enable_seqscan", "enable_bitmapscan"):
            counted = _count(session, recent, cap)
            if counted > cap:
                return counted, _page(session, walk, _ORDER, limit, offset)
    rechecks = _pg_contains(col(ItemRecord.search_text), inexact)
    candidates = select(ItemRecord).where(_pg_has_grams(grams), *rechecks, *shown)
    bound = max(cap, SORT_LIMIT) if deep else cap
    with _pg_planner(session, "enable_seqscan", "enable_indexscan"):
        counted = _count(session, candidates, bound)
        if counted <= bound:
            return counted, _page(session, candidates, _ORDER, limit, offset)
    with _pg_planner(session, "enable_seqscan", "enable_bitmapscan"):
        return counted, _page(session, walk, _ORDER, limit, offset)


def _contains(dialect: str, needles: list[str]) -> list[Any]:
    column = col(ItemRecord.search_text)
    return _pg_contains(column, needles) if dialect == "postgresql" else _likes(column, needles)


def _likes(column: Any, needles: list[str]) -> list[Any]:
    # autoescape: a reader's % or _ is a character to find, not a wildcard
    return [column.contains(n, autoescape=True) for n in needles]


def _pg_contains(column: Any, needles: list[str]) -> list[Any]:
    # strpos searches with memchr and a skip table; LIKE matches a character at a time
    return [sa.func.strpos(column, n) > 0 for n in needles]


def _pg_has_grams(grams: list[str]) -> Any:
    # the same expression as the GIN index of migration 0004, so the index serves it
    indexed = sa.func.string_to_array(
        col(ItemRecord.search_grams), " ", type_=postgresql.ARRAY(sa.Text)
    )
    return indexed.contains(sa.bindparam("grams", grams, type_=postgresql.ARRAY(sa.Text)))


@contextmanager
def _pg_planner(session: Session, *disabled: str) -> Iterator[None]:
    """Plan the statements inside without the given scan kinds, then restore the settings
    (set_config(..., true) lasts at most until the transaction ends)."""
    names = {f"n{i}": name for i, name in enumerate(disabled)}
    previous = session.execute(
        sa.text(
            "SELECT "
            + ", ".join(f"current_setting(:{k}), set_config(:{k}, 'off', true)" for k in names)
        ),
        names,
    ).one()
    try:
        yield
    finally:
        restore = ", ".join(f"set_config(:{k}, :v{i}, true)" for i, k in enumerate(names))
        values = {f"v{i}": previous[2 * i] for i in range(len(names))}
        session.execute(sa.text(f"SELECT {restore}"), {**names, **values})
