from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, SQLModel

from bot.storage import (
    current_revision,
    head_revision,
    make_engine,
    migrate,
    search_items,
    subscriptions_of,
)
from bot.storage.migrate import alembic_config
from bot.storage.search import include_in_schema_comparison
from tests.storage.factories import insert_issue_row

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


def test_migration_0006_drops_invisible_characters_from_stored_text(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
        insert_issue_row(connection, "20200101")
        connection.execute(
            text(
                "INSERT INTO items (issue_id, number, title, source, body_text, search_text, "
                "search_grams) VALUES ('20200101', 1, 'x', '', '', 'g\u200bpt 模\u2066型', '')"
            )
        )
        for chat in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO chats (id, type, active, created_at, updated_at) "
                    "VALUES (:id, 'private', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": chat},
            )
        for chat, keyword in [(1, "gpt"), (1, "g\u200bpt"), (1, "\u200b"), (2, "n\u2066lp")]:
            connection.execute(
                text(
                    "INSERT INTO subscriptions (chat_id, keyword, created_at) "
                    "VALUES (:chat, :keyword, CURRENT_TIMESTAMP)"
                ),
                {"chat": chat, "keyword": keyword},
            )
    migrate(engine)
    with Session(engine) as session:
        assert subscriptions_of(session, 1) == ["gpt"]  # the copy and the empty one went
        assert subscriptions_of(session, 2) == ["nlp"]
        assert [(i.issue_id, i.number) for i in search_items(session, ["gpt", "模型"]).items] == [
            ("20200101", 1)
        ]
