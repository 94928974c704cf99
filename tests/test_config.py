from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import DEFAULT_TELEGRAM_API_URL, ConfigError, Settings, load_settings


def test_defaults_from_an_empty_environment() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.bot_token is None
    assert settings.telegram_api_url == DEFAULT_TELEGRAM_API_URL
    assert settings.database_url == "sqlite:///data/bot.db"
    assert settings.issues_dir == Path("issues")
    assert settings.admin_ids == frozenset()
    assert settings.scan_interval == 60
    assert settings.rate_limit == 30
    assert settings.publish_cron is None
    assert settings.publish_trigger() is None
    assert settings.timezone == ZoneInfo("Asia/Shanghai")


def test_every_variable_is_read() -> None:
    settings = load_settings(
        {
            "BOT_TOKEN": "123:abc",
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/bot",
            "DATABASE_URL": "postgresql+psycopg://bot@localhost/bot",
            "ISSUES_DIR": "/srv/issues",
            "ADMIN_IDS": " 1, 22 ,333,",
            "SCAN_INTERVAL": "2.5",
            "SETTLE_SECONDS": "0",
            "RATE_LIMIT": "100",
            "PUBLISH_CRON": "0 9 * * fri",
            "TIMEZONE": "Europe/Berlin",
        }
    )
    assert settings.require_bot_token() == "123:abc"
    assert settings.telegram_file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.database_url == "postgresql+psycopg://bot@localhost/bot"
    assert settings.issues_dir == Path("/srv/issues")
    assert settings.admin_ids == {1, 22, 333}
    assert settings.is_admin(22)
    assert not settings.is_admin(4)
    assert not settings.is_admin(None)
    assert settings.scan_interval == 2.5
    assert settings.settle_seconds == 0  # 0: a new file is read at once
    assert load_settings({}).settle_seconds == 10
    assert settings.rate_limit == 100
    trigger = settings.publish_trigger()
    assert trigger is not None
    assert trigger.timezone == ZoneInfo("Europe/Berlin")


