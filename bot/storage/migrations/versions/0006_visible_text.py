"""Invisible characters (zero-width space, joiners, direction marks) leave the folded search
text of items and the stored keywords, as `bot.storage.text.fold` now drops them: a keyword
`G​PT` stored before could neither match nor be unsubscribed by what a reader types.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of bot.storage.text's and bot.storage.search's rules: a migration must not
# change later.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)
_WORD_RUN = re.compile(r"[^\W_]+")
BATCH = 2_000


def search_grams(folded: str) -> str:
    grams: set[str] = set()
    for run in _WORD_RUN.findall(folded):
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
        grams.update(c for c in run if not c.isascii())
    return " ".join(sorted(grams))


def upgrade() -> None:
    connection = op.get_bind()
    items = sa.table(
        "items",
        sa.column("issue_id", sa.String),
        sa.column("number", sa.Integer),
        sa.column("search_text", sa.Text),
        sa.column("search_grams", sa.Text),
    )
    result = connection.execute(sa.select(items.c.issue_id, items.c.number, items.c.search_text))
    changed = []  # read first, written after: mostly nothing, and never the whole table
    while batch := result.fetchmany(BATCH):
        changed += [(i, n, v) for i, n, text in batch if (v := _INVISIBLE.sub("", text)) != text]
    for issue_id, number, visible in changed:  # SQLite's update trigger follows in the index
        connection.execute(
            items.update()
            .where(items.c.issue_id == issue_id, items.c.number == number)
            .values(search_text=visible, search_grams=search_grams(visible))
        )

    subscriptions = sa.table(
        "subscriptions",
        sa.column("id", sa.Integer),
        sa.column("chat_id", sa.BigInteger),
        sa.column("keyword", sa.String),
    )
    rows = connection.execute(
        sa.select(subscriptions.c.id, subscriptions.c.chat_id, subscriptions.c.keyword)
        .where(subscriptions.c.keyword.is_not(None))
        .order_by(subscriptions.c.id)
    ).all()
    kept = {(chat_id, keyword) for _, chat_id, keyword in rows if not _INVISIBLE.search(keyword)}
    for row_id, chat_id, keyword in rows:
        visible = _INVISIBLE.sub("", keyword).strip()
        if visible == keyword:
            continue
        if not visible or (chat_id, visible) in kept:  # nothing left, or a duplicate now
            connection.execute(subscriptions.delete().where(subscriptions.c.id == row_id))
        else:
            kept.add((chat_id, visible))
            connection.execute(
                subscriptions.update().where(subscriptions.c.id == row_id).values(keyword=visible)
            )


def downgrade() -> None:
    pass  # the text is only cleaner: the schema is the same
