"""The delivery loop: drain the outbox, paced under Telegram's limits, losing nothing.

Claim a batch of due deliveries (each chat's next message, interleaved across chats), send them
in the order their chats become ready, and record each outcome. The bot's rate limiter
(`PacerRateLimiter`) holds every request until its slot. Many sends are in flight at once (the
rate, not the round trip, is the limit), but never two for one chat, so a chat's messages
arrive in order.

Several instances may share one PostgreSQL database: each runs a Sender, but only the one
holding the sender lock (bot.storage.leader) claims and sends; the others stand by and take
over within about ELECTION_POLL seconds of its death. RATE_LIMIT is Telegram's limit per bot,
so one sender at a time is what keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import telegram
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram.error import TelegramError

from bot import storage
from bot.content.types import OutgoingMessage
from bot.delivery.broadcast import message_for
from bot.delivery.pacing import Pacer
from bot.delivery.send import (
    ChatGone,
    Fatal,
    Migrated,
    Permanent,
    SendFailure,
    Throttled,
    Transient,
    Uncertain,
    classify_error,
    send,
)
from bot.storage.leader import SenderLock
from bot.storage.models import Delivery, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # transient failures before a delivery ends as failed
MAX_BACKOFF = 300.0  # seconds
HOLD_LIMIT = 5.0  # a claimed delivery due later than this goes back to the outbox
IDLE_POLL = 2.0  # seconds between looks at an outbox that seemed empty
PROGRESS_EVERY = 5.0  # seconds between progress lines while sending
ELECTION_POLL = 1.0  # seconds between a standby's tries for the sender lock
HEARTBEAT = 1.0  # seconds between the sender's checks that it still holds the lock
# A new sender waits this long before its first send, so that its first second and the dead
# sender's last one never add up to more than RATE_LIMIT.
TAKEOVER_QUIET = 1.0
# At least this long between claims: a claim ranks every pending row, so one claim per
# finished send (each one wakes the loop) would cost more than the sends themselves.
CLAIM_GAP = 0.05
FATAL_PAUSE = 60.0  # seconds without sends after a bad token or API URL


@dataclass
class _Progress:
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    started: float = field(default_factory=time.monotonic)
    last_report: float = field(default_factory=time.monotonic)


class Sender:
    def __init__(
        self, bot: telegram.Bot, engine: Engine, pacer: Pacer, lock: SenderLock | None = None
    ) -> None:
        self._bot = bot
        self._engine = engine
        self._pacer = pacer
        self._lock = lock if lock is not None else storage.sender_lock(engine)
        self._leading = False
        self._wake = asyncio.Event()
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        # A round claims about two seconds of work; more would only sit leased.
        self._batch = max(10, int(pacer.rate * 2))
        self._slots = asyncio.Semaphore(max(8, int(pacer.rate * 2)))
        self._progress = _Progress()
        self._last_claim = 0.0

    @property
    def is_leader(self) -> bool:
        """Whether this instance is the one sending (scheduled scans run only there too)."""
        return self._leading

    def wake(self) -> None:
        """Something was queued or a chat became free: look at the outbox now."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until `stop`, whenever this instance holds the sender lock; resumes
        whatever a previous sender left in the outbox."""
        try:
            while not self._stopping:
                if await self._elect():
                    await self._lead()
        finally:
            await asyncio.to_thread(self._lock.release)

    async def stop(self) -> None:
        """Stop claiming and wait for the sends under way."""
        self._stopping = True
        self._wake.set()
        if self._in_flight:
            await asyncio.wait(self._in_flight)

    async def _elect(self) -> bool:
        """Wait until this instance holds the sender lock (True) or is stopping (False)."""
        announced = False
        while not self._stopping:
            if await asyncio.to_thread(self._lock.try_acquire):
                return True
            if not announced:
                log.info("sender standing by: another instance sends poll=%.1fs", ELECTION_POLL)
                announced = True
            await self._wait_for_wake(ELECTION_POLL)  # `stop` ends the wait
        return False

    async def _lead(self) -> None:
        """Send while the lock holds; on losing it, stop claiming and finish what is under way."""
        self._leading = True
        self._pacer.pause(time.monotonic() + TAKEOVER_QUIET)
        self._release_stale_leases()
        heartbeat = asyncio.create_task(self._heartbeat(), name="sender-heartbeat")
        try:
            await self._deliver_loop()
        finally:
            heartbeat.cancel()
            self._leading = False
            if self._in_flight:
                await asyncio.wait(self._in_flight)

    def _release_stale_leases(self) -> None:
        """Only the elected sender claims, so every lease still running is a dead sender's."""
        try:
            with Session(self._engine) as session:
                released = storage.release_leases(session)
                session.commit()
        except Exception:  # the leases run out by themselves; sending can start regardless
            log.exception("releasing stale leases failed")
            return
        log.info("sender elected released_leases=%d", released)
        if released:
            log.info("resuming deliveries claimed by a previous run count=%d", released)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                held = await asyncio.to_thread(self._lock.still_held)
            except Exception:  # whatever went wrong, the lock can no longer be vouched for
                log.exception("sender lock check failed")
                held = False
            if not held:
                log.error("sender lock lost; no new sends until elected again")
                self._leading = False
                self._wake.set()
                return

    async def _deliver_loop(self) -> None:
        while self._sending:
            await self._sleep(self._last_claim + CLAIM_GAP - time.monotonic())
            try:
                # Database work runs off the event loop: a stalled loop fires the sends
                # whose slots passed meanwhile all at once, bunching them above the rate.
                claimed = await asyncio.to_thread(self._claim)
            except Exception:  # a database hiccup must not end delivery for good
                log.exception("claiming deliveries failed; retrying")
                claimed = []
            if not claimed:
                await self._idle()
                continue
            await self._dispatch(claimed)

    @property
    def _sending(self) -> bool:
        return self._leading and not self._stopping

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _claim(self) -> list[Delivery]:
        self._last_claim = time.monotonic()
        with Session(self._engine, expire_on_commit=False) as session:
            claimed = storage.claim_pending(session, self._batch)
            session.commit()
        return claimed

    async def _idle(self) -> None:
        progress = self._progress
        self._report_progress(force=bool(progress.sent or progress.failed or progress.uncertain))
        self._progress = _Progress()
        await self._wait_for_wake(IDLE_POLL)

    async def _wait_for_wake(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _dispatch(self, claimed: list[Delivery]) -> None:
        now = time.monotonic()
        claimed.sort(key=lambda d: self._pacer.chat_ready_at(d.chat_id, now))
        for delivery in claimed:
            if not self._sending:  # stopping, or another instance took over
                self._release(delivery, None)
                continue
            ready = self._pacer.chat_ready_at(delivery.chat_id, time.monotonic())
            if ready - time.monotonic() > HOLD_LIMIT:  # a group at its per-minute limit
                self._release(delivery, utcnow() + timedelta(seconds=ready - time.monotonic()))
                continue
            # The slot itself is booked when the request goes out (PacerRateLimiter), where
            # replies to commands book theirs too.
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver(delivery))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        self._report_progress()

    def _release(self, delivery: Delivery, not_before: datetime | None) -> None:
        with Session(self._engine) as session:
            storage.release_lease(session, delivery.id or 0, not_before)
            session.commit()

    async def _deliver(self, delivery: Delivery) -> None:
        try:
            message = await asyncio.to_thread(self._message_for, delivery)
            if message is None:  # the issue file changed meanwhile
                await self._finish_off_loop(delivery, Permanent("message no longer in the issue"))
                return
            try:
                await send(self._bot, delivery.chat_id, message)
            except TelegramError as error:
                await self._finish_off_loop(delivery, classify_error(error))
            else:
                await self._finish_off_loop(delivery, None)
        except Exception:  # one bad delivery must never stop the loop
            log.exception("delivery crashed delivery=%s", delivery.id)
            self._finish(delivery, failure=Transient("internal error"))
        finally:
            self._slots.release()
            self.wake()  # the chat's next message may be claimed now

    def _message_for(self, delivery: Delivery) -> OutgoingMessage | None:
        with Session(self._engine) as session:
            return message_for(session, delivery)

    async def _finish_off_loop(self, delivery: Delivery, failure: SendFailure | None) -> None:
        await asyncio.to_thread(self._finish, delivery, failure=failure)
        if isinstance(failure, Throttled):
            self._pacer.pause(time.monotonic() + failure.seconds)  # the Pacer lives in the loop
        elif isinstance(failure, Fatal):
            self._pacer.pause(time.monotonic() + FATAL_PAUSE)

    def _finish(self, delivery: Delivery, *, failure: SendFailure | None) -> None:
        delivery_id = delivery.id or 0
        with Session(self._engine) as session:
            if failure is None:
                storage.mark_sent(session, delivery_id)
                self._progress.sent += 1
            else:
                self._record_failure(session, delivery, failure)
            session.commit()

    def _record_failure(self, session: Session, delivery: Delivery, failure: SendFailure) -> None:
        delivery_id, chat_id = delivery.id or 0, delivery.chat_id
        what = f"issue={delivery.issue_id}" if delivery.notice_id is None else "notice"
        context = f"chat={chat_id} {what} index={delivery.message_index}"
        match failure:
            case Throttled(seconds):
                log.warning("flood limit hit, waiting %s retry_after=%.1f", context, seconds)
                retry_at = utcnow() + timedelta(seconds=seconds)
                storage.mark_failed(session, delivery_id, "429", retry_at=retry_at)
            case Transient(reason) if delivery.attempts < MAX_ATTEMPTS:
                delay = min(MAX_BACKOFF, 2.0**delivery.attempts) * random.uniform(0.5, 1.5)
                log.warning("send failed, retrying %s in=%.1fs reason=%r", context, delay, reason)
                retry_at = utcnow() + timedelta(seconds=delay)
                storage.mark_failed(session, delivery_id, reason, retry_at=retry_at)
            case Uncertain(reason):
                # Probably delivered; a resend would then be a duplicate (README: Production).
                log.warning("send outcome unknown, not resending %s reason=%r", context, reason)
                storage.mark_uncertain(session, delivery_id, reason)
                self._progress.uncertain += 1
            case Transient(reason) | Permanent(reason):
                log.error("delivery failed %s reason=%r", context, reason)
                storage.mark_failed(session, delivery_id, reason)
                self._progress.failed += 1
            case ChatGone(reason):
                dropped = storage.deactivate_chat(session, chat_id, reason)
                log.info("chat inactive %s reason=%r dropped=%d", context, reason, dropped)
            case Migrated(new_chat_id):
                storage.migrate_chat(session, chat_id, new_chat_id)
                log.info("chat migrated %s new_chat=%d", context, new_chat_id)
            case Fatal(reason):
                log.critical("cannot send at all, pausing 60s reason=%r", reason)
                retry_at = utcnow() + timedelta(seconds=FATAL_PAUSE)
                storage.mark_failed(session, delivery_id, reason, retry_at=retry_at)

    def _report_progress(self, *, force: bool = False) -> None:
        progress = self._progress
        now = time.monotonic()
        if not force and now - progress.last_report < PROGRESS_EVERY:
            return
        progress.last_report = now
        if not (progress.sent or progress.failed or progress.uncertain):
            return
        with Session(self._engine) as session:
            counts = storage.outbox_counts(session)
        elapsed = max(now - progress.started, 1e-9)
        log.info(
            "delivery progress sent=%d failed=%d uncertain=%d pending=%d rate=%.1f/s",
            progress.sent,
            progress.failed,
            progress.uncertain,
            counts[storage.DeliveryStatus.PENDING],
            progress.sent / elapsed,
        )
