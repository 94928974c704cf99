"""A throwaway PostgreSQL schema per test, on the server TEST_POSTGRES_URL names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from bot.storage import make_engine

POSTGRES_ENV = "TEST_POSTGRES_URL"


@contextmanager
def fresh_schema(base_url: str) -> Iterator[str]:
    """A new schema on `base_url`'s database, as a URL whose connections all use it; dropped
    afterwards. Advisory locks of the bot are keyed by schema, so tests never share them."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    # libpq's `options` puts every connection of the test engine into the fresh schema.
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
