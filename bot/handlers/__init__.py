"""Telegram handlers, split by audience, and the one place that registers them.

user.py      reader commands about this chat (/start, /subscribe…)
archive.py   reader commands about the archive (/latest, /issues, /search) and its buttons
inline.py    inline mode: `@botname words` in any chat, to share the archive's items
admin.py     editor commands and uploads, behind one access check
chats.py     the bot's own membership: blocked, kicked, re-added, migrated
errors.py    the error handler
texts.py, keyboards.py, views.py   pure: UI texts, buttons, argument parsing, message texts
"""

from __future__ import annotations

import telegram
from telegram import BotCommand, Message
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.handlers import admin, archive, chats, errors, inline, user
from bot.handlers.texts import EN, USER_COMMANDS, ZH, Texts
from bot.handlers.views import command_addressee

__all__ = ["register_handlers", "set_commands"]


def register_handlers(app: Application) -> None:
    """Add every handler to `app`, in order: the first matching handler in a group wins."""
    # Edited messages are ignored everywhere: editing a command must not run it again.
    new_messages = filters.UpdateType.MESSAGE

    # 1. The bot's own membership and group migrations come first: they change who gets what,
    #    and they are not commands, so nothing below would take them.
    app.add_handler(ChatMemberHandler(chats.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, chats.migration))

    # 2. Editor commands and uploads, each wrapped in the one admin check.
    for handler in admin.admin_handlers():
        app.add_handler(handler)

    # 3. Reader commands (also as /cmd@botname in groups: CommandHandler checks the name).
    readers = {
        "start": user.start,
        "help": user.help_command,
        "subscribe": user.subscribe,
        "unsubscribe": user.unsubscribe,
        "subscriptions": user.subscriptions,
        "latest": archive.latest,
        "issues": archive.issues,
        "issue": archive.issue,
        "search": archive.search,
    }
    for name, callback in readers.items():
        app.add_handler(CommandHandler(name, callback, filters=new_messages))

    # Plain text in a private chat searches the archive (in groups people talk to each other).
    # Not an inline answer posted here (`@botname GPT` typed in this chat, as the help says
    # works in any): that is an item the reader picked, not words to look for.
    typed = (
        filters.TEXT & ~filters.COMMAND & ~filters.VIA_BOT & filters.ChatType.PRIVATE & new_messages
    )
    app.add_handler(MessageHandler(typed, archive.text_search))

    # 4. Inline buttons (issues, search pages, subscriptions); every callback query is
    # answered there.
    app.add_handler(CallbackQueryHandler(archive.button))
    # `@botname words` in any chat: the archive's items to post there.
    app.add_handler(InlineQueryHandler(inline.inline_search))

    # 5. Last: an unknown command in a private chat gets a pointer to /help. In groups a
    #    plain /foo may be another bot's, so only /foo@botname (ours by name) gets one.
    ours = filters.ChatType.PRIVATE | _AddressedToThisBot()
    unknown = filters.COMMAND & ours & new_messages
    app.add_handler(MessageHandler(unknown, user.unknown_command))

    app.add_error_handler(errors.on_error)


class _AddressedToThisBot(filters.MessageFilter):
    """A command that names this bot: `/foo@botname` (Telegram usernames ignore case)."""

    __slots__ = ()

    def filter(self, message: Message) -> bool:
        addressee = command_addressee(message.text or "")
        username = message.get_bot().username
        return addressee is not None and addressee.casefold() == username.casefold()


def bot_commands(t: Texts) -> list[BotCommand]:
    """The command menu in one language: reader commands only."""
    return [BotCommand(name, t.commands[name]) for name in USER_COMMANDS]


async def set_commands(bot: telegram.Bot) -> None:
    """Set the command menu: English by default, Chinese for `zh` users."""
    await bot.set_my_commands(bot_commands(EN))
    await bot.set_my_commands(bot_commands(ZH), language_code="zh")
