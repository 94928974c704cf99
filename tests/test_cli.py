"""`python -m bot ingest` and `run` as an operator runs them: real folders, exit codes."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot import __main__ as cli
from bot import storage
from tests.conftest import seed_path

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def _ingest(workdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return _bot("ingest", workdir, **env)


def _bot(command: str, workdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot <command>` in `workdir` with only these settings, and by default a
    database and an issues folder in `workdir`."""
    return subprocess.run(
        [sys.executable, "-m", "bot", command],
        cwd=workdir,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
            "ISSUES_DIR": str(workdir / "issues"),
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ingest_reports_a_bad_file_stores_the_good_one_and_fails(tmp_path: Path) -> None:
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "photo.md").write_bytes(PNG)
    (issues / "20210305.md").write_bytes(seed_path("001").read_bytes())

    result = _ingest(tmp_path)
    assert result.returncode == 1
    assert "2 files: 1 new or updated, 0 unchanged, 1 bad" in result.stdout
    assert "20210305.md: new (issue 20210305): 9 items" in result.stdout
    assert "photo.md: bad: binary data (NUL bytes), not a text file" in result.stdout
    assert "Traceback" not in result.stderr

    engine = storage.make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with Session(engine) as session:
        assert [i.id for i in storage.list_issues(session)] == ["20210305"]
        assert len(storage.items_of(session, "20210305")) == 9

    again = _ingest(tmp_path)  # unchanged files are skipped, the bad one is not retried
    assert "0 new or updated, 1 unchanged, 1 bad" in again.stdout
    assert "photo.md: still bad" in again.stdout

    (issues / "photo.md").unlink()
    clean = _ingest(tmp_path)
    assert clean.returncode == 0
    assert clean.stdout.startswith("1 file: 0 new or updated, 1 unchanged, 0 bad")


def test_a_changed_file_is_an_update_not_a_new_issue(tmp_path: Path) -> None:
    issues = tmp_path / "issues"
    issues.mkdir()
    path = issues / "20210305.md"
    path.write_bytes(seed_path("001").read_bytes())
    assert _ingest(tmp_path).returncode == 0
    path.write_bytes(seed_path("001").read_bytes() + "\n更正：第 3 条链接已更新。\n".encode())
    result = _ingest(tmp_path)
    assert "20210305.md: updated (issue 20210305)" in result.stdout


def test_ingest_bad_configuration_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "issues").mkdir()
    result = _ingest(tmp_path, DATABASE_URL="nosuchdb://x")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: DATABASE_URL")
    level = _ingest(tmp_path, LOG_LEVEL="loud")
    assert level.returncode != 0
    assert level.stderr.strip() == (
        "error: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"
    )
    (tmp_path / "issues").rmdir()
    missing = _ingest(tmp_path)  # no issues/ folder
    assert missing.returncode != 0
    assert "issues folder" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert not (tmp_path / "bot.db").exists()  # checked before the database is made
    (tmp_path / "issues").write_text("", encoding="utf-8")  # ISSUES_DIR naming a file
    a_file = _ingest(tmp_path)
    assert a_file.stderr == f"error: issues folder {tmp_path / 'issues'} is a file, not a folder\n"


def test_ingest_with_the_database_locked_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "issues").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("ISSUES_DIR", str(tmp_path / "issues"))
    monkeypatch.setattr(cli, "_configure_logging", lambda *args: None)

    def locked(*args: object, **kwargs: object) -> None:
        # What another process's write transaction gives once the busy timeout has passed
        raise OperationalError(
            "INSERT INTO issues ...", {}, sqlite3.OperationalError("database is locked")
        )

    monkeypatch.setattr("bot.ingest.ingest_directory", locked)
    assert cli.main(["ingest"]) == 1
    assert capsys.readouterr().err == (
        f"error: cannot store issues in the database sqlite:///{tmp_path / 'bot.db'}: "
        "database is locked\n"
    )


def test_a_first_ingest_logs_one_line_per_record(tmp_path: Path) -> None:
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "20210305.md").write_bytes(seed_path("001").read_bytes())
    result = _ingest(tmp_path)
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    record = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING) [\w.]+: ")
    assert [line for line in lines if not record.match(line)] == []  # migrations' docstrings
    assert any("Running upgrade 0004 -> 0005, Search queries" in line for line in lines)
    assert not any("Context impl" in line or "Will assume" in line for line in lines)


