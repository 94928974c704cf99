"""The delivery loop: drain the outbox, paced under Telegram's limits, losing nothing.

Claim a batch of due deliveries (each chat's next message, interleaved across chats; about a
second of sending), send them in the order their chats become ready, and record the outcomes.
The bot's rate limiter (`PacerRateLimiter`) holds every request until its slot. A few sends
are in flight at once (the rate, not the round trip, is the limit: 300/s at ~20 ms needs
~6-10), never two for one chat, so a chat's messages arrive in order. More in flight only
costs CPU: httpcore matches requests to connections by scanning them all.

Outcomes are written in batches every WRITE_EVERY seconds, one UPDATE for all the sends that
succeeded. Until its outcome is written a delivery stays leased and "owned" by this process:
a claim that hands it out again (its lease ran out while the process was starved) is ignored,
so nothing is dispatched twice. Claims and outcome writes never overlap (`_db`), so a row
settled and forgotten here is settled in every later claim's view.

Several instances may share one PostgreSQL database: each runs a Sender, but only the one
holding the sender lock (bot.storage.leader) claims and sends; the others stand by and take
over within about ELECTION_POLL seconds of its death. RATE_LIMIT is Telegram's limit per bot,
so one sender at a time is what keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import telegram
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram.error import TelegramError

from bot import storage
from bot.content.types import MessageKind, OutgoingMessage
from bot.delivery.broadcast import MessageBook
from bot.delivery.limiter import SendAbandoned
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
from bot.storage.faults import log_database_failure
from bot.storage.leader import SenderLock
from bot.storage.models import Delivery, utcnow
from bot.storage.outbox import mark_sent_many

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
CLAIM_SECONDS = 1.0  # a claim takes this much sending; more would only sit leased
CLAIM_GAP = 0.05  # at least this long between claims
WRITE_EVERY = 0.05  # seconds between outcome writes (each one UPDATE for the sent rows)
IN_FLIGHT_SECONDS = 0.2  # sends in flight: this much of the rate, within the bounds below
MIN_IN_FLIGHT, MAX_IN_FLIGHT = 8, 64
FATAL_PAUSE = 60.0  # seconds without sends after a bad token or API URL
SLOW_DATABASE = 0.25  # seconds: a claim or outcome write slower than this is logged


def in_flight_limit(rate: float) -> int:
    """How many sends may be under way at once at `rate` messages a second (the HTTP pool is
    sized from it too, bot.app)."""
    return min(MAX_IN_FLIGHT, max(MIN_IN_FLIGHT, math.ceil(rate * IN_FLIGHT_SECONDS)))


def _warn_if_slow(what: str, started: float, rows: int) -> None:
    # Sends keep going meanwhile, but a slow outbox starves the next batch.
    elapsed = time.monotonic() - started
    if elapsed > SLOW_DATABASE:
        log.warning("outbox slow op=%s ms=%.0f rows=%d", what, elapsed * 1000, rows)


@dataclass(frozen=True)
class Release:
    """Hand the delivery back unsent, claimable again from `not_before` (None: at once)."""

    not_before: datetime | None


# None: sent.
Outcome = SendFailure | Release | None
# Claimed deliveries with what each sends (None: its message no longer exists).
Batch = list[tuple[Delivery, OutgoingMessage | None]]


@dataclass
class _Progress:
    """What the sender did since the outbox was last found empty: one broadcast's figures,
    however often it waits for a retry or a group's per-minute limit on the way."""

    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    started: float = field(default_factory=time.monotonic)
    last_report: float = field(default_factory=time.monotonic)
    reported: tuple[int, int, int] = (0, 0, 0)  # the counts the last progress line gave

    @property
    def counts(self) -> tuple[int, int, int]:
        return self.sent, self.failed, self.uncertain


