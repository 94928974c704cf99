"""send() against fakegram: what the reader actually sees for each kind of message."""

from __future__ import annotations

import json

import pytest
import telegram

from bot.content.types import Image, MessageKind, OutgoingMessage
from bot.delivery.send import send
from tests.e2e.harness import Fakegram

pytestmark = pytest.mark.e2e

USER = 1001
PHOTO_URL = "https://img.example.com/a.png"
GIF_URL = "https://mmbiz.qpic.cn/x/640?wx_fmt=gif"
DEAD = ("--dead-image-regex", r"dead\.example\.com")


async def test_text_is_html_without_link_preview(fakegram: Fakegram, ptb_bot: telegram.Bot) -> None:
    chat = await fakegram.open_private_chat(USER)
    message = OutgoingMessage(
        MessageKind.TEXT,
        '<b>1. 标题</b> | 机器之心\n<a href="https://example.com/a">原文</a> &lt;center&gt;',
    )

    ids = await send(ptb_bot, chat, message)

    (seen,) = await fakegram.messages(chat)
    assert ids == [seen["message_id"]]
    assert seen["method"] == "sendMessage"
    assert seen["text"] == "1. 标题 | 机器之心\n原文 <center>"
    assert {e["type"] for e in seen["entities"]} == {"bold", "text_link"}
    # fakegram keeps raw parameters as the Bot API server does: as text
    assert json.loads(seen["params"]["link_preview_options"]) == {"is_disabled": True}


async def test_photo_with_caption(fakegram: Fakegram, ptb_bot: telegram.Bot) -> None:
    chat = await fakegram.open_private_chat(USER)
    message = OutgoingMessage(MessageKind.PHOTO, "<b>标题</b>\n正文", media=(Image(PHOTO_URL),))

    ids = await send(ptb_bot, chat, message)

    (seen,) = await fakegram.messages(chat)
    assert ids == [seen["message_id"]]
    assert seen["method"] == "sendPhoto"
    assert seen["text"] == "标题\n正文"
    assert [(m["type"], m["url"]) for m in seen["media"]] == [("photo", PHOTO_URL)]


async def test_album_of_three_has_caption_on_first(
    fakegram: Fakegram, ptb_bot: telegram.Bot
) -> None:
    chat = await fakegram.open_private_chat(USER)
    urls = [f"https://img.example.com/{n}.jpg" for n in range(3)]
    message = OutgoingMessage(
        MessageKind.ALBUM, "<i>三张图</i>", media=tuple(Image(u) for u in urls)
    )

    ids = await send(ptb_bot, chat, message)

    seen = await fakegram.messages(chat)
    assert ids == [s["message_id"] for s in seen]
    assert len(seen) == 3  # one record per album item
    assert {s["method"] for s in seen} == {"sendMediaGroup"}
    assert [s["media"][0]["url"] for s in seen] == urls
    assert [s["text"] for s in seen] == ["三张图", "", ""]
    group_ids = {s["media_group_id"] for s in seen}
    assert len(group_ids) == 1
    assert None not in group_ids


async def test_animation(fakegram: Fakegram, ptb_bot: telegram.Bot) -> None:
    chat = await fakegram.open_private_chat(USER)
    message = OutgoingMessage(
        MessageKind.ANIMATION, "动图", media=(Image(GIF_URL, is_animation=True),)
    )

    ids = await send(ptb_bot, chat, message)

    (seen,) = await fakegram.messages(chat)
    assert ids == [seen["message_id"]]
    assert seen["method"] == "sendAnimation"
    assert seen["text"] == "动图"
    assert seen["media"][0]["type"] == "animation"


@pytest.mark.parametrize("fakegram", [DEAD], indirect=True)
@pytest.mark.parametrize("kind", [MessageKind.PHOTO, MessageKind.ANIMATION, MessageKind.ALBUM])
async def test_dead_image_falls_back_to_text_with_link(
    fakegram: Fakegram, ptb_bot: telegram.Bot, kind: MessageKind
) -> None:
    chat = await fakegram.open_private_chat(USER)
    dead = "https://dead.example.com/gone.png"
    # In an album one dead image is enough for Telegram to refuse the whole album.
    media = (Image(PHOTO_URL), Image(dead)) if kind is MessageKind.ALBUM else (Image(dead),)
    message = OutgoingMessage(
        kind,
        "<b>标题</b>",
        media=media,
        fallback_text=f'<b>标题</b>\n<a href="{dead}">图片</a>',
    )

    ids = await send(ptb_bot, chat, message)

    (seen,) = await fakegram.messages(chat)
    assert ids == [seen["message_id"]]
    assert seen["method"] == "sendMessage"
    assert seen["text"] == "标题\n图片"
    assert {"type": "text_link", "offset": 3, "length": 2, "url": dead} in seen["entities"]
    stats = await fakegram.stats()
    assert stats["errors_per_description"] == {"Bad Request: failed to get HTTP URL content": 1}


@pytest.mark.parametrize("fakegram", [DEAD], indirect=True)
async def test_dead_image_without_fallback_text_still_links_the_image(
    fakegram: Fakegram, ptb_bot: telegram.Bot
) -> None:
    chat = await fakegram.open_private_chat(USER)
    dead = "https://dead.example.com/gone.png?a=1&b=2"
    message = OutgoingMessage(MessageKind.PHOTO, "<b>标题</b>", media=(Image(dead),))

    await send(ptb_bot, chat, message)

    (seen,) = await fakegram.messages(chat)
    assert seen["text"] == f"标题\n\n{dead}"
    assert any(e.get("url") == dead for e in seen["entities"])


async def test_non_web_image_url_is_never_handed_to_ptb(
    fakegram: Fakegram, ptb_bot: telegram.Bot
) -> None:
    # PTB would upload a string naming a local file; this one exists on every machine.
    chat = await fakegram.open_private_chat(USER)
    message = OutgoingMessage(
        MessageKind.PHOTO, "标题", media=(Image(__file__),), fallback_text="标题（图片缺失）"
    )

    await send(ptb_bot, chat, message)

    (seen,) = await fakegram.messages(chat)
    assert (seen["method"], seen["text"]) == ("sendMessage", "标题（图片缺失）")
    assert (await fakegram.stats())["requests_per_method"].get("sendPhoto") is None


async def test_other_errors_are_raised_for_the_delivery_loop(
    fakegram: Fakegram, ptb_bot: telegram.Bot
) -> None:
    chat = await fakegram.open_private_chat(USER)
    await fakegram.block(USER)

    with pytest.raises(telegram.error.Forbidden, match="bot was blocked by the user"):
        await send(ptb_bot, chat, OutgoingMessage(MessageKind.TEXT, "hi"))
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)can't parse entities"):
        await send(ptb_bot, chat, OutgoingMessage(MessageKind.TEXT, "<center>x</center>"))
