"""Webhook mode: Telegram (fakegram) posts updates to `python -m bot webhook`, with a secret."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.e2e.botproc import REPO, BotProcess
from tests.e2e.harness import Fakegram
from tests.e2e.webhooks import WEBHOOK_SECRET, free_port, post_update

pytestmark = pytest.mark.e2e

USER = 777


def _webhook_bot(bot_factory: Callable[..., BotProcess], **overrides: str) -> BotProcess:
    port = free_port()
    settings = {
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "PORT": str(port),
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        **overrides,
    }
    return bot_factory("webhook", **settings)


async def test_updates_arrive_by_webhook_and_a_wrong_secret_is_refused(
    fakegram: Fakegram, bot_factory: Callable[..., BotProcess]
) -> None:
    bot = _webhook_bot(bot_factory)
    bot.start()
    async with fakegram.make_bot() as client:
        info = await client.get_webhook_info()
    assert info.url == bot.env["WEBHOOK_URL"]

    await fakegram.open_private_chat(USER, "en")  # fakegram posts the /start update
    (greeting,) = await fakegram.wait_for_messages(1, chat_id=USER, timeout=20)
    assert "/subscribe" in greeting["text"]

    for secret in ("wrong-secret", None):  # a wrong header, and none at all
        answer = await post_update(bot, secret, user_id=USER, text="/subscribe")
        assert answer.status_code == 403, (secret, answer.text)
    answer = await post_update(bot, WEBHOOK_SECRET, user_id=USER, text="/subscriptions")
    assert answer.status_code == 200
    await fakegram.wait_for_messages(2, chat_id=USER)
    assert len(await fakegram.messages(chat_id=USER)) == 2  # the refused /subscribe did nothing
    bot.stop()


def _start_webhook(bot: BotProcess) -> subprocess.CompletedProcess[str]:
    """`python -m bot webhook` with the bot's settings, expected to end at start."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "webhook"],
        cwd=bot.workdir,
        env={**bot.env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("missing", "message"),
    [("WEBHOOK_SECRET", "WEBHOOK_SECRET is not set"), ("WEBHOOK_URL", "WEBHOOK_URL is not set")],
)
def test_webhook_mode_without_its_settings_is_a_one_line_error(
    fakegram: Fakegram, bot_factory: Callable[..., BotProcess], missing: str, message: str
) -> None:
    bot = _webhook_bot(bot_factory, **{missing: ""})
    result = _start_webhook(bot)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {message}; set it to")
    assert "Traceback" not in result.stderr


def test_a_webhook_port_in_use_is_one_line(
    fakegram: Fakegram, bot_factory: Callable[..., BotProcess]
) -> None:
    bot = _webhook_bot(bot_factory)
    port = bot.env["PORT"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(port)))
        taken.listen()
        result = _start_webhook(bot)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot listen for webhooks on 127.0.0.1:{port} (WEBHOOK_LISTEN, PORT): "
        "Address already in use"
    )
    # The sender started before the server failed, and stopped with it
    assert "Traceback" not in result.stderr
    assert "ERROR" not in result.stderr
