"""Typed settings, read from the environment (and a `.env` file) by `load_settings`.

Nothing is read at import time: `python -m bot preview` must work without any configuration,
and tests build settings from a plain dict.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org/bot"
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Long enough that a slow answer is not taken for a failure (SPEC §4: at least 20 s).
DEFAULT_READ_TIMEOUT = 30.0
# Telegram's rule for setWebhook's secret_token.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")

T = TypeVar("T")


class ConfigError(Exception):
    """A configuration value is missing or invalid; the message is one line for the user."""


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = field(default=None, repr=False)  # a secret: keep it out of logs
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    database_url: str = field(default="sqlite:///data/bot.db", repr=False)  # may hold a password
    issues_dir: Path = Path("issues")
    admin_ids: frozenset[int] = frozenset()
    scan_interval: float = 60.0  # seconds
    # A new or changed issue file is read once it has not been modified for this long.
    settle_seconds: float = 10.0
    rate_limit: float = 30.0  # messages per second, over all chats
    publish_cron: str | None = None  # None: broadcast new issues at once
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    # Seconds to wait for Telegram's answer; a send that times out is "uncertain", not resent.
    telegram_read_timeout: float = DEFAULT_READ_TIMEOUT
    # Webhook mode (`python -m bot webhook`) only:
    webhook_url: str | None = None  # the public URL Telegram posts updates to
    webhook_listen: str = "0.0.0.0"  # the address the webhook server binds
    port: int = 8080  # its port (PaaS platforms set PORT)
    webhook_secret: str | None = field(default=None, repr=False)
    log_level: str = "INFO"

    @property
    def telegram_file_url(self) -> str:
        """The file URL matching `telegram_api_url` (python-telegram-bot's `base_file_url`)."""
        base = self.telegram_api_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base.rstrip("/") + "/file/bot"

    def secrets(self) -> tuple[str, ...]:
        """What must never reach a log line: the token, the webhook secret, a database
        password."""
        try:
            password = make_url(self.database_url).password
        except ArgumentError:
            password = None
        values = (self.bot_token, self.webhook_secret, str(password) if password else None)
        return tuple(value for value in values if value)

    def require_bot_token(self) -> str:
        """The token, or a ConfigError saying how to set it (only `run` needs one)."""
        if not self.bot_token:
            raise ConfigError("BOT_TOKEN is not set; set it in the environment or in .env")
        return self.bot_token

    def require_webhook(self) -> WebhookSettings:
        """The webhook set-up, or a ConfigError naming what is missing (only `webhook` needs it)."""
        if not self.webhook_url:
            raise ConfigError(
                "WEBHOOK_URL is not set; set it to the public https URL Telegram should post to"
            )
        if not self.webhook_secret:
            raise ConfigError(
                "WEBHOOK_SECRET is not set; set it to 1-256 characters of A-Z a-z 0-9 _ -"
            )
        return WebhookSettings(
            url=self.webhook_url,
            url_path=urlsplit(self.webhook_url).path.strip("/"),
            listen=self.webhook_listen,
            port=self.port,
            secret=self.webhook_secret,
        )

    def publish_trigger(self) -> BaseTrigger | None:
        """APScheduler trigger for PUBLISH_CRON in TIMEZONE, or None to publish at once.

        Read as crontab(5) documents it: weekday numbers from 0 = Sunday, and when neither the
        day of the month nor the day of the week starts with `*`, either day fires (APScheduler
        alone wants both).
        """
        if self.publish_cron is None:
            return None
        fields = self.publish_cron.split()
        if len(fields) != 5:  # APScheduler refuses it with its own words
            return CronTrigger.from_crontab(self.publish_cron, timezone=self.timezone)
        either_day = not fields[2].startswith("*") and not fields[4].startswith("*")
        minute, hour, day, month, weekday = [*fields[:4], crontab_weekdays(fields[4])]
        if either_day:
            return OrTrigger(
                [
                    self._cron(minute, hour, day, month, "*"),
                    self._cron(minute, hour, "*", month, weekday),
                ]
            )
        return self._cron(minute, hour, day, month, weekday)

    def _cron(self, minute: str, hour: str, day: str, month: str, weekday: str) -> CronTrigger:
        line = f"{minute} {hour} {day} {month} {weekday}"
        return CronTrigger.from_crontab(line, timezone=self.timezone)

    def next_publish_time(self, now: datetime) -> datetime | None:
        """When PUBLISH_CRON next broadcasts the issues waiting, in TIMEZONE (None: at once)."""
        trigger = self.publish_trigger()
        if trigger is None:
            return None
        next_time: datetime | None = trigger.get_next_fire_time(None, now.astimezone(self.timezone))
        return next_time

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids


@dataclass(frozen=True)
class WebhookSettings:
    url: str  # given to setWebhook
    url_path: str  # the path the local server answers on: WEBHOOK_URL's path
    listen: str
    port: int
    secret: str = field(repr=False)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab's 0-6 (7 is sun too)
_NUMERIC_WEEKDAYS = re.compile(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?")


def crontab_weekdays(field: str) -> str:
    """Crontab's day-of-week field for APScheduler, whose numbers start at 0 = Monday where
    crontab's start at 0 = Sunday ("5" would fire on Saturdays): numbers become day names.
    Names pass as they are; a number out of range is left for APScheduler to refuse."""
    if field == "*":
        return field
    parts = []
    for part in field.split(","):
        match = _NUMERIC_WEEKDAYS.fullmatch(part)
        if match is None:  # names (fri, mon-fri), or something APScheduler will refuse
            parts.append(part)
            continue
        base, step = match.group(1), int(match.group(2) or 1)
        if base == "*":
            base = "0-6"
        elif match.group(2) and "-" not in base:
            base = f"{base}-7"  # `1/2` steps to the end of crontab's week, as `1-7/2`
        first, _, last = base.partition("-")
        days = range(int(first), int(last or first) + 1, max(step, 1))
        if step == 0 or not days or days[-1] > 7:
            parts.append(part)  # not a valid crontab field: APScheduler refuses it
            continue
        parts.extend(_WEEKDAYS[day % 7] for day in days)
    return ",".join(dict.fromkeys(parts))


def load_settings(
    env: Mapping[str, str] | None = None, *, dotenv_path: str | Path = ".env"
) -> Settings:
    """Build Settings from `env`, or from os.environ over the `.env` file when env is None.

    Real environment variables win over `.env`; os.environ itself is left untouched.
    """
    if env is None:
        try:
            values = dotenv_values(dotenv_path)
        except UnicodeDecodeError as exc:  # saved in GBK, say, by a Chinese Windows editor
            raise ConfigError(
                f"{dotenv_path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        file_values = {k: v for k, v in values.items() if v is not None}
        env = {**file_values, **os.environ}

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None  # an empty variable means "use the default"

    def parse(name: str, parser: Callable[[str, str], T], default: T) -> T:
        raw = get(name)
        return default if raw is None else parser(name, raw)

    settings = Settings(
        bot_token=get("BOT_TOKEN"),
        telegram_api_url=parse("TELEGRAM_API_URL", _http_url, DEFAULT_TELEGRAM_API_URL),
        database_url=parse("DATABASE_URL", _database_url, Settings.database_url),
        issues_dir=Path(get("ISSUES_DIR") or Settings.issues_dir),
        admin_ids=parse("ADMIN_IDS", _id_list, frozenset()),
        scan_interval=parse("SCAN_INTERVAL", _scan_interval, Settings.scan_interval),
        settle_seconds=parse("SETTLE_SECONDS", _non_negative_number, Settings.settle_seconds),
        rate_limit=parse("RATE_LIMIT", _positive_number, Settings.rate_limit),
        publish_cron=get("PUBLISH_CRON"),
        timezone=_zone("TIMEZONE", get("TIMEZONE") or DEFAULT_TIMEZONE),
        telegram_read_timeout=parse(
            "TELEGRAM_READ_TIMEOUT", _positive_number, DEFAULT_READ_TIMEOUT
        ),
        webhook_url=parse("WEBHOOK_URL", _webhook_url, None),
        webhook_listen=get("WEBHOOK_LISTEN") or Settings.webhook_listen,
        port=parse("PORT", _port, Settings.port),
        webhook_secret=parse("WEBHOOK_SECRET", _secret_token, None),
        log_level=parse("LOG_LEVEL", _log_level, "INFO"),
    )
    _check_cron(settings)
    return settings


def _check_cron(settings: Settings) -> None:
    """Check PUBLISH_CRON after the rest: it is only meaningful together with TIMEZONE."""
    if settings.publish_cron is None:
        return
    try:
        settings.publish_trigger()
    except ValueError as exc:
        raise ConfigError(
            f"PUBLISH_CRON must be a crontab line like '0 9 * * fri', "
            f"got {settings.publish_cron!r} ({exc})"
        ) from None
    # A valid line may name no real day (`0 9 30 2 *`): new issues would wait for ever.
    if settings.next_publish_time(datetime.now(settings.timezone)) is None:
        raise ConfigError(
            f"PUBLISH_CRON {settings.publish_cron!r} never fires (no such day in any year)"
        )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(name: str, raw: str) -> str:
    level = raw.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{name} must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level


def _positive_number(name: str, raw: str) -> float:
    value = _finite_or_nan(raw)
    if not value > 0:  # also rejects NaN
        raise ConfigError(f"{name} must be a positive number, got {raw!r}")
    return value


MAX_SCAN_INTERVAL = 365 * 24 * 3600  # a year


def _scan_interval(name: str, raw: str) -> float:
    value = _positive_number(name, raw)
    # APScheduler cannot schedule a job further away than its dates reach (1e12 s failed
    # at start, with a traceback), and a scan less than yearly is not a schedule anyway.
    if value > MAX_SCAN_INTERVAL:
        raise ConfigError(
            f"{name} must be at most {MAX_SCAN_INTERVAL} seconds (a year), got {raw!r}"
        )
    return value


def _non_negative_number(name: str, raw: str) -> float:
    value = _finite_or_nan(raw)
    if not value >= 0:  # also rejects NaN
        raise ConfigError(f"{name} must be a number of seconds, 0 or more, got {raw!r}")
    return value


def _finite_or_nan(raw: str) -> float:
    """`raw` as a number, or NaN (which every bound check fails) if it is none or infinite."""
    try:
        value = float(raw)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _port(name: str, raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a TCP port number (1-65535), got {raw!r}")
    return int(raw)


def _secret_token(name: str, raw: str) -> str:
    if not _SECRET_TOKEN.fullmatch(raw):
        # Never echo a secret, not even a malformed one.
        raise ConfigError(f"{name} must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule)")
    return raw


def _id_list(name: str, raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue  # tolerate "1,2," and spaces
        try:
            ids.add(int(part))
        except ValueError:
            raise ConfigError(
                f"{name} must be comma-separated numeric Telegram user ids, got {part!r}"
            ) from None
    return frozenset(ids)


def _is_web_url(raw: str) -> bool:
    try:
        parts = urlsplit(raw)
    except ValueError:  # `http://[::1/bot`, an unclosed IPv6 bracket: was a traceback
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _http_url(name: str, raw: str) -> str:
    if not _is_web_url(raw):
        raise ConfigError(
            f"{name} must be an http(s) URL like {DEFAULT_TELEGRAM_API_URL}, got {raw!r}"
        )
    # PTB appends the token as it is: `…/bot/` would ask for `/bot/123:…` (a 404, read as a
    # refused token), and a bare `http://host:8081` for the port `8081123`. A local Bot API
    # server serves under `/bot`.
    url = raw.rstrip("/")
    return url if urlsplit(url).path else url + "/bot"


def _webhook_url(name: str, raw: str) -> str:
    if not _is_web_url(raw):
        raise ConfigError(f"{name} must be an https URL like https://bot.example.com/telegram")
    return raw


def _database_url(name: str, raw: str) -> str:
    shown = repr(raw) if "@" not in raw else "a value with '@' (hidden: it may hold a password)"
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is no number
        raise ConfigError(
            f"{name} must be a database URL like sqlite:///data/bot.db "
            f"or postgresql+psycopg://user@host/db, got {shown}"
            f"{_ENCODE_PASSWORD if '@' in raw else ''}"
        ) from None
    if url.host and "@" in url.host:  # `user:p@ss@host`: the rest of the password as a host
        raise ConfigError(f"{name} has '@' in its host name{_ENCODE_PASSWORD}")
    # `user:p@ss/word@host` or `p@ss?word@host`: the password ends at its first '@', the host
    # at '/' or '?', and the rest of the password became the database name or the query,
    # which the error line of a failed connection shows.
    after = _AFTER_PASSWORD.match(raw)
    if after and "@" in after.group(1):
        raise ConfigError(f"{name} has '@' after its password{_ENCODE_PASSWORD}")
    return raw


# What follows `user:password@` as SQLAlchemy reads it (the password ends at the first '@').
_AFTER_PASSWORD = re.compile(r"[\w+]+://[^:/]*:[^@]*@(.*)", re.DOTALL)


# A password's `p@ss:word` reads as a host and a port (and the error quoted part of it).
_ENCODE_PASSWORD = " (percent-encode @ : / # in the password: @ as %40, : as %3A)"


def _zone(name: str, raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        # Minimal systems (slim containers, Windows) have no zone database at all.
        hint = "" if available_timezones() else " (no time zone database found: pip install tzdata)"
        raise ConfigError(
            f"{name} must be an IANA time zone like Asia/Shanghai, got {raw!r}{hint}"
        ) from None
