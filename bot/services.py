"""What the Telegram handlers may ask of the bot: one object, stored in
`application.bot_data["services"]`, so handlers never reach for globals or build engines."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import storage
from bot.config import Settings

if TYPE_CHECKING:
    from bot.delivery.broadcast import NoticeOutcome
    from bot.delivery.sender import Sender
    from bot.ingest import ScanReport


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sender: Sender
    # One scan at a time: the scheduled job and /reload may overlap.
    scan_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends without an error."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    def is_admin(self, user_id: int | None) -> bool:
        return self.settings.is_admin(user_id)

    def request_messages(
        self, chat_id: int, issue_id: str, item_numbers: Collection[int] | None = None
    ) -> int:
        """Queue an issue (or only some of its items) for one chat, even if sent before, and
        wake the sender. Returns how many messages were queued; KeyError for an unknown issue."""
        from bot.delivery.broadcast import request_for_chat

        with self.session() as session:
            queued = request_for_chat(session, chat_id, issue_id, item_numbers)
        self.sender.wake()
        return queued

    async def scan(self) -> ScanReport:
        """Scan ISSUES_DIR now: store new or changed files, broadcast new issues (or leave them
        for PUBLISH_CRON). The scheduled job and /reload both come here."""
        from bot.ingest import scan_and_publish

        return await scan_and_publish(self)

    def push(self, issue_id: str) -> int:
        """Broadcast an issue to every subscriber now; returns deliveries queued (KeyError when
        the issue is unknown). Chats that already got a message are not sent it again."""
        from bot.delivery.broadcast import broadcast_issue

        with self.session() as session:
            queued = broadcast_issue(session, issue_id)
        self.sender.wake()
        return queued

    def draft_notice(self, text: str) -> tuple[int | None, int]:
        """Store a notice (Telegram HTML, already escaped) for an admin to confirm; returns
        its id and how many chats would get it now. No chat to get it: no draft, id None."""
        from bot.delivery.broadcast import draft_notice

        with self.session() as session:
            chats = len(storage.subscribed_chats(session))
            return (draft_notice(session, text) if chats else None), chats

    def confirm_notice(self, notice_id: int, *, send: bool) -> NoticeOutcome:
        """Send a drafted notice to every active subscribed chat, or drop the draft (see
        bot.delivery.broadcast.confirm_notice)."""
        from bot.delivery.broadcast import confirm_notice

        with self.session() as session:
            outcome = confirm_notice(session, notice_id, send=send)
        if outcome.queued:
            self.sender.wake()
        return outcome

    async def accept_upload(self, file_name: str, data: bytes) -> ScanReport:
        """An admin sent an issue file: validate it (FileProblem with a one-line reason when it
        is not an issue), save it into ISSUES_DIR, and treat it like a dropped file."""
        from bot.ingest import accept_upload

        return await accept_upload(self, file_name, data)
