"""Helpers for bots in webhook mode: ports, and updates posted as Telegram would."""

from __future__ import annotations

import itertools
import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.e2e.botproc import BotProcess

WEBHOOK_SECRET = "test-secret_42"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Far above fakegram's own update ids, so the two never meet in one bot's eyes.
_update_ids = itertools.count(9_000_000)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_address(bot: BotProcess) -> str:
    """Where this instance itself listens: its PORT and WEBHOOK_URL's path."""
    path = urlsplit(bot.env["WEBHOOK_URL"]).path
    return f"http://127.0.0.1:{bot.env['PORT']}{path}"


def command_update(user_id: int, text: str) -> dict[str, object]:
    """A private-chat message carrying a command, as Telegram posts it."""
    command = text.split()[0]
    user = {"id": user_id, "is_bot": False, "first_name": "Tester", "language_code": "zh"}
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Tester"},
            "from": user,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


async def post_update(
    bot: BotProcess, secret: str | None, *, user_id: int, text: str
) -> httpx.Response:
    """POST an update straight to the instance, as a load balancer would route it."""
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(
            webhook_address(bot), json=command_update(user_id, text), headers=headers
        )
