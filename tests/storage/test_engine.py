from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage import DatabaseUrlError, StorageError, describe, make_engine, migrate


def test_sqlite_gets_its_directory_and_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/nested/dir/bot.db")
    assert (tmp_path / "nested" / "dir").is_dir()
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_a_sqlite_path_in_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # not made relative to the working directory either
    engine = make_engine("sqlite:///~/bot-data/bot.db")
    migrate(engine)
    engine.dispose()
    assert (tmp_path / "bot-data" / "bot.db").is_file()


def test_in_memory_sqlite_needs_no_directory() -> None:
    engine = make_engine("sqlite://")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "DATABASE_URL is not a database URL"),
        ("", "DATABASE_URL is not a database URL"),
        ("nosuchdb://host/db", "DATABASE_URL names an unknown database backend"),
        ("mysql+nosuchdriver://host/db", "DATABASE_URL names an unknown database backend"),
        ("mssql+pymssql://host/db", "DATABASE_URL needs a driver that is not installed"),
    ],
)
def test_a_bad_database_url_is_one_clear_line(url: str, message: str) -> None:
    with pytest.raises(DatabaseUrlError) as info:
        make_engine(url)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_postgres_urls_use_psycopg_3() -> None:
    for url in ("postgres://u@h/db", "postgresql://u@h/db"):
        assert make_engine(url).url.drivername == "postgresql+psycopg"


def test_an_unreachable_database_fails_with_one_line() -> None:
    # Port 1 on loopback refuses at once: no waiting for a timeout.
    with pytest.raises(StorageError) as info:
        migrate("postgresql+psycopg://bot:secret@127.0.0.1:1/bot?connect_timeout=2")
    message = str(info.value)
    assert message.startswith(
        "cannot migrate the database postgresql+psycopg://bot:***@127.0.0.1:1"
    )
    assert "secret" not in message
    assert "\n" not in message


def test_an_sqlite_path_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StorageError, match="cannot create the directory"):
        make_engine(f"sqlite:///{tmp_path}/file/bot.db")


def test_describe_hides_the_password() -> None:
    assert (
        describe("postgresql+psycopg://bot:secret@db/bot") == "postgresql+psycopg://bot:***@db/bot"
    )
