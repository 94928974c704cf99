"""The real bot as a child process (`python -m bot run`, or `webhook`), pointed at fakegram."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
REPO = Path(__file__).resolve().parents[2]
ADMIN_ID = 4242


def bot_environment(fakegram_api_url: str, workdir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a bot under test: its own database and issue folder in `workdir`."""
    issues_dir = workdir / "issues"
    issues_dir.mkdir(parents=True, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            (
                "BOT_",
                "TELEGRAM_",
                "DATABASE_",
                "ISSUES_",
                "ADMIN_",
                "SCAN_",
                "SETTLE_",
                "WEBHOOK_",
                "PORT",
            )
        )
    }
    env.update(
        BOT_TOKEN="123456:TEST-token",
        TELEGRAM_API_URL=fakegram_api_url,
        DATABASE_URL=f"sqlite:///{workdir / 'bot.db'}",
        ISSUES_DIR=str(issues_dir),
        ADMIN_IDS=str(ADMIN_ID),
        SCAN_INTERVAL="1",
        SETTLE_SECONDS="0",  # the tests drop whole files; test_publish waits for a slow one
        RATE_LIMIT="30",
        PUBLISH_CRON="",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


class BotProcess:
    """Start, stop, kill and restart the bot; its log goes to a file the test can read."""

    def __init__(
        self, env: Mapping[str, str], workdir: Path, *, command: str = "run", name: str = "bot"
    ) -> None:
        self.env = dict(env)
        self.command = command  # "run" polls; "webhook" serves PORT
        self.workdir = workdir
        self.issues_dir = Path(self.env["ISSUES_DIR"])
        self.database_url = self.env["DATABASE_URL"]
        self.admin_id = int(self.env["ADMIN_IDS"].split(",")[0])
        self.log_path = workdir / f"{name}.log"  # several instances may share a workdir
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self) -> None:
        """Start the bot and return once it says it is up (its first scan is under way)."""
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "bot", self.command],
                cwd=self.workdir,
                env={**self.env, "PYTHONPATH": str(REPO)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_for_log("bot started", timeout=START_TIMEOUT)

    def wait_for_log(self, text: str, timeout: float = 30.0) -> str:
        """Poll this run's log until `text` appears; fail with the log if the bot dies first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            if text in log:
                return log
            if self._process is not None and self._process.poll() is not None:
                raise AssertionError(f"the bot exited ({self._process.returncode}):\n{log}")
            time.sleep(0.05)  # polling interval
        raise AssertionError(f"{text!r} not in the bot's log within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode("utf-8", errors="replace")

    def stop(self) -> int | None:
        """SIGTERM, as a process manager would; the bot finishes its sends and exits."""
        if self._process is None or self._process.poll() is not None:
            return self._process.returncode if self._process else None
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            raise AssertionError(f"the bot did not stop on SIGTERM:\n{self.log()}") from None

    def kill(self) -> None:
        """SIGKILL: a crash, with sends in flight."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None
