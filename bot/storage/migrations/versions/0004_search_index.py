"""Search index: items.search_grams, and an index over it (SQLite FTS5 table, PostgreSQL GIN).

See bot/storage/search.py for how /search uses it. SQLite: `items_grams` is a contentless
FTS5 table whose rowid is the result order (issue id descending, then item number), kept in
sync with `items` by triggers, so every writer (and ON DELETE CASCADE) keeps it right.
PostgreSQL: a GIN index on the gram array. Existing items are backfilled here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2_000
# Frozen copies of bot.storage.search's key and grams: a migration must not change later.
KEY = "CAST({row}.issue_id AS INTEGER) * 100000 + (99999 - {row}.number)"
_WORD_RUN = re.compile(r"[^\W_]+")


def search_grams(folded: str) -> str:
    grams: set[str] = set()
    for run in _WORD_RUN.findall(folded):
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
        grams.update(c for c in run if not c.isascii())
    return " ".join(sorted(grams))


def upgrade() -> None:
    op.add_column("items", sa.Column("search_grams", sa.Text(), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        # Keep search_text in the row, where a filter reads it without a TOAST fetch (a row
        # with its grams outgrows 2 kB); the grams are only ever read through the index.
        op.execute("ALTER TABLE items ALTER COLUMN search_grams SET STORAGE EXTERNAL")
        op.execute("ALTER TABLE items ALTER COLUMN search_text SET STORAGE MAIN")
    _backfill()  # after the storage change, so the rewritten rows follow it
    if op.get_bind().dialect.name == "sqlite":
        _create_sqlite_index()
    else:
        op.execute(
            "CREATE INDEX ix_items_search_grams ON items "
            "USING gin (string_to_array(search_grams, ' '))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER items_grams_{event}")
        op.execute("DROP TABLE items_grams")
    else:
        op.execute("DROP INDEX ix_items_search_grams")
        op.execute("ALTER TABLE items ALTER COLUMN search_text SET STORAGE EXTENDED")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("search_grams")


def _backfill() -> None:
    connection = op.get_bind()
    items = sa.table(
        "items",
        sa.column("issue_id", sa.String),
        sa.column("number", sa.Integer),
        sa.column("search_text", sa.Text),
        sa.column("search_grams", sa.Text),
    )
    rows = connection.execute(sa.select(items.c.issue_id, items.c.number, items.c.search_text))
    update = (
        items.update()
        .where(items.c.issue_id == sa.bindparam("k_issue"), items.c.number == sa.bindparam("k_n"))
        .values(search_grams=sa.bindparam("grams"))
    )
    while batch := rows.fetchmany(BATCH):
        connection.execute(
            update,
            [{"k_issue": i, "k_n": n, "grams": search_grams(text)} for i, n, text in batch],
        )


def _create_sqlite_index() -> None:
    # ascii tokenizer: every non-ASCII character is part of a token, so a gram (word
    # characters, space-separated) is one token whatever SQLite's Unicode tables say.
    # detail=none: a gram's list of rows is all a query needs; no positions, a small index.
    op.execute(
        "CREATE VIRTUAL TABLE items_grams USING fts5("
        "grams, content='', tokenize='ascii', detail='none', columnsize=0)"
    )
    insert = (
        f"INSERT INTO items_grams(rowid, grams) VALUES ({KEY.format(row='new')}, new.search_grams)"
    )
    # A contentless table forgets a row only when told the values it was given.
    delete = (
        "INSERT INTO items_grams(items_grams, rowid, grams) "
        f"VALUES ('delete', {KEY.format(row='old')}, old.search_grams)"
    )
    op.execute(f"CREATE TRIGGER items_grams_insert AFTER INSERT ON items BEGIN {insert}; END")
    op.execute(f"CREATE TRIGGER items_grams_delete AFTER DELETE ON items BEGIN {delete}; END")
    op.execute(
        "CREATE TRIGGER items_grams_update "
        "AFTER UPDATE OF issue_id, number, search_grams ON items BEGIN "
        f"{delete}; {insert}; END"
    )
    op.execute(
        f"INSERT INTO items_grams(rowid, grams) SELECT {KEY.format(row='items')}, search_grams "
        "FROM items"
    )
