"""Start fakegram (the Telegram Bot API emulator) and drive it through its `/_test/` API.

The server runs as a child process on a free port. `FakegramServer` owns the process;
`Fakegram` is what a test gets: the Bot API URL to point python-telegram-bot at, async
methods for the test API (PTB is async, so most e2e tests are too) and `.sync` for the
same calls from plain functions.
"""

from __future__ import annotations

import asyncio
import base64
import os
import queue
import re
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TypedDict

import httpx
from telegram import Bot
from telegram.request import HTTPXRequest

REPO_ROOT = Path(__file__).resolve().parents[2]
# In CI the repository is a fresh clone with shared/ beside it.
DEFAULT_FAKEGRAM_DIR = REPO_ROOT.parent / "shared" / "fakegram"
BOT_TOKEN = "123456:TEST-TOKEN"
START_TIMEOUT = 20.0
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
# The tests make a client per call; each would build its own TLS context (httpx's default),
# ~65 ms of CPU, though fakegram speaks plain HTTP: 300 readers took 25 s to set up.
_TLS_CONTEXT = ssl.create_default_context()


def fakegram_script() -> Path:
    """Where fakegram.py should be: `$FAKEGRAM_DIR` or `<repo>/../shared/fakegram`."""
    directory = os.environ.get("FAKEGRAM_DIR")
    return (Path(directory) if directory else DEFAULT_FAKEGRAM_DIR) / "fakegram.py"


# ---------------------------------------------------------------- records of the test API


class MediaRef(TypedDict):
    type: str  # photo, animation, document…
    file_id: str
    file_unique_id: str
    source: Literal["url", "upload", "file_id"]
    url: str | None
    file_name: str | None


class SentMessage(TypedDict):
    """One message the bot sent, as `/_test/messages` records it (an album gives one per item)."""

    seq: int
    message_id: int
    chat_id: int
    method: str
    text: str  # text or caption after parsing and trimming: what the user reads
    entities: list[dict[str, Any]]
    media: list[MediaRef]
    reply_markup: dict[str, Any] | None
    media_group_id: str | None
    params: dict[str, Any]
    time: float
    edits: list[dict[str, Any]]
    deleted: bool


class Stats(TypedDict):
    requests_per_method: dict[str, int]
    errors_per_description: dict[str, int]
    count_429: int
    flood_violations: list[dict[str, Any]]
    max_messages_in_1s_window: int
    min_gap_between_sends_per_chat: dict[str, float]
    total_delivered: int
    send_calls_delivered: int
    duplicates_suspected: int
    duplicates: list[dict[str, Any]]
    faults: dict[str, Any]


class TestApiError(RuntimeError):
    """fakegram refused a `/_test/` request (a mistake in the test, not in the bot)."""

    __test__ = False  # not a test class, despite the name


@dataclass(frozen=True)
class _Call:
    http_method: Literal["GET", "POST"]
    action: str
    body: dict[str, Any] = field(default_factory=dict)


def _unwrap(response: httpx.Response, call: _Call) -> Any:
    payload = response.json()
    if not payload.get("ok"):
        raise TestApiError(f"{call.http_method} /_test/{call.action}: {payload.get('error')}")
    return payload["result"]


# One builder per endpoint, shared by the async and the sync client.


def _user(user_id: int, first_name: str, language_code: str, username: str | None) -> _Call:
    body: dict[str, Any] = {"id": user_id, "first_name": first_name, "language_code": language_code}
    if username is not None:
        body["username"] = username
    return _Call("POST", "users", body)


def _send(user_id: int, text: str, chat_id: int | None, reply_to: int | None) -> _Call:
    body: dict[str, Any] = {"user_id": user_id, "text": text}
    if chat_id is not None:
        body["chat_id"] = chat_id
    if reply_to is not None:
        body["reply_to_message_id"] = reply_to
    return _Call("POST", "send", body)


def _document(
    user_id: int, file_name: str, content: bytes, caption: str | None, chat_id: int | None
) -> _Call:
    body: dict[str, Any] = {
        "user_id": user_id,
        "file_name": file_name,
        "content_base64": base64.b64encode(content).decode(),
    }
    if caption is not None:
        body["caption"] = caption
    if chat_id is not None:
        body["chat_id"] = chat_id
    return _Call("POST", "send_document", body)


def _callback(
    user_id: int, message_id: int, data: str, chat_id: int | None, force: bool = False
) -> _Call:
    body: dict[str, Any] = {"user_id": user_id, "message_id": message_id, "data": data}
    if chat_id is not None:
        body["chat_id"] = chat_id
    if force:
        body["force"] = True
    return _Call("POST", "callback", body)


def _group(
    chat_id: int,
    members: Sequence[int],
    title: str,
    chat_type: str,
    bot_member: bool,
    admins: Sequence[int],
    creator: int | None,
) -> _Call:
    body = {
        "id": chat_id,
        "title": title,
        "type": chat_type,
        "members": list(members),
        "bot_member": bot_member,
        "admins": list(admins),  # members too
        "creator": creator,
    }
    return _Call("POST", "groups", body)


