from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select, text

from bot.storage import (
    Delivery,
    DeliveryStatus,
    claim_pending,
    deactivate_chat,
    drop_pending_for_chat,
    enqueue_deliveries,
    issue_posted_at,
    mark_failed,
    mark_sent,
    mark_uncertain,
    outbox_counts,
    pending_count,
    release_leases,
    resumes_copy,
    stats,
    subscribe,
    upsert_chat,
    upsert_issue,
)
from tests.storage.factories import make_issue

T0 = datetime(2021, 3, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def outbox(session: Session) -> Session:
    upsert_issue(session, make_issue("20210219"), "raw", "a.md")
    upsert_issue(session, make_issue("20210305"), "raw", "b.md")
    for chat_id in (1, 2, 3):
        upsert_chat(session, chat_id, chat_type="private")
    session.commit()
    return session


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Delivery)).one()


def _heads(claimed: list[Delivery]) -> list[tuple[int, str, int]]:
    return [(d.chat_id, d.issue_id, d.message_index) for d in claimed]


def test_enqueueing_twice_never_duplicates(outbox: Session) -> None:
    targets = {1: [0, 1, 2], 2: [0, 2]}
    assert enqueue_deliveries(outbox, "20210305", targets, item_numbers=[None, 1, 2]) == 5
    outbox.commit()
    assert enqueue_deliveries(outbox, "20210305", targets, item_numbers=[None, 1, 2]) == 0
    assert enqueue_deliveries(outbox, "20210305", {1: [2, 3], 3: [0]}) == 2  # only the new ones
    outbox.commit()
    assert _count(outbox) == 7
    rows = outbox.exec(select(Delivery).where(Delivery.chat_id == 1)).all()
    assert sorted((d.message_index, d.item_number) for d in rows) == [
        (0, None),
        (1, 1),
        (2, 2),
        (3, None),
    ]


def test_enqueue_in_large_batches(outbox: Session) -> None:
    for chat_id in range(10, 60):
        upsert_chat(outbox, chat_id, chat_type="private")
    targets = {chat_id: range(30) for chat_id in range(10, 60)}
    assert enqueue_deliveries(outbox, "20210305", targets) == 1500
    assert enqueue_deliveries(outbox, "20210305", targets) == 0


def test_enqueueing_is_idempotent_across_sessions(outbox: Session, engine: Engine) -> None:
    enqueue_deliveries(outbox, "20210305", {1: [0, 1]})
    outbox.commit()
    with Session(engine) as other:  # e.g. the bot restarted and scanned again
        assert enqueue_deliveries(other, "20210305", {1: [0, 1]}) == 0
        other.commit()
    assert _count(outbox) == 2


def test_claims_interleave_chats_and_keep_each_chat_in_order(outbox: Session) -> None:
    enqueue_deliveries(outbox, "20210219", {2: [0, 1]}, now=T0)
    enqueue_deliveries(outbox, "20210305", {1: [0, 1], 2: [0, 1], 3: [0, 1]}, now=T0)

    first = claim_pending(outbox, now=T0)
    assert _heads(first) == [(2, "20210219", 0), (1, "20210305", 0), (3, "20210305", 0)]
    assert all(d.attempts == 1 for d in first)
    # Leased: nothing more for these chats until their head is marked.
    assert claim_pending(outbox, now=T0 + timedelta(seconds=1)) == []

    for delivery in first:
        assert delivery.id is not None
        mark_sent(outbox, delivery.id, now=T0)
    second = claim_pending(outbox, limit=2, now=T0 + timedelta(seconds=1))
    assert _heads(second) == [(2, "20210219", 1), (1, "20210305", 1)]


def test_an_expired_lease_is_claimed_again(outbox: Session) -> None:
    enqueue_deliveries(outbox, "20210305", {1: [0]})
    (claimed,) = claim_pending(outbox, lease=timedelta(seconds=30), now=T0)
    assert claim_pending(outbox, now=T0 + timedelta(seconds=29)) == []
    (again,) = claim_pending(outbox, now=T0 + timedelta(seconds=31))  # the sender died
    assert again.id == claimed.id
    assert again.attempts == 2


def test_retry_later_then_give_up(outbox: Session) -> None:
    enqueue_deliveries(outbox, "20210305", {1: [0, 1]})
    (head,) = claim_pending(outbox, now=T0)
    assert head.id is not None
    mark_failed(outbox, head.id, "429 retry after 5", retry_at=T0 + timedelta(seconds=5))
    assert claim_pending(outbox, now=T0 + timedelta(seconds=4)) == []  # order kept: no skipping
    (retry,) = claim_pending(outbox, now=T0 + timedelta(seconds=5))
    assert (retry.id, retry.attempts, retry.last_error) == (head.id, 2, "429 retry after 5")

    mark_failed(outbox, head.id, "400 Bad Request: can't parse entities")
    outbox.commit()
    outbox.expire_all()
    failed = outbox.get(Delivery, head.id)
    assert failed is not None
    assert failed.status == DeliveryStatus.FAILED
    (next_one,) = claim_pending(outbox, now=T0 + timedelta(seconds=6))
    assert next_one.message_index == 1  # a failed message does not block the chat