def test_the_next_publishing_time_is_in_the_time_zone() -> None:
    settings = load_settings({"PUBLISH_CRON": "0 9 * * fri", "TIMEZONE": "Asia/Shanghai"})
    thursday_noon_utc = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    friday_nine = settings.next_publish_time(thursday_noon_utc)
    assert friday_nine == datetime(2026, 12, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert load_settings({}).next_publish_time(thursday_noon_utc) is None  # at once


@pytest.mark.parametrize(
    ("weekdays", "fires_on"),
    [
        ("5", {"Fri"}),  # APScheduler alone reads numbers from 0 = Monday: Saturday
        ("fri", {"Fri"}),
        ("0", {"Sun"}),
        ("7", {"Sun"}),
        ("1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("6,0", {"Sat", "Sun"}),
        ("*/2", {"Sun", "Tue", "Thu", "Sat"}),
        ("1/2", {"Mon", "Wed", "Fri", "Sun"}),  # every other day from Monday to 7 (Sunday)
        ("1-7/2", {"Mon", "Wed", "Fri", "Sun"}),
        ("7/3", {"Sun"}),
        ("mon-fri", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("*", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
    ],
)
def test_publish_cron_weekdays_count_as_in_crontab(weekdays: str, fires_on: set[str]) -> None:
    settings = load_settings({"PUBLISH_CRON": f"0 9 * * {weekdays}"})
    trigger = settings.publish_trigger()
    assert trigger is not None
    when, days = datetime(2026, 12, 3, tzinfo=UTC), set()
    for _ in range(14):
        when = trigger.get_next_fire_time(None, when + timedelta(minutes=1))
        days.add(when.strftime("%a"))
    assert days == fires_on


def test_publish_cron_with_a_day_of_the_month_and_a_weekday_fires_on_either() -> None:
    settings = load_settings({"PUBLISH_CRON": "0 9 1 * fri", "TIMEZONE": "UTC"})
    when, fired = datetime(2027, 1, 20, tzinfo=UTC), []
    for _ in range(4):
        next_time = settings.next_publish_time(when)
        assert next_time is not None
        fired.append(next_time.strftime("%a %d %b"))
        when = next_time + timedelta(minutes=1)
    # As crontab reads it: every Friday, and the 1st of each month whatever its weekday.
    assert fired == ["Fri 22 Jan", "Fri 29 Jan", "Mon 01 Feb", "Fri 05 Feb"]


@pytest.mark.parametrize(
    ("line", "fires_on"),
    [
        ("0 9 1 * */1", {"Fri 01"}),  # a weekday starting with `*`: both must match, as in cron
        ("0 9 */2 * tue", {"Tue 05", "Tue 19"}),  # odd days that are Tuesdays
    ],
)
def test_a_star_field_keeps_both_days_required(line: str, fires_on: set[str]) -> None:
    settings = load_settings({"PUBLISH_CRON": line, "TIMEZONE": "UTC"})
    when, fired = datetime(2027, 1, 1, tzinfo=UTC), set()
    while when < datetime(2027, 1, 31, tzinfo=UTC):
        next_time = settings.next_publish_time(when)
        assert next_time is not None
        if next_time.month == 1:
            fired.add(next_time.strftime("%a %d"))
        when = next_time + timedelta(minutes=1)
    assert fired == fires_on


@pytest.mark.parametrize("weekdays", ["8", "5/0", "5-1", "someday"])
def test_publish_cron_with_impossible_weekdays_is_refused(weekdays: str) -> None:
    with pytest.raises(ConfigError, match="PUBLISH_CRON must be a crontab line"):
        load_settings({"PUBLISH_CRON": f"0 9 * * {weekdays}"})


def test_empty_values_mean_defaults() -> None:
    assert load_settings({"RATE_LIMIT": "", "PUBLISH_CRON": "  ", "BOT_TOKEN": ""}) == Settings()


def test_secrets_stay_out_of_repr() -> None:
    text = repr(
        load_settings({"BOT_TOKEN": "123:secret", "DATABASE_URL": "postgresql://u:pw@h/db"})
    )
    assert "secret" not in text
    assert "pw" not in text


@pytest.mark.parametrize(
    ("value", "api", "files"),
    [
        (
            "http://127.0.0.1:8081/bot/",
            "http://127.0.0.1:8081/bot",
            "http://127.0.0.1:8081/file/bot",
        ),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("https://api.telegram.org/bot", "https://api.telegram.org/bot", None),
    ],
)
def test_telegram_api_url_takes_the_token_after_it(value: str, api: str, files: str | None) -> None:
    settings = load_settings({"TELEGRAM_API_URL": value})
    assert settings.telegram_api_url == api
    assert settings.telegram_file_url == (files or "https://api.telegram.org/file/bot")


def test_missing_token_is_reported_when_required() -> None:
    with pytest.raises(ConfigError, match=r"^BOT_TOKEN is not set"):
        load_settings({}).require_bot_token()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RATE_LIMIT", "abc", "RATE_LIMIT must be a positive number, got 'abc'"),
        ("RATE_LIMIT", "0", "RATE_LIMIT must be a positive number, got '0'"),
        ("RATE_LIMIT", "nan", "RATE_LIMIT must be a positive number, got 'nan'"),
        ("SCAN_INTERVAL", "-5", "SCAN_INTERVAL must be a positive number, got '-5'"),
        ("SCAN_INTERVAL", "inf", "SCAN_INTERVAL must be a positive number, got 'inf'"),
        ("SCAN_INTERVAL", "1e12", "SCAN_INTERVAL must be at most 31536000 seconds (a year)"),
        ("SETTLE_SECONDS", "-1", "SETTLE_SECONDS must be a number of seconds, 0 or more"),
        ("SETTLE_SECONDS", "soon", "SETTLE_SECONDS must be a number of seconds, 0 or more"),
        ("ADMIN_IDS", "12,bob", "ADMIN_IDS must be comma-separated numeric"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE must be an IANA time zone"),
        ("TIMEZONE", "../../etc/passwd", "TIMEZONE must be an IANA time zone"),
        ("PUBLISH_CRON", "0 9 * * funday", "PUBLISH_CRON must be a crontab line"),
        ("PUBLISH_CRON", "0 9 * *", "PUBLISH_CRON must be a crontab line"),
        ("PUBLISH_CRON", "99 9 * * fri", "PUBLISH_CRON must be a crontab line"),
        ("PUBLISH_CRON", "0 9 30 2 *", "PUBLISH_CRON '0 9 30 2 *' never fires"),
        ("PUBLISH_CRON", "0 9 31 4,6 *", "PUBLISH_CRON '0 9 31 4,6 *' never fires"),
        ("TELEGRAM_API_URL", "localhost:8081", "TELEGRAM_API_URL must be an http(s) URL"),
        ("TELEGRAM_API_URL", "http://[::1/bot", "TELEGRAM_API_URL must be an http(s) URL"),
        ("WEBHOOK_URL", "https://[::1/hook", "WEBHOOK_URL must be an https URL"),
        ("DATABASE_URL", "not a url", "DATABASE_URL must be a database URL"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({name: value})
    text = str(info.value)
    assert text.startswith(message)
    assert "\n" not in text


@pytest.mark.parametrize(
    "url",
    [
        "user:hunter2@nowhere",
        # a password with @ and : not percent-encoded: the port was 'w0rd@db', a ValueError
        "postgresql+psycopg://bot:hunter2@x:w0rd@db.example.com:5432/bot",
        "postgresql+psycopg://bot:hunter2@w0rd@db.example.com/bot",
        # ...and with / or ? after the @: the rest of it read as the database or the query
        "postgresql+psycopg://bot:hunter2@x/w0rd@db.example.com/bot",
        "postgresql+psycopg://bot:hunter2@x?w0rd@db.example.com/bot",
    ],
)
def test_a_bad_database_url_with_a_password_is_not_echoed(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^DATABASE_URL") as info:
        load_settings({"DATABASE_URL": url})
    assert "hunter2" not in str(info.value)
    assert "w0rd" not in str(info.value)


def test_an_at_sign_in_the_user_name_is_still_accepted() -> None:
    # Azure's `user@server` names, written as is: SQLAlchemy reads them right
    url = "postgresql+psycopg://bot@server:hunter2@db.example.com/bot"
    assert load_settings({"DATABASE_URL": url}).secrets() == ("hunter2",)


def test_dotenv_file_is_read_without_overriding_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "BOT_TOKEN=from-file\nRATE_LIMIT=5\nADMIN_IDS=7\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "RATE_LIMIT", "ADMIN_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RATE_LIMIT", "9")

    settings = load_settings()

    assert settings.bot_token == "from-file"
    assert settings.rate_limit == 9  # the real environment wins
    assert settings.admin_ids == {7}
    assert "BOT_TOKEN" not in os.environ  # the file does not leak into the process environment


def test_a_dotenv_file_not_in_utf8_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_bytes("ISSUES_DIR=简报\n".encode("gbk"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ConfigError, match=r"^\.env is not UTF-8 text \(byte 11\); save it as UTF-8$"
    ):
        load_settings()


def test_no_dotenv_file_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RATE_LIMIT", raising=False)
    assert load_settings().rate_limit == 30