def _messages(chat_id: int | None, since: int) -> _Call:
    body: dict[str, Any] = {"since": since}
    if chat_id is not None:
        body["chat_id"] = chat_id
    return _Call("GET", "messages", body)


class AsyncTestApi:
    """The `/_test/` API, awaitable. A fresh connection per call, so it works in any event loop."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url

    async def _run(self, call: _Call) -> Any:
        async with httpx.AsyncClient(
            base_url=self._base_url, timeout=30, verify=_TLS_CONTEXT
        ) as client:
            if call.http_method == "GET":
                response = await client.get(f"/_test/{call.action}", params=call.body)
            else:
                response = await client.post(f"/_test/{call.action}", json=call.body)
        return _unwrap(response, call)

    async def create_user(
        self,
        user_id: int,
        first_name: str = "Tester",
        language_code: str = "en",
        username: str | None = None,
    ) -> dict[str, Any]:
        return await self._run(_user(user_id, first_name, language_code, username))

    async def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, reply_to: int | None = None
    ) -> dict[str, Any]:
        """The user writes `text`; returns the update (private chat unless `chat_id`)."""
        return await self._run(_send(user_id, text, chat_id, reply_to))

    async def open_private_chat(self, user_id: int, language_code: str = "en") -> int:
        """Create the user and have them /start the bot, so the bot may write to them."""
        await self.create_user(user_id, language_code=language_code)
        await self.send_text(user_id, "/start")
        return user_id  # a private chat's id is the user's id

    async def press_button(
        self,
        user_id: int,
        message_id: int,
        data: str,
        chat_id: int | None = None,
        force: bool = False,
    ) -> dict[str, Any]:
        """The user taps a button; `force`: one the message no longer shows (a tap sent just
        before the bot removed it, or a forged one)."""
        return await self._run(_callback(user_id, message_id, data, chat_id, force))

    async def inline_query(self, user_id: int, query: str, offset: str = "") -> dict[str, Any]:
        """The user types `@bot query` in some chat; returns the update."""
        body = {"user_id": user_id, "query": query, "offset": offset}
        return await self._run(_Call("POST", "inline", body))

    async def send_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        call = _document(user_id, file_name, content, caption, chat_id)
        return await self._run(call)

    async def block(self, user_id: int, blocked: bool = True) -> dict[str, Any]:
        return await self._run(_Call("POST", "block", {"user_id": user_id, "blocked": blocked}))

    async def create_group(
        self,
        chat_id: int,
        members: Sequence[int],
        title: str = "Test group",
        chat_type: Literal["group", "supergroup", "channel"] = "group",
        bot_member: bool = True,
        admins: Sequence[int] = (),
        creator: int | None = None,
    ) -> dict[str, Any]:
        """A group of `members`; `admins` and the `creator` may change its subscriptions."""
        call = _group(chat_id, members, title, chat_type, bot_member, admins, creator)
        return await self._run(call)

    async def migrate(self, chat_id: int, new_chat_id: int) -> dict[str, Any]:
        call = _Call("POST", "migrate", {"chat_id": chat_id, "new_chat_id": new_chat_id})
        return await self._run(call)

    async def messages(self, chat_id: int | None = None, since: int = 0) -> list[SentMessage]:
        """Every message the bot sent (to `chat_id`, if given) after sequence number `since`."""
        return await self._run(_messages(chat_id, since))

    async def wait_for_messages(
        self,
        count: int,
        chat_id: int | None = None,
        since: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 -- the deadline goes into the failure message
    ) -> list[SentMessage]:
        """Poll until the bot has sent at least `count` messages; for bots that answer updates."""
        deadline = time.monotonic() + timeout
        while True:
            found = await self.messages(chat_id, since)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} messages in chat {chat_id} within {timeout} s, "
                    f"got {len(found)}"
                )
            await asyncio.sleep(0.05)  # polling interval, not a synchronisation guess

    async def stats(self) -> Stats:
        return await self._run(_Call("GET", "stats"))

    async def updates(self) -> list[dict[str, Any]]:
        return await self._run(_Call("GET", "updates"))

    async def answers(self) -> dict[str, Any]:
        return await self._run(_Call("GET", "answers"))

    async def reset(self) -> None:
        await self._run(_Call("POST", "reset"))


class SyncTestApi:
    """The same `/_test/` API for plain (non-async) code."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url

    def _run(self, call: _Call) -> Any:
        with httpx.Client(base_url=self._base_url, timeout=30, verify=_TLS_CONTEXT) as client:
            if call.http_method == "GET":
                response = client.get(f"/_test/{call.action}", params=call.body)
            else:
                response = client.post(f"/_test/{call.action}", json=call.body)
        return _unwrap(response, call)

    def create_user(
        self,
        user_id: int,
        first_name: str = "Tester",
        language_code: str = "en",
        username: str | None = None,
    ) -> dict[str, Any]:
        return self._run(_user(user_id, first_name, language_code, username))

    def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, reply_to: int | None = None
    ) -> dict[str, Any]:
        return self._run(_send(user_id, text, chat_id, reply_to))

    def open_private_chat(self, user_id: int, language_code: str = "en") -> int:
        self.create_user(user_id, language_code=language_code)
        self.send_text(user_id, "/start")
        return user_id

    def press_button(
        self, user_id: int, message_id: int, data: str, chat_id: int | None = None
    ) -> dict[str, Any]:
        return self._run(_callback(user_id, message_id, data, chat_id))

    def send_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        return self._run(_document(user_id, file_name, content, caption, chat_id))

    def block(self, user_id: int, blocked: bool = True) -> dict[str, Any]:
        return self._run(_Call("POST", "block", {"user_id": user_id, "blocked": blocked}))

    def create_group(
        self,
        chat_id: int,
        members: Sequence[int],
        title: str = "Test group",
        chat_type: Literal["group", "supergroup", "channel"] = "group",
        bot_member: bool = True,
        admins: Sequence[int] = (),
        creator: int | None = None,
    ) -> dict[str, Any]:
        return self._run(_group(chat_id, members, title, chat_type, bot_member, admins, creator))

    def migrate(self, chat_id: int, new_chat_id: int) -> dict[str, Any]:
        call = _Call("POST", "migrate", {"chat_id": chat_id, "new_chat_id": new_chat_id})
        return self._run(call)

    def messages(self, chat_id: int | None = None, since: int = 0) -> list[SentMessage]:
        return self._run(_messages(chat_id, since))

    def stats(self) -> Stats:
        return self._run(_Call("GET", "stats"))

    def updates(self) -> list[dict[str, Any]]:
        return self._run(_Call("GET", "updates"))

    def answers(self) -> dict[str, Any]:
        return self._run(_Call("GET", "answers"))

    def reset(self) -> None:
        self._run(_Call("POST", "reset"))


