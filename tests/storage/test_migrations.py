from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from bot.storage import current_revision, head_revision, make_engine, migrate
from bot.storage.migrate import alembic_config
from bot.storage.search import include_in_schema_comparison

TABLES = {"issues", "items", "chats", "subscriptions", "deliveries", "bad_files", "search_queries"}


def test_migrate_creates_every_table(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert current_revision(engine) == head_revision()


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    before = current_revision(engine)
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == before == head_revision()


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        opts = {"compare_type": True, "include_name": include_in_schema_comparison}
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, SQLModel.metadata) == []


def test_migrate_by_url_from_any_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini here, nor anywhere
    migrate(database_url)
    engine = make_engine(database_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
