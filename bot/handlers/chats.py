"""The bot's own membership: blocked, kicked, added back, and groups becoming supergroups."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import storage
from bot.handlers.common import inline_name, services_of
from bot.handlers.keyboards import greeting_keyboard
from bot.handlers.texts import texts_for
from bot.handlers.views import display_name, help_text
from bot.logs import error_summary

log = logging.getLogger(__name__)

_PRESENT = {ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER}
_GREETED = {ChatType.GROUP, ChatType.SUPERGROUP}
# When a group becomes a supergroup, Telegram reports the bot joining the supergroup as well,
# in no fixed order with the migration messages. A supergroup new to the bot is greeted after
# this many seconds, and only if no group it knows became that supergroup meanwhile.
MIGRATION_GRACE = 3.0


def is_present(member: ChatMember) -> bool:
    """Whether the bot can be written to / write there with this status."""
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in _PRESENT


def removal_reason(change: ChatMemberUpdated) -> str | None:
    """Why the bot can no longer write to the chat, or None when it still can."""
    if is_present(change.new_chat_member):
        return None
    if change.chat.type == ChatType.PRIVATE:
        return "bot was blocked by the user"
    if change.new_chat_member.status == ChatMember.BANNED:
        return f"bot was removed from the {change.chat.type}"
    return f"bot left the {change.chat.type}"


async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deactivate the chat when the bot is blocked or removed; reactivate it when it is back,
    and say hello in a group it joins (a private chat is greeted by its /start)."""
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    reason = removal_reason(change)
    greet = False
    with services_of(context).session() as session:
        if reason is not None:
            dropped = storage.deactivate_chat(session, chat.id, reason)
            log.info("chat deactivated chat=%s reason=%r dropped=%d", chat.id, reason, dropped)
        elif not is_present(change.old_chat_member):
            # A group new to the bot (not one re-added, nor a supergroup it became) is told
            # what the bot does; channels take no commands, private chats have their /start.
            greet = chat.type in _GREETED and storage.get_chat(session, chat.id) is None
            storage.upsert_chat(
                session,
                chat.id,
                chat_type=chat.type,
                title=chat.title or chat.full_name,
                language_code=change.from_user.language_code,
            )
            if storage.reactivate_chat(session, chat.id):
                log.info("chat reactivated chat=%s", chat.id)
            else:
                log.info("chat joined chat=%s type=%s", chat.id, chat.type)
    if not greet:
        return
    if chat.type == ChatType.SUPERGROUP and context.job_queue is not None:
        context.job_queue.run_once(
            _greet_unless_migrated, MIGRATION_GRACE, data=change, name=f"greet {chat.id}"
        )
    else:
        await _greet(context, change)


async def _greet_unless_migrated(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet a supergroup that did not come from a group the bot was in (already greeted)."""
    assert context.job is not None  # run as a job only
    change = context.job.data
    assert isinstance(change, ChatMemberUpdated)  # as `membership` scheduled it
    with services_of(context).session() as session:
        group = storage.migrated_into(session, change.chat.id)
    if group is None:
        await _greet(context, change)
    else:
        log.info("no greeting chat=%s reason=%r", change.chat.id, f"it was the group {group}")


async def _greet(context: ContextTypes.DEFAULT_TYPE, change: ChatMemberUpdated) -> None:
    """What the bot does and how to subscribe (a button does it), in the language of whoever
    added it."""
    t = texts_for(change.from_user.language_code)
    name = display_name(None, change.chat.title)
    text = help_text(t, name=name, bot_name=inline_name(context.bot))
    try:
        await context.bot.send_message(change.chat.id, text, reply_markup=greeting_keyboard(t))
    except TelegramError as error:  # added without the right to write, say: no greeting then
        log.info("no greeting chat=%s reason=%r", change.chat.id, error_summary(error))


async def migration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move a group's subscriptions to the supergroup it became."""
    message = update.effective_message
    if message is None:
        return
    # Telegram posts both service messages (migrate_to in the old group, migrate_from in the
    # new supergroup); either may arrive alone, and migrating twice changes nothing.
    if message.migrate_to_chat_id:
        old_id, new_id = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old_id, new_id = message.migrate_from_chat_id, message.chat.id
    else:
        return
    with services_of(context).session() as session:
        storage.migrate_chat(session, old_id, new_id)
    log.info("chat migrated old=%s new=%s", old_id, new_id)