def test_log_level_may_come_from_the_env_file(tmp_path: Path) -> None:
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "20210305.md").write_bytes(seed_path("001").read_bytes())
    (tmp_path / ".env").write_text("LOG_LEVEL=warning\n", encoding="utf-8")
    quiet = _ingest(tmp_path)
    assert quiet.returncode == 0
    assert "INFO" not in quiet.stderr
    (tmp_path / ".env").unlink()
    (issues / "20210219.md").write_bytes(seed_path("002").read_bytes())
    chatty = _ingest(tmp_path)
    assert "INFO bot.ingest: issue file new file=20210219.md" in chatty.stderr


def test_run_without_a_token_says_so_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,  # no .env here
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr == "error: BOT_TOKEN is not set; set it in the environment or in .env\n"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_run_on_an_in_memory_database_says_so_in_one_line(tmp_path: Path, url: str) -> None:
    result = _bot(
        "run",
        tmp_path,
        BOT_TOKEN="123456:test-token",
        # nothing listens here: the database is refused before Telegram is asked
        TELEGRAM_API_URL="http://127.0.0.1:9/bot",
        DATABASE_URL=url,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "error: DATABASE_URL is an in-memory SQLite database, which the bot cannot run on; "
        "use a file, like sqlite:///data/bot.db\n"
    )


def test_ingest_says_when_a_file_needed_its_mojibake_repaired(tmp_path: Path) -> None:
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "20210305.md").write_bytes(seed_path("000").read_bytes())  # seed 001's, damaged
    (issues / "20210312.md").write_bytes(seed_path("002").read_bytes())

    result = _ingest(tmp_path)
    assert result.returncode == 0
    repaired, clean = (line for line in result.stdout.splitlines() if ": new (issue" in line)
    assert repaired == (
        "20210305.md: new (issue 20210305): 9 items; mojibake repaired: 2402 characters "
        "restored, 514 of them guessed from context (check the wording, or send the original "
        "file: this copy was opened in the wrong encoding and saved again)"
    )
    assert clean.endswith(" items")  # a clean file says nothing of repairs


def test_run_that_cannot_reach_telegram_ends_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = f"http://127.0.0.1:{port}/bot"
    result = _bot(
        "run",
        tmp_path,
        BOT_TOKEN="123456:test-token",
        TELEGRAM_API_URL=api,
        ISSUES_DIR=str(tmp_path),
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot start with Telegram at {api}: ")
    assert "Traceback" not in result.stderr


@contextmanager
def _telegram_refusing_tokens() -> Iterator[str]:
    """A Bot API that answers every call as Telegram answers a revoked token: 401."""

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b'{"ok":false,"error_code":401,"description":"Unauthorized"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bot"
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_token_is_not_printed(tmp_path: Path) -> None:
    token = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    with _telegram_refusing_tokens() as api:
        result = _bot(
            "run",
            tmp_path,
            BOT_TOKEN=token,
            TELEGRAM_API_URL=api,
            ISSUES_DIR=str(tmp_path),
            LOG_LEVEL="DEBUG",  # PTB logs the Bot API URL, token and all, at DEBUG
        )
    assert result.returncode == 1
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: Telegram at {api} refused BOT_TOKEN: check it, and that TELEGRAM_API_URL is "
        "the Bot API's base URL, like https://api.telegram.org/bot"
    )


def test_a_token_pasted_into_telegram_api_url_is_not_printed(tmp_path: Path) -> None:
    # `https://api.telegram.org/bot<token>/` copied from Telegram's docs: PTB appends the
    # token again, the start is refused, and the error line quoted the URL as set.
    token = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    with _telegram_refusing_tokens() as api:
        result = _bot(
            "run", tmp_path, BOT_TOKEN=token, TELEGRAM_API_URL=f"{api}{token}/", ISSUES_DIR="."
        )
    assert result.returncode == 1
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: Telegram at {api}*** refused BOT_TOKEN: ")
