"""claim_pending's order and its head rule, on SQLite and PostgreSQL: notices first, then in
each chat its copies in the order they were queued, lowest message index; one head per chat;
a leased or retrying head holds its chat back; and the claim walks an index instead of
ranking every pending row."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, select

from bot.content.types import Issue
from bot.delivery.broadcast import broadcast_notice
from bot.storage import (
    Delivery,
    claim_pending,
    enqueue_deliveries,
    mark_failed,
    mark_sent,
    requeue_deliveries,
    subscribe,
    upsert_chat,
    upsert_issue,
)
from bot.storage.models import HEADER_INDEX
from bot.storage.outbox import mark_sent_many
from tests.storage.factories import make_issue

T0 = datetime(2021, 3, 5, 9, 0, tzinfo=UTC)
OLD, NEW = "20210219", "20210305"


def _setup(
    session: Session, chats: range | list[int], issues: tuple[str, ...] = (OLD, NEW)
) -> None:
    for issue_id in issues:
        issue: Issue = make_issue(issue_id)
        upsert_issue(session, issue, "raw", f"{issue_id}.md")
    for chat_id in chats:
        upsert_chat(session, chat_id, chat_type="private" if chat_id > 0 else "group")
    session.commit()


def _keys(claimed: list[Delivery]) -> list[tuple[int, str | None, int]]:
    return [(d.chat_id, d.issue_id, d.message_index) for d in claimed]


def _settle(session: Session, claimed: list[Delivery]) -> None:
    mark_sent_many(session, [d.id or 0 for d in claimed], now=T0)
    session.commit()


def test_what_a_reader_asked_for_goes_before_a_broadcast(session: Session) -> None:
    """A reader asking for the issue being broadcast does not wait for every subscriber's
    copy of each message first (claims go message by message across chats)."""
    _setup(session, [*range(1, 21), 99])
    enqueue_deliveries(session, NEW, {chat: [0, 1, 2] for chat in range(1, 21)})
    requeue_deliveries(session, 99, NEW, [0, 1, 2])
    session.commit()
    first = claim_pending(session, 5, now=T0)
    assert _keys(first)[0] == (99, NEW, 0)
    assert _keys(first)[1:] == [(chat, NEW, 0) for chat in range(1, 5)]
    _settle(session, first)
    second = claim_pending(session, 5, now=T0 + timedelta(minutes=2))
    assert _keys(second)[0] == (99, NEW, 1)  # its next message, before chat 5's header
    assert len({d.id for d in first + second}) == 10  # no row handed out twice


def test_a_subscriber_asking_for_the_issue_on_its_way_gets_it_first(session: Session) -> None:
    _setup(session, range(1, 22))
    enqueue_deliveries(session, NEW, {chat: [0, 1, 2] for chat in range(1, 22)})  # broadcast
    requeue_deliveries(session, 21, NEW, [0, 1, 2])  # chat 21 asks for it meanwhile
    session.commit()
    assert _keys(claim_pending(session, 5, now=T0))[0] == (21, NEW, 0)


def test_a_keyword_reader_asking_for_the_whole_issue_gets_no_header_after_it(
    session: Session,
) -> None:
    _setup(session, [1])
    enqueue_deliveries(session, NEW, {1: [2]}, item_numbers=[None, 1, 2], headers={1: "🔔 kw"})
    requeue_deliveries(session, 1, NEW, [0, 1, 2], item_numbers=[None, 1, 2])  # /latest
    session.commit()
    order = []
    while claimed := claim_pending(session, 10, now=T0):
        order += [d.message_index for d in claimed]
        _settle(session, claimed)
    assert order == [0, 1, 2]  # the header introduced an item the issue now brings anyway
    header = session.exec(
        select(Delivery).where(Delivery.chat_id == 1, Delivery.message_index == HEADER_INDEX)
    ).one()
    assert (header.status, header.last_error) == ("dropped", "whole issue asked for")


def test_notices_first_then_the_copy_queued_first_then_lowest_index(session: Session) -> None:
    _setup(session, [1, 2, 3])
    enqueue_deliveries(session, OLD, {3: [2]}, now=T0 - timedelta(minutes=1))
    enqueue_deliveries(session, NEW, {1: [0, 1], 2: [0, 1], 3: [0, 1]}, now=T0)
    subscribe(session, 2)
    broadcast_notice(session, "<b>notice</b>")  # for the subscribed chat only
    session.commit()

    first = claim_pending(session, 10, now=T0)
    assert _keys(first) == [(2, None, 0), (3, OLD, 2), (1, NEW, 0)]
    _settle(session, first)
    second = claim_pending(session, 10, now=T0)
    # Index 0 of the new issue for the chats still at it, before anyone's index 1.
    assert _keys(second) == [(2, NEW, 0), (3, NEW, 0), (1, NEW, 1)]
    _settle(session, second)
    assert _keys(claim_pending(session, 10, now=T0)) == [(2, NEW, 1), (3, NEW, 1)]


def test_a_chat_gets_its_copies_whole_in_the_order_they_were_queued(session: Session) -> None:
    """Not by issue: a later copy of an older issue waits for the chat's copy under way, and
    issues a reader asked for one after another arrive one after another."""
    _setup(session, [1, 2], issues=(OLD, NEW, "20210312"))
    enqueue_deliveries(session, NEW, {1: [0, 1, 2]}, now=T0)  # a broadcast
    enqueue_deliveries(session, OLD, {1: [0, 1]}, now=T0 + timedelta(minutes=1))  # /push
    requeue_deliveries(session, 2, "20210312", [0, 1])  # chat 2 asks for one issue...
    requeue_deliveries(session, 2, OLD, [0, 1])  # ...then for an older one
    session.commit()
    sent: dict[int, list[tuple[str | None, int]]] = {1: [], 2: []}
    for _ in range(6):
        claimed = claim_pending(session, 10, now=T0 + timedelta(minutes=2))
        for delivery in claimed:
            sent[delivery.chat_id].append((delivery.issue_id, delivery.message_index))
        _settle(session, claimed)
    assert sent[1] == [(NEW, 0), (NEW, 1), (NEW, 2), (OLD, 0), (OLD, 1)]
    assert sent[2] == [("20210312", 0), ("20210312", 1), (OLD, 0), (OLD, 1)]


def test_what_a_reader_asks_for_again_goes_out_whole_and_in_order(session: Session) -> None:
    _setup(session, [1])
    enqueue_deliveries(session, NEW, {1: [0, 1]}, now=T0)  # two messages, sent long ago
    _settle(session, claim_pending(session, 10, now=T0))
    _settle(session, claim_pending(session, 10, now=T0))
    requeue_deliveries(session, 1, NEW, [0, 1, 2])  # the issue has gained a message since
    session.commit()
    order = []
    for _ in range(3):
        claimed = claim_pending(session, 10, now=T0 + timedelta(days=1))
        order += [d.message_index for d in claimed]
        _settle(session, claimed)
    assert order == [0, 1, 2]  # the new row is not sent before those queued again


def test_one_head_per_chat_and_the_limit_is_kept(session: Session) -> None:
    _setup(session, range(1, 21))
    enqueue_deliveries(session, NEW, {chat: range(5) for chat in range(1, 21)})
    session.commit()
    claimed = claim_pending(session, 8, now=T0)
    assert [d.chat_id for d in claimed] == list(range(1, 9))
    assert {d.message_index for d in claimed} == {0}
    rest = claim_pending(session, 100, now=T0)
    assert [d.chat_id for d in rest] == list(range(9, 21))  # chats 1-8 wait for their heads


def test_leased_and_retrying_heads_hold_their_chat_back(session: Session) -> None:
    _setup(session, [1, 2, 3])
    enqueue_deliveries(session, NEW, {1: [0, 1], 2: [0, 1], 3: [0, 1]})
    session.commit()
    (one, two, three) = claim_pending(session, 10, lease=timedelta(seconds=60), now=T0)
    mark_failed(session, two.id or 0, "502", retry_at=T0 + timedelta(seconds=30))
    mark_sent(session, three.id or 0, now=T0)
    session.commit()
    later = claim_pending(session, 10, now=T0 + timedelta(seconds=10))
    assert _keys(later) == [(3, NEW, 1)]  # chat 1 leased, chat 2 waiting for its retry
    after_retry = claim_pending(session, 10, now=T0 + timedelta(seconds=31))
    assert _keys(after_retry) == [(2, NEW, 0)]  # the retry itself, not the next message
    expired = claim_pending(session, 10, now=T0 + timedelta(seconds=61))
    assert [(d.id, d.attempts) for d in expired] == [(one.id, 2)]


def test_a_group_at_its_limit_does_not_starve_the_others(session: Session) -> None:
    _setup(session, [-5, 1, 2])
    enqueue_deliveries(session, NEW, {-5: range(10), 1: range(3), 2: range(3)})
    session.commit()
    (group, *others) = claim_pending(session, 10, now=T0)
    assert group.chat_id == -5
    mark_failed(session, group.id or 0, "held", retry_at=T0 + timedelta(minutes=1))
    _settle(session, others)
    seen: list[int] = []
    for _ in range(3):
        claimed = claim_pending(session, 10, now=T0 + timedelta(seconds=1))
        seen += [d.chat_id for d in claimed]
        _settle(session, claimed)
    assert -5 not in seen
    assert sorted(seen) == [1, 1, 2, 2]  # indices 1 and 2 of each; 0 went with the group's


def test_a_claim_reads_about_its_batch_not_every_pending_row(session: Session) -> None:
    chats = range(1, 401)
    _setup(session, chats, issues=(NEW,))
    enqueue_deliveries(session, NEW, {chat: range(4) for chat in chats})
    session.commit()
    in_flight = claim_pending(session, 50, now=T0)  # leased, as while a batch is sent
    session.commit()
    for requested in (True, False):  # the pass for rows readers asked for, then the rest
        plan = _plan(session, requested)
        assert "ix_deliveries_requested_order" in plan
        if session.get_bind().dialect.name == "sqlite":
            # Walked in index order, never sorted (only a chat's few rows are, in the head
            # check).
            assert not re.search(r"\(\d+, 0, 0, 'USE TEMP B-TREE", plan), plan
    claimed = claim_pending(session, 50, now=T0)
    assert [d.chat_id for d in claimed] == list(range(51, 101))
    assert not {d.id for d in claimed} & {d.id for d in in_flight}


def _plan(session: Session, requested: bool) -> str:
    """The query plan of an issue-row claim pass (the notice pass is the same statement)."""
    from sqlalchemy import or_
    from sqlmodel import col, select

    from bot.storage.outbox import _HEAD_OF_CHAT, _plan_claims_by_index

    bind = session.get_bind()
    statement = (
        select(Delivery)
        .where(
            col(Delivery.status) == "pending",
            col(Delivery.issue_id).is_not(None),
            col(Delivery.requested) if requested else ~col(Delivery.requested),  # as claimed
            or_(col(Delivery.not_before).is_(None), col(Delivery.not_before) <= T0),
            col(Delivery.id) == _HEAD_OF_CHAT,
        )
        .order_by(col(Delivery.issue_id), col(Delivery.message_index), col(Delivery.chat_id))
        .limit(50)
    )
    sql = str(statement.compile(bind, compile_kwargs={"literal_binds": True}))
    if bind.dialect.name == "postgresql":
        _plan_claims_by_index(session)
        rows = session.exec(text(f"EXPLAIN {sql}")).all()  # type: ignore[call-overload]
    else:
        rows = session.exec(text(f"EXPLAIN QUERY PLAN {sql}")).all()  # type: ignore[call-overload]
    session.rollback()
    return "\n".join(str(row) for row in rows)
