from __future__ import annotations

import itertools

import pytest

from bot.delivery.pacing import Pacer

USER, OTHER_USER, GROUP = 101, 102, -100


def _book(pacer: Pacer, chats: list[int], now: float = 0.0) -> list[float]:
    return [pacer.reserve(chat, now) for chat in chats]


def test_overall_rate_spaces_every_message() -> None:
    pacer = Pacer(rate=10, private_burst=100)
    times = _book(pacer, list(range(1, 31)))  # 30 different private chats at once
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([0.1] * 29)
    assert times[-1] == pytest.approx(2.9)


def test_private_chat_allows_a_short_burst_then_one_a_second() -> None:
    pacer = Pacer(rate=1000, private_rate=1, private_burst=3)
    times = _book(pacer, [USER] * 6)
    assert times[:3] == pytest.approx([0.0, 0.001, 0.002])
    assert times[3:] == pytest.approx([1.0, 2.0, 3.0], abs=0.01)


def test_a_busy_chat_does_not_hold_back_others() -> None:
    pacer = Pacer(rate=1000, private_rate=1, private_burst=1)
    pacer.reserve(USER, 0.0)
    # The sender books by readiness: the other chat is ready now, the busy one in a second.
    assert pacer.chat_ready_at(OTHER_USER, 0.0) == 0.0
    assert pacer.reserve(OTHER_USER, 0.0) == pytest.approx(0.001)
    assert pacer.reserve(USER, 0.0) == pytest.approx(1.0)


def test_group_gets_twenty_a_minute() -> None:
    pacer = Pacer(rate=1000, group_per_minute=20)
    times = _book(pacer, [GROUP] * 25)
    assert times[19] < 1
    assert times[20] == pytest.approx(60.0)
    assert all(later >= 60 for later in times[20:])
    assert pacer.chat_ready_at(GROUP, 30.0) > 60


def test_a_group_at_its_minute_holds_back_no_other_chat() -> None:
    pacer = Pacer(rate=30, group_per_minute=19)
    _book(pacer, [GROUP] * 19)  # its minute is full: the next waits a minute
    assert pacer.reserve(GROUP, 1.0) >= 60  # a reply to a command there, say
    assert pacer.reserve(USER, 1.0) == pytest.approx(1.0 + 1 / 30)  # the broadcast goes on


def test_an_album_books_a_slot_per_photo_and_goes_at_once() -> None:
    pacer = Pacer(rate=30, group_per_minute=19)
    _book(pacer, [GROUP] * 15)
    # 10 photos do not fit the 4 places left: they wait for the first 6 sends to age out.
    first_six_out = sorted(_book(Pacer(rate=30), [GROUP] * 15))[5] + 60
    assert pacer.reserve(GROUP, 1.0, count=10) == pytest.approx(first_six_out)
    assert pacer.reserve(USER, 1.0) == pytest.approx(1.0 + 10 / 30)  # after the 10 slots
    assert pacer.chat_ready_at(GROUP, 61.0, count=10) > 120  # its 10 fill a minute again

    private = Pacer(rate=30, private_burst=2)
    assert private.reserve(USER, 0.0, count=10) == 0.0  # a reader gets an album at once
    assert private.reserve(OTHER_USER, 0.0) == pytest.approx(10 / 30)


def test_ready_at_tells_without_booking() -> None:
    pacer = Pacer(rate=1000, private_rate=1, private_burst=1)
    pacer.reserve(USER, 0.0)
    assert pacer.chat_ready_at(USER, 0.0) == pytest.approx(1.0)
    assert pacer.chat_ready_at(USER, 0.0) == pytest.approx(1.0)  # asking books nothing
    assert pacer.chat_ready_at(OTHER_USER, 0.0) == 0.0


def test_pause_holds_everything() -> None:
    pacer = Pacer(rate=10)
    pacer.pause(5.0)
    assert pacer.reserve(USER, 1.0) == pytest.approx(5.0)


def test_one_chat_refused_holds_the_others_only_a_moment() -> None:
    pacer = Pacer(rate=10)
    pacer.refused(GROUP, 58.0, now=0.0)  # a group's minute was full
    assert pacer.reserve(USER, 0.0) == pytest.approx(1.0)
    pacer.refused(GROUP, 50.0, now=8.0)  # the same chat again: still only that chat
    assert pacer.reserve(OTHER_USER, 8.0) == pytest.approx(9.0)


def test_two_chats_refused_together_hold_everything() -> None:
    pacer = Pacer(rate=10)
    pacer.refused(USER, 3.0, now=0.0)
    pacer.refused(OTHER_USER, 3.0, now=0.5)  # the bot's overall limit, not one chat's
    assert pacer.reserve(GROUP, 0.5) == pytest.approx(3.5)
    pacer.refused(USER, 3.0, now=20.0)  # long after: one chat again
    assert pacer.reserve(GROUP, 20.0) == pytest.approx(21.0)


def test_groups_refused_together_hold_only_themselves() -> None:
    pacer = Pacer(rate=10)
    pacer.refused(GROUP, 58.0, now=0.0)
    pacer.refused(GROUP - 1, 55.0, now=0.5)  # two groups at their minute, not the bot's limit
    assert pacer.reserve(USER, 0.5) == pytest.approx(1.5)
    pacer.refused(USER, 2.0, now=0.6)  # nor does a private chat's refusal after a group's
    assert pacer.reserve(OTHER_USER, 0.6) == pytest.approx(1.6)


def test_idle_chats_are_forgotten() -> None:
    pacer = Pacer(rate=1000, private_rate=1, private_burst=3)
    _book(pacer, [USER, GROUP])
    pacer.forget_idle(0.5)  # two tokens and a half: not yet full
    assert USER in pacer._private
    pacer.forget_idle(100.0)
    assert not pacer._private
    assert not pacer._groups


def test_booking_forgets_recovered_chats_so_memory_stays_flat() -> None:
    pacer = Pacer(rate=1000, private_rate=1, private_burst=2)
    for chat in range(1, 101):
        pacer.reserve(chat, 0.0)
    assert len(pacer._private) == 100
    pacer.reserve(999, 120.0)  # a minute later every bucket is full again
    assert list(pacer._private) == [999]