class Sender:
    def __init__(
        self,
        bot: telegram.Bot,
        engine: Engine,
        pacer: Pacer,
        lock: SenderLock | None = None,
        *,
        on_elected: Callable[[], None] | None = None,
    ) -> None:
        self._bot = bot
        self._engine = engine
        self._pacer = pacer
        self._lock = lock if lock is not None else storage.sender_lock(engine)
        self._leading = False
        self._on_elected = on_elected  # e.g. scan now: the scans run on the sending instance
        self._wake = asyncio.Event()
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._batch = max(10, math.ceil(pacer.rate * CLAIM_SECONDS))
        self._slots = asyncio.Semaphore(in_flight_limit(pacer.rate))
        self._book = MessageBook()
        # Claimed here and not yet settled in the database: never dispatched a second time.
        self._owned: set[int] = set()
        self._outcomes: list[tuple[Delivery, Outcome]] = []
        self._db = asyncio.Lock()  # claims and outcome writes, one at a time
        self._outcome_ready = asyncio.Event()  # outcomes wait to be written
        self._write_now = asyncio.Event()  # ...and should be written without delay
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
        await asyncio.to_thread(self._release_stale_leases)
        if self._on_elected is not None:
            try:
                self._on_elected()
            except Exception:  # a scan not scheduled must not end the sending
                log.exception("the election callback failed")
        heartbeat = asyncio.create_task(self._heartbeat(), name="sender-heartbeat")
        done_writing = asyncio.Event()
        writer = asyncio.create_task(self._write_loop(done_writing), name="sender-writer")
        try:
            await self._deliver_loop()
        finally:
            heartbeat.cancel()
            self._leading = False
            if self._in_flight:
                await asyncio.wait(self._in_flight)
            done_writing.set()  # the writer's last round writes what the sends left
            self._outcome_ready.set()
            self._write_now.set()
            await writer

    def _release_stale_leases(self) -> None:
        """Only the elected sender claims, so every lease still running is a dead sender's."""
        try:
            with Session(self._engine) as session:
                released = storage.release_leases(session)
                session.commit()
        except Exception as error:  # the leases run out by themselves; sending can start
            log_database_failure(log, "releasing stale leases failed", error)
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
        prefetch: asyncio.Task[Batch] | None = None
        try:
            while self._sending:
                if prefetch is None:
                    await self._sleep(self._last_claim + CLAIM_GAP - time.monotonic())
                    claimed = await self._claim_safely()
                else:
                    claimed, prefetch = await prefetch, None
                if not claimed:
                    await self._idle()
                    continue
                prefetch = await self._dispatch(claimed)
        finally:
            if prefetch is not None:  # claimed for a round that will not come: hand back
                for delivery, _ in await prefetch:
                    self._settle(delivery, Release(None))

    async def _claim_safely(self) -> Batch:
        try:
            # Database work runs off the event loop: a stalled loop fires the sends whose
            # slots passed meanwhile all at once, bunching them above the rate.
            async with self._db:
                claimed = await asyncio.to_thread(self._claim)
        except Exception as error:  # a database hiccup must not end delivery for good
            log_database_failure(log, "claiming deliveries failed; retrying", error)
            return []
        # Outside the lock: outcome writes wait for claims, and unwritten outcomes are what
        # a crash would send twice.
        try:
            return await asyncio.to_thread(self._with_messages, claimed) if claimed else []
        except Exception as error:
            log_database_failure(log, "loading messages failed; handing the claim back", error)
            for delivery in claimed:
                self._settle(delivery, Release(None))
            return []

    @property
    def _sending(self) -> bool:
        return self._leading and not self._stopping

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _claim(self) -> list[Delivery]:
        self._last_claim = started = time.monotonic()
        with Session(self._engine, expire_on_commit=False) as session:
            claimed = storage.claim_pending(session, self._batch)
            session.commit()
        fresh = [d for d in claimed if d.id not in self._owned]
        if len(fresh) < len(claimed):  # leases ran out while this process was starved
            log.warning("claimed again while owned, skipped count=%d", len(claimed) - len(fresh))
        self._owned.update(d.id or 0 for d in fresh)
        _warn_if_slow("claim", started, len(claimed))
        return fresh

    def _with_messages(self, claimed: list[Delivery]) -> Batch:
        with Session(self._engine) as session:
            messages = self._book.messages(session, claimed)
        return list(zip(claimed, messages, strict=True))

    async def _idle(self) -> None:
        if not self._in_flight and not self._outcomes and not self._owned:
            pending = await self._report_progress(force=True)
            # Waiting for deliveries due later (a retry, a group's per-minute limit) is part
            # of the same broadcast; once none is left, the next one counts from zero.
            if self._progress.counts != (0, 0, 0) and pending is None:
                pending = await asyncio.to_thread(self._pending_count)
            if self._progress.counts == (0, 0, 0) or pending == 0:
                self._progress = _Progress()
        await self._wait_for_wake(IDLE_POLL)

    async def _wait_for_wake(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _dispatch(self, claimed: Batch) -> asyncio.Task[Batch] | None:
        """Start the batch's sends; returns the next batch's claim, started halfway through
        this one so that the sends never wait for it (a claim competes with them for the
        GIL and may take a few hundred ms while only MAX_IN_FLIGHT sends are queued)."""
        now = time.monotonic()
        claimed.sort(key=lambda pair: self._pacer.chat_ready_at(pair[0].chat_id, now))
        prefetch: asyncio.Task[Batch] | None = None
        for position, (delivery, message) in enumerate(claimed):
            if position == len(claimed) // 2 and self._sending:
                prefetch = asyncio.create_task(self._claim_safely(), name="sender-claim")
            if not self._sending:  # stopping, or another instance took over
                self._settle(delivery, Release(None))
                continue
            ready = self._pacer.chat_ready_at(
                delivery.chat_id, time.monotonic(), _messages_made(message)
            )
            if ready - time.monotonic() > HOLD_LIMIT:  # a group at its per-minute limit
                later = utcnow() + timedelta(seconds=ready - time.monotonic())
                self._settle(delivery, Release(later))
                continue
            # The slot itself is booked when the request goes out (PacerRateLimiter), where
            # replies to commands book theirs too.
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver(delivery, message))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        await self._report_progress()
        return prefetch

    async def _deliver(self, delivery: Delivery, message: OutgoingMessage | None) -> None:
        outcome: Outcome
        try:
            if not self._sending:  # the lock was lost (or we stop) while this waited
                outcome = Release(None)
            elif message is None:  # the issue file changed meanwhile
                outcome = Permanent("message no longer in the issue")
            else:
                try:
                    await send(self._bot, delivery.chat_id, message)
                except SendAbandoned:  # never sent: the next sender sends it
                    outcome = Release(None)
                except TelegramError as error:
                    outcome = classify_error(error)
                else:
                    outcome = None
        except Exception:  # one bad delivery must never stop the loop
            log.exception("delivery crashed delivery=%s", delivery.id)
            outcome = Transient("internal error")
        finally:
            self._slots.release()
        if isinstance(outcome, Throttled):
            self._pacer.refused(delivery.chat_id, outcome.seconds, time.monotonic())
        elif isinstance(outcome, Fatal):
            self._pacer.pause(time.monotonic() + FATAL_PAUSE)
        self._settle(delivery, outcome)

    def _settle(self, delivery: Delivery, outcome: Outcome) -> None:
        """Queue the outcome for the next write (the row stays owned and leased until then)."""
        self._outcomes.append((delivery, outcome))
        self._outcome_ready.set()
        if len(self._in_flight) <= 1:  # the last send of a burst (this one): no one to wait for
            self._write_now.set()

    async def _write_loop(self, done: asyncio.Event) -> None:
        while not done.is_set():
            await self._outcome_ready.wait()
            # Under load, gather WRITE_EVERY of outcomes into one write; at the end of a
            # burst, write at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._write_now.wait(), timeout=WRITE_EVERY)
            self._outcome_ready.clear()
            self._write_now.clear()
            await self._write_outcomes()
        await self._write_outcomes()

    async def _write_outcomes(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        try:
            async with self._db:
                counts = await asyncio.to_thread(self._write, batch)
        except Exception as error:  # kept, owned and leased: written at the next round
            what = f"writing delivery outcomes failed; retrying count={len(batch)}"
            log_database_failure(log, what, error)
            self._outcomes[:0] = batch
            self._outcome_ready.set()
            return
        self._owned.difference_update(d.id for d, _ in batch)
        self._progress.sent += counts["sent"]
        self._progress.failed += counts["failed"]
        self._progress.uncertain += counts["uncertain"]
        self.wake()  # the chats' next messages may be claimed now

    def _write(self, batch: list[tuple[Delivery, Outcome]]) -> Counter[str]:
        started = time.monotonic()
        counts: Counter[str] = Counter()
        with Session(self._engine) as session:
            sent = [d.id or 0 for d, outcome in batch if outcome is None]
            mark_sent_many(session, sent)
            counts["sent"] = len(sent)
            for delivery, outcome in batch:
                if outcome is None:
                    continue
                try:
                    if isinstance(outcome, Release):
                        storage.release_lease(session, delivery.id or 0, outcome.not_before)
                    else:
                        counts[self._record_failure(session, delivery, outcome)] += 1
                except KeyError:  # the row is gone (its issue or chat was deleted)
                    log.warning("delivery vanished before its outcome delivery=%s", delivery.id)
            session.commit()
        _warn_if_slow("write", started, len(batch))
        return counts

    def _record_failure(self, session: Session, delivery: Delivery, failure: SendFailure) -> str:
        """Record a failed send; returns how it counts in progress ("failed", "uncertain", "")."""
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
                return "uncertain"
            case Transient(reason) | Permanent(reason):
                log.error("delivery failed %s reason=%r", context, reason)
                storage.mark_failed(session, delivery_id, reason)
                return "failed"
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
        return ""

    async def _report_progress(self, *, force: bool = False) -> int | None:
        """Log a progress line when it is time and there is news; returns the pending count
        it gave (None: no line, or the database could not say)."""
        progress = self._progress
        now = time.monotonic()
        if not force and now - progress.last_report < PROGRESS_EVERY:
            return None
        progress.last_report = now
        if progress.counts == progress.reported:
            return None  # nothing new since the last line (nothing at all, at first)
        progress.reported = sent, failed, uncertain = progress.counts
        pending = await asyncio.to_thread(self._pending_count)
        elapsed = max(now - progress.started, 1e-9)
        log.info(
            "delivery progress sent=%d failed=%d uncertain=%d pending=%s rate=%.1f/s",
            sent,
            failed,
            uncertain,
            "?" if pending is None else pending,
            sent / elapsed,
        )
        return pending

    def _pending_count(self) -> int | None:
        """Deliveries still to send; None when the database cannot say (the progress line
        shows "?", and a figure never stops the sending)."""
        try:
            with Session(self._engine) as session:
                return storage.pending_count(session)
        except Exception as error:
            log_database_failure(log, "counting pending deliveries failed", error)
            return None


def _messages_made(message: OutgoingMessage | None) -> int:
    """How many messages sending `message` makes, as the flood limits count: an album's
    photos one by one (what the limiter books for it)."""
    if message is not None and message.kind == MessageKind.ALBUM:
        return max(1, len(message.media))
    return 1
