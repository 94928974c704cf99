"""When the next message to a chat may go, under Telegram's flood limits (SPEC §4).

Pure bookkeeping over a clock the caller passes in: no sleeping, no I/O, so it is exact to test.
Limits are respected by design rather than discovered through 429s:
- overall: at most `rate` messages a second, evenly spaced;
- a private chat (positive id): `private_rate` a second, with a burst of `private_burst`;
- a group, supergroup or channel (negative id): `group_per_minute` in any 60 s.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

GROUP_WINDOW = 60.0
SWEEP_EVERY = GROUP_WINDOW  # seconds between drops of recovered chats' state
# After one chat's 429 everything waits this long at most (its own message waits the whole
# retry_after in the outbox); 429s for two private chats this close together hold everything.
ONE_CHAT_PAUSE = 1.0
REFUSALS_TOGETHER = 5.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Pacer:
    rate: float = 30.0
    # Telegram allows ~1 a second per private chat with bursts of ~3, and 20 a minute per
    # group. A send reaches Telegram a little later or earlier than it was booked, so each
    # chat keeps one message of slack: a burst of 2, and 19 a minute.
    private_rate: float = 1.0
    private_burst: int = 2
    group_per_minute: int = 19
    _next_slot: float = 0.0
    _last_sweep: float = 0.0
    _private: dict[int, _Bucket] = field(default_factory=dict)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _last_refusal: tuple[int, float] | None = None  # a private chat's last 429: chat, time

    def chat_ready_at(self, chat_id: int, now: float, count: int = 1) -> float:
        """The earliest time the chat's own limit allows `count` messages sent together (an
        album's photos), ignoring the overall limit. A private chat's album takes one of its
        tokens: Telegram lets a reader get an album at once."""
        if chat_id > 0:
            # Tokens are counted at `bucket.updated`, which a booking may have set ahead of now.
            bucket = self._refilled(chat_id, now)
            if bucket.tokens >= 1:
                return max(now, bucket.updated)
            return bucket.updated + (1 - bucket.tokens) / self.private_rate
        sent = sorted(self._group_window(chat_id, now))
        pushed_out = len(sent) + self._group_share(count) - self.group_per_minute
        if pushed_out <= 0:
            return now
        return max(now, sent[pushed_out - 1] + GROUP_WINDOW)

    def reserve(self, chat_id: int, now: float, count: int = 1) -> float:
        """Book the earliest slot for a send of `count` messages (an album's photos) to
        `chat_id`; returns when to send it.

        The overall slots taken are the next `count` ones, even when the chat's own limit
        makes the send wait longer: a group at its minute must hold back no other chat (the
        limiter's windows still keep any second within the overall rate)."""
        if now - self._last_sweep > SWEEP_EVERY:  # a broadcast books for every subscriber
            self.forget_idle(now)
            self._last_sweep = now
        slot = max(now, self._next_slot)
        at = max(slot, self.chat_ready_at(chat_id, now, count))
        self._next_slot = slot + count / self.rate
        if chat_id > 0:
            bucket = self._refilled(chat_id, at)
            bucket.tokens -= 1
        else:
            self._group_window(chat_id, at).extend([at] * self._group_share(count))
        return at

    def _group_share(self, count: int) -> int:
        # An album larger than a group's whole minute waits for an empty minute.
        return min(count, self.group_per_minute)

    def pause(self, until: float) -> None:
        """Send nothing before `until`."""
        self._next_slot = max(self._next_slot, until)

    def refused(self, chat_id: int, retry_after: float, now: float) -> None:
        """Telegram said 429 for `chat_id`: our model of its limits was off. One chat refused
        is about that chat (a group's minute: up to 60 s), which must not stall a broadcast to
        every other chat, so the others only wait a moment. Two private chats refused close
        together mean the bot's overall limit (a private chat's own limit clears in a second),
        and everything waits `retry_after`; groups, refused for their own minute, never do."""
        last = self._last_refusal
        overall = last is not None and last[0] != chat_id and now - last[1] < REFUSALS_TOGETHER
        if chat_id > 0:
            self._last_refusal = (chat_id, now)
        held = retry_after if overall and chat_id > 0 else min(retry_after, ONE_CHAT_PAUSE)
        self.pause(now + held)

    def forget_idle(self, now: float) -> None:
        """Drop the state of chats whose limits have fully recovered, so memory stays flat."""
        full = [
            chat
            for chat, bucket in self._private.items()
            if bucket.tokens + (now - bucket.updated) * self.private_rate >= self.private_burst
        ]
        for chat in full:
            del self._private[chat]
        quiet = [chat for chat, sent in self._groups.items() if not self._group_window(chat, now)]
        for chat in quiet:
            del self._groups[chat]

    def _refilled(self, chat_id: int, now: float) -> _Bucket:
        bucket = self._private.setdefault(chat_id, _Bucket(self.private_burst, now))
        if now > bucket.updated:
            bucket.tokens = min(
                self.private_burst, bucket.tokens + (now - bucket.updated) * self.private_rate
            )
            bucket.updated = now
        return bucket

    def _group_window(self, chat_id: int, now: float) -> deque[float]:
        sent = self._groups.setdefault(chat_id, deque())
        while sent and sent[0] <= now - GROUP_WINDOW:
            sent.popleft()
        return sent