class Fakegram(AsyncTestApi):
    """A running fakegram as a test sees it: URLs for the bot, the test API (async; `.sync`)."""

    def __init__(self, url: str, options: tuple[str, ...]) -> None:
        super().__init__(url)
        self.url = url  # http://127.0.0.1:PORT
        self.options = options
        self.bot_api_url = f"{url}/bot"  # python-telegram-bot's base_url / TELEGRAM_API_URL
        self.file_api_url = f"{url}/file/bot"  # base_file_url, for bots that download files
        self.sync = SyncTestApi(url)

    def make_bot(self, token: str = BOT_TOKEN) -> Bot:
        """A PTB Bot pointed here, with timeouts long enough that a slow answer is not a failure."""
        return Bot(
            token,
            base_url=self.bot_api_url,
            base_file_url=self.file_api_url,
            request=make_request(),
        )


def make_request() -> HTTPXRequest:
    # SPEC §4: read timeouts ≥ 20 s, so a slow answer is not retried and sent twice.
    return HTTPXRequest(
        connection_pool_size=16,
        read_timeout=30.0,
        write_timeout=30.0,
        connect_timeout=10.0,
        pool_timeout=10.0,
        media_write_timeout=30.0,
    )


# ---------------------------------------------------------------- the process


class FakegramServer:
    """One fakegram child process: started with some options, stopped at the end of the session."""

    def __init__(self, script: Path, options: Sequence[str], log_dir: Path) -> None:
        self.options = tuple(options)
        self.stderr_path = log_dir / "fakegram.stderr"
        with self.stderr_path.open("wb") as stderr:
            self._process = subprocess.Popen(
                [sys.executable, str(script), "--port", "0", *self.options],
                stdout=subprocess.PIPE,
                stderr=stderr,  # a file, so a chatty server can never fill a pipe and hang
                text=True,
            )
        self.url = self._wait_until_listening()

    def _wait_until_listening(self) -> str:
        """Read stdout until the 'listening on' line, without blocking past the deadline."""
        assert self._process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        # readline() blocks, so a daemon thread reads and the deadline is kept here.
        self._reader = threading.Thread(
            target=_pump_lines, args=(self._process.stdout, lines.put), daemon=True
        )
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line == "":  # EOF: the process died
                break
            if match := _LISTENING.search(line):
                return match.group(1)
        self.stop()
        raise RuntimeError(
            f"fakegram {' '.join(self.options) or '(default options)'} did not start "
            f"(exit code {self._process.returncode}):\n{self.stderr_tail()}"
        )

    def stderr_tail(self, lines: int = 30) -> str:
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (fakegram shuts down cleanly on it); kill only if it hangs."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        # The reader sees EOF once the process is gone; close the pipe only after it has.
        self._reader.join(timeout=5)
        if self._process.stdout is not None and not self._reader.is_alive():
            self._process.stdout.close()


def _pump_lines(stream: IO[str], put: Callable[[str], None]) -> None:
    for line in stream:
        put(line)
    put("")  # EOF marker
