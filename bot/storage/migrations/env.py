"""Alembic environment: runs on the connection that bot.storage.migrate() hands over.

Run from the `alembic` command line (to write a new revision), it opens its own engine from
the config's sqlalchemy.url; see bot.storage.migrate.alembic_config.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from bot.storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.storage.engine import make_engine
from bot.storage.search import include_in_schema_comparison


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_in_schema_comparison,  # the search index has no model
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as own_connection:
        run(own_connection)
    engine.dispose()