def test_a_row_dropped_while_in_flight_is_not_retried(outbox: Session) -> None:
    enqueue_deliveries(outbox, "20210305", {1: [0, 1]})
    (head,) = claim_pending(outbox, now=T0)
    assert head.id is not None
    assert drop_pending_for_chat(outbox, 1, "unsubscribed") == 2  # the send is still out
    mark_failed(outbox, head.id, "502 Bad Gateway", retry_at=T0 + timedelta(seconds=5))
    assert claim_pending(outbox, now=T0 + timedelta(minutes=1)) == []
    assert outbox_counts(outbox, "20210305")[DeliveryStatus.DROPPED] == 2


def test_marking_an_unknown_delivery_is_an_error(outbox: Session) -> None:
    with pytest.raises(KeyError):
        mark_sent(outbox, 123456)
    with pytest.raises(KeyError):
        mark_failed(outbox, 123456, "502", retry_at=T0)


def test_sent_at_and_counts(outbox: Session) -> None:
    enqueue_deliveries(outbox, "20210305", {1: [0], 2: [0], 3: [0]})
    claimed = claim_pending(outbox, now=T0)
    assert claimed[0].id is not None
    assert claimed[1].id is not None
    mark_sent(outbox, claimed[0].id, now=T0)
    mark_failed(outbox, claimed[1].id, "boom")
    outbox.commit()
    outbox.expire_all()
    sent = outbox.get(Delivery, claimed[0].id)
    assert sent is not None
    assert sent.sent_at == T0
    assert outbox_counts(outbox, "20210305") == {
        DeliveryStatus.PENDING: 1,
        DeliveryStatus.SENT: 1,
        DeliveryStatus.FAILED: 1,
        DeliveryStatus.DROPPED: 0,
        DeliveryStatus.UNCERTAIN: 0,
    }
    assert outbox_counts(outbox, "20210219")[DeliveryStatus.SENT] == 0
    enqueue_deliveries(outbox, "20210219", {1: [0, 1]})  # another issue's are pending too
    assert pending_count(outbox) == 3  # what a broadcast's progress line reports
    assert pending_count(outbox, "20210305") == 1  # ...and /push, for the issue it names
    assert pending_count(outbox, "20210219") == 2
    assert pending_count(outbox, "20201218") == 0


def test_stats(outbox: Session) -> None:
    subscribe(outbox, 1)
    subscribe(outbox, 2, ["gpt", "nlp"])
    enqueue_deliveries(outbox, "20210305", {1: [0, 1], 2: [0]})
    (first, _) = claim_pending(outbox, now=T0)
    assert first.id is not None
    mark_sent(outbox, first.id)
    deactivate_chat(outbox, 3, "chat not found")
    outbox.commit()
    result = stats(outbox)
    assert (result.chats, result.active_chats, result.subscribers, result.issues) == (3, 2, 2, 2)
    assert (
        result.deliveries_sent,
        result.deliveries_pending,
        result.deliveries_failed,
        result.deliveries_dropped,
    ) == (1, 2, 0, 0)
    assert result.under_way == (("20210305", 1, 2),)  # 20210219 has nothing on its way
    assert result.keyword_subscribers == 1


def test_stats_name_the_keywords_most_followed_by_active_chats(outbox: Session) -> None:
    upsert_chat(outbox, 4, chat_type="private")
    subscribe(outbox, 1, ["GPT", "芯片"])
    subscribe(outbox, 2, ["gpt"])  # the same keyword, written otherwise
    subscribe(outbox, 3, ["芯片", "机器人"])
    subscribe(outbox, 4, ["机器人", "NLP"])
    deactivate_chat(outbox, 3, "chat not found")  # its keywords no longer count
    result = stats(outbox)
    assert result.top_keywords == (("GPT", 2), ("NLP", 1), ("机器人", 1), ("芯片", 1))
    assert (result.subscribers, result.keyword_subscribers) == (3, 3)


