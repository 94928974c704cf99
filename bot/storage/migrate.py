"""Bring a database's schema up to date with the Alembic migrations shipped in this package.

No alembic.ini: the config is built here from the package path, so this works from any working
directory and from an installed package.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from bot.storage.engine import StorageError, describe, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

# Any constant will do; it only has to be the same for every instance of the bot.
_PG_MIGRATION_LOCK = 0x5E4D_B07


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic Config for our migrations (also handy for `command.revision` by hand)."""
    config = Config()
    # ConfigParser treats % as interpolation, so escape it in paths and URLs.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(engine_or_url: Engine | str | URL) -> None:
    """Upgrade the schema to the newest revision; a no-op when it is already there."""
    engine = engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Several instances may start at once: let one migrate, the others wait.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as exc:
        raise StorageError(
            f"cannot migrate the database {describe(engine)}: {_first_line(exc.orig)}"
        ) from None
    finally:
        if engine is not engine_or_url:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _first_line(error: BaseException | None) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
