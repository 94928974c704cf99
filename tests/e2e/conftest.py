"""Fixtures for end-to-end tests against fakegram, the Telegram Bot API emulator.

    async def test_x(fakegram: Fakegram, ptb_bot: telegram.Bot) -> None: ...

    @pytest.mark.parametrize("fakegram", [("--dead-image-regex", "dead")], indirect=True)
    async def test_y(fakegram: Fakegram) -> None: ...

    def test_z(fakegram_factory: FakegramFactory) -> None:
        fast = fakegram_factory("--rate-scale", "100")

One server per distinct set of options runs for the whole session; every test gets it reset.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path

import pytest
import telegram

from tests.e2e.botproc import REPO, BotProcess, bot_environment
from tests.e2e.harness import Fakegram, FakegramServer, fakegram_script
from tests.storage.postgres import POSTGRES_ENV, fresh_schema


class FakegramFactory:
    """Give a reset fakegram started with the given command-line options."""

    def __init__(self, script: Path, log_dir: Path) -> None:
        self._script = script
        self._log_dir = log_dir
        self._servers: dict[tuple[str, ...], FakegramServer] = {}

    def __call__(self, *options: str) -> Fakegram:
        if not self._script.is_file():
            pytest.skip(
                f"fakegram not found at {self._script} "
                "(set FAKEGRAM_DIR to the directory holding fakegram.py)"
            )
        server = self._servers.get(options)
        if server is None:
            log_dir = self._log_dir / f"server{len(self._servers)}"
            log_dir.mkdir()
            server = self._servers[options] = FakegramServer(self._script, options, log_dir)
        client = Fakegram(server.url, options)
        client.sync.reset()  # a shared server, so each test starts from an empty world
        return client

    def stop_all(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()


@pytest.fixture(scope="session")
def fakegram_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakegramFactory]:
    factory = FakegramFactory(fakegram_script(), tmp_path_factory.mktemp("fakegram"))
    yield factory
    factory.stop_all()


@pytest.fixture
def fakegram(request: pytest.FixtureRequest, fakegram_factory: FakegramFactory) -> Fakegram:
    """A reset fakegram; parametrise indirectly with a sequence of options to change them."""
    options: Sequence[str] = getattr(request, "param", ())
    return fakegram_factory(*options)


@pytest.fixture
async def ptb_bot(fakegram: Fakegram) -> AsyncIterator[telegram.Bot]:
    """An initialised python-telegram-bot Bot talking to `fakegram`."""
    async with fakegram.make_bot() as bot:
        yield bot


@pytest.fixture
def bot_workdir(tmp_path: Path) -> Path:
    """A working directory for the bot under test, with the four real issues in issues/."""
    issues = tmp_path / "issues"
    issues.mkdir()
    for path in (REPO / "issues").glob("*.md"):
        (issues / path.name).write_bytes(path.read_bytes())
    return tmp_path


@pytest.fixture
def bot_factory(fakegram: Fakegram, bot_workdir: Path) -> Iterator[Callable[..., BotProcess]]:
    """Make (not start) bot processes against `fakegram`; overrides set environment variables."""
    made: list[BotProcess] = []

    def make(command: str = "run", name: str = "bot", **overrides: str) -> BotProcess:
        env = bot_environment(fakegram.bot_api_url, bot_workdir, **overrides)
        process = BotProcess(env, bot_workdir, command=command, name=name)
        made.append(process)
        return process

    yield make
    for process in made:
        process.kill()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on TEST_POSTGRES_URL's database for the bot under test (else skip)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL end-to-end tests skipped")
    with fresh_schema(base) as url:
        yield url


@pytest.fixture
def running_bot(bot_factory: Callable[..., BotProcess]) -> Iterator[BotProcess]:
    """The real bot, started and past its first scan of the four real issues."""
    process = bot_factory()
    process.start()
    process.wait_for_log("scan done")
    yield process
    process.stop()