def test_concurrent_claimers_never_share_a_row(outbox: Session, engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent claims need row locks; SQLite has one writer at a time anyway")
    enqueue_deliveries(outbox, "20210305", {1: [0], 2: [0], 3: [0]})
    outbox.commit()
    with Session(engine) as a, Session(engine) as b:
        claimed_a = claim_pending(a, limit=2, now=T0)  # not committed: rows stay locked
        claimed_b = claim_pending(b, limit=3, now=T0)
        ids_a = {d.id for d in claimed_a}
        ids_b = {d.id for d in claimed_b}
        assert len(ids_a) == 2
        assert not ids_a & ids_b
        a.commit()
        b.commit()


def test_uncertain_deliveries_are_settled_and_counted_with_their_reasons(outbox: Session) -> None:
    subscribe(outbox, 1)
    enqueue_deliveries(outbox, "20210305", {1: [0, 1, 2], 2: [0, 1], 3: [0]})
    heads = claim_pending(outbox, now=T0)
    ids = [d.id for d in heads if d.id is not None]
    mark_uncertain(outbox, ids[0], "timed out waiting for Telegram's answer: Timed out")
    mark_failed(outbox, ids[1], "Internal Server Error")
    mark_failed(outbox, ids[2], "Internal Server Error")
    outbox.commit()
    # An uncertain delivery is settled: never claimed again, and the chat moves on.
    again = claim_pending(outbox, now=T0 + timedelta(hours=1))
    assert ids[0] not in {d.id for d in again}
    result = stats(outbox)
    assert (result.deliveries_uncertain, result.deliveries_failed) == (1, 2)
    assert result.failure_reasons == (
        ("Internal Server Error", 2),
        ("timed out waiting for Telegram's answer: Timed out", 1),
    )


def test_release_leases_frees_claimed_rows_at_once(outbox: Session) -> None:
    enqueue_deliveries(outbox, "20210305", {1: [0], 2: [0]})
    claim_pending(outbox, now=T0)
    outbox.commit()
    assert claim_pending(outbox, now=T0) == []  # leased
    assert release_leases(outbox) == 2
    assert len(claim_pending(outbox, now=T0)) == 2


def test_an_issue_counts_as_posted_in_full_when_its_own_header_was_sent(outbox: Session) -> None:
    enqueue_deliveries(outbox, "20210305", {1: [0, 1], 2: [1]}, headers={2: "🔔"})
    for row in outbox.exec(select(Delivery)).all():
        if (row.chat_id, row.message_index) != (1, 0):
            mark_sent(outbox, row.id or 0, now=T0)  # chat 2: its keyword header and item 1
    assert issue_posted_at(outbox, 1, "20210305") is None  # the header is still pending
    assert issue_posted_at(outbox, 2, "20210305") is None  # a share, not the whole issue
    (header,) = outbox.exec(
        select(Delivery).where(Delivery.chat_id == 1, Delivery.message_index == 0)
    ).all()
    mark_sent(outbox, header.id or 0, now=T0 + timedelta(minutes=1))
    assert issue_posted_at(outbox, 1, "20210305") == T0 + timedelta(minutes=1)


def test_an_issue_left_unfinished_in_a_chat_does_not_count_as_posted(outbox: Session) -> None:
    enqueue_deliveries(outbox, "20210305", {1: [0, 1, 2], 2: [0, 1, 2]})
    rows = {(r.chat_id, r.message_index): r.id or 0 for r in outbox.exec(select(Delivery))}
    for chat in (1, 2):
        mark_sent(outbox, rows[(chat, 0)], now=T0)
    assert resumes_copy(outbox, 1, "20210305", [0, 1, 2])  # the rest is coming
    assert issue_posted_at(outbox, 1, "20210305") == T0
    # Chat 2 narrowed its subscription: the rest of its copy was dropped, it never came.
    drop_pending_for_chat(outbox, 2, "keywords instead of everything")
    assert not resumes_copy(outbox, 2, "20210305", [0, 1, 2])  # a new copy, asked for
    assert issue_posted_at(outbox, 2, "20210305") is None
    mark_failed(outbox, rows[(1, 1)], "Bad Request: message is too long")
    assert not resumes_copy(outbox, 1, "20210305", [0, 1, 2])  # not in order: sent anew
    assert issue_posted_at(outbox, 1, "20210305") is None  # a message of it failed


def test_a_broadcast_leaves_postgresql_statistics_that_know_its_rows(outbox: Session) -> None:
    """Stale statistics (nothing pending) made the claim's chat-head check walk the wrong
    index: 1.3 s per claim over a year of sent rows (bench_outbox --history)."""
    if outbox.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    for chat_id in range(10, 260):
        upsert_chat(outbox, chat_id, chat_type="private")
    enqueue_deliveries(outbox, "20210305", {chat_id: range(4) for chat_id in range(10, 260)})
    statistics = text(
        "SELECT most_common_vals::text FROM pg_stats WHERE schemaname = current_schema() "
        "AND tablename = 'deliveries' AND attname = 'status'"
    )
    assert "pending" in outbox.exec(statistics).one()[0]  # type: ignore[call-overload]
