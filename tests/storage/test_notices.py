"""Notices (an admin's /broadcast) and re-requested issues share the issue outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.delivery.broadcast import (
    DRAFT_KEPT_FOR,
    MessageBook,
    NoticeOutcome,
    broadcast_notice,
    confirm_notice,
    draft_notice,
)
from bot.storage import (
    Delivery,
    DeliveryStatus,
    claim_pending,
    deactivate_chat,
    enqueue_deliveries,
    enqueue_notice,
    mark_failed,
    mark_sent,
    migrate_chat,
    requeue_deliveries,
    subscribe,
    upsert_chat,
    upsert_issue,
)
from bot.storage.models import utcnow
from tests.storage.factories import make_issue


def _chats(session: Session, *chat_ids: int) -> None:
    for chat_id in chat_ids:
        upsert_chat(session, chat_id, chat_type="private" if chat_id > 0 else "group")


def test_a_notice_goes_once_to_every_active_subscribed_chat(session: Session) -> None:
    _chats(session, 1, 2, 3, 4)
    subscribe(session, 1)
    subscribe(session, 2, ["gpt"])
    subscribe(session, 3)
    deactivate_chat(session, 3, "bot was blocked by the user")
    assert broadcast_notice(session, "<b>停刊一周</b>") == 2  # chat 4 never subscribed
    session.commit()
    rows = session.exec(select(Delivery)).all()
    assert sorted(row.chat_id for row in rows) == [1, 2]
    notice_id = rows[0].notice_id
    assert notice_id is not None
    assert enqueue_notice(session, notice_id, [1, 2]) == 0  # once per chat
    (message,) = MessageBook().messages(session, rows[:1])
    assert message is not None
    assert message.text == "<b>停刊一周</b>"


def test_a_drafted_notice_goes_nowhere_until_confirmed_once(session: Session) -> None:
    _chats(session, 1, 2)
    subscribe(session, 1)
    subscribe(session, 2, ["gpt"])
    typo = draft_notice(session, "typo")
    assert session.exec(select(Delivery)).all() == []  # a draft reaches nobody
    assert confirm_notice(session, typo, send=False) == NoticeOutcome()
    assert confirm_notice(session, typo, send=True) == NoticeOutcome(gone=True)  # dropped

    kept = draft_notice(session, "<b>停刊一周</b>")
    assert confirm_notice(session, kept, send=True) == NoticeOutcome(queued=2)
    assert confirm_notice(session, kept, send=True) == NoticeOutcome(sent_before=True)
    assert confirm_notice(session, kept, send=False) == NoticeOutcome(sent_before=True)
    assert len(session.exec(select(Delivery)).all()) == 2
    assert confirm_notice(session, 999, send=True) == NoticeOutcome(gone=True)  # never made


def test_a_draft_left_for_over_a_day_is_void(session: Session) -> None:
    _chats(session, 1)
    subscribe(session, 1)
    draft = draft_notice(session, "old news")
    later = utcnow() + DRAFT_KEPT_FOR + timedelta(minutes=1)
    assert confirm_notice(session, draft, send=True, now=later) == NoticeOutcome(gone=True)
    assert session.exec(select(Delivery)).all() == []


def test_notices_overtake_issue_messages(session: Session) -> None:
    _chats(session, 1)
    subscribe(session, 1)
    upsert_issue(session, make_issue("20210305"), "raw", "b.md")
    enqueue_deliveries(session, "20210305", {1: [0, 1]})
    broadcast_notice(session, "notice")
    session.commit()
    (first,) = claim_pending(session, 10)
    assert first.notice_id is not None
    assert first.issue_id is None


def test_migration_moves_notices_with_the_chat(session: Session) -> None:
    _chats(session, -5)
    subscribe(session, -5)
    broadcast_notice(session, "one")
    broadcast_notice(session, "two")
    migrate_chat(session, -5, -1005)
    session.commit()
    moved = session.exec(select(Delivery).where(Delivery.chat_id == -1005)).all()
    assert len(moved) == 2


def _rows(session: Session) -> dict[int, Delivery]:
    return {d.message_index: d for d in session.exec(select(Delivery)).all()}


def test_requeue_sends_an_issue_again(session: Session) -> None:
    _chats(session, 1)
    upsert_issue(session, make_issue("20210305"), "raw", "b.md")
    enqueue_deliveries(session, "20210305", {1: [0, 1]})
    (first,) = claim_pending(session, 10)  # a chat's messages are claimed one at a time
    mark_sent(session, first.id or 0)
    (second,) = claim_pending(session, 10)
    mark_failed(session, second.id or 0, "Bad Request: chat not found")
    session.commit()
    assert requeue_deliveries(session, 1, "20210305", [0, 1, 2]) == 3
    session.commit()
    rows = _rows(session)
    assert {i: r.status for i, r in rows.items()} == {
        0: DeliveryStatus.PENDING,  # sent before, queued again
        1: DeliveryStatus.PENDING,
        2: DeliveryStatus.PENDING,  # new
    }
    assert rows[0].attempts == 0


def test_a_request_while_the_issue_is_under_way_adds_only_what_is_missing(
    session: Session,
) -> None:
    """A reader asking twice in a row gets one copy in order, not the start of a second one
    in the middle of the first."""
    _chats(session, 1)
    upsert_issue(session, make_issue("20210305"), "raw", "b.md")
    enqueue_deliveries(session, "20210305", {1: [0, 1, 2]})
    (head,) = claim_pending(session, 10)
    mark_sent(session, head.id or 0)
    (in_flight,) = claim_pending(session, 10)  # claimed, being sent
    session.commit()
    assert requeue_deliveries(session, 1, "20210305", [0, 1, 2, 3]) == 3  # 1, 2 and 3
    session.commit()
    rows = _rows(session)
    assert rows[0].status == DeliveryStatus.SENT  # not again: the first copy is still going
    assert rows[1].id == in_flight.id
    assert rows[1].status == DeliveryStatus.PENDING
    assert rows[3].status == DeliveryStatus.PENDING  # new
    assert len(rows) == 4


def test_asking_for_the_whole_issue_while_one_item_is_coming_sends_it_all(
    session: Session,
) -> None:
    """Had long ago, then one item asked for (a search result), then the whole issue: the
    item on its way is no half-sent copy of the issue, so everything goes again."""
    _chats(session, 1)
    upsert_issue(session, make_issue("20210305"), "raw", "b.md")
    enqueue_deliveries(session, "20210305", {1: [0, 1, 2, 3]})
    for _ in range(4):
        (row,) = claim_pending(session, 10)
        mark_sent(session, row.id or 0)
    requeue_deliveries(session, 1, "20210305", [2])
    session.commit()
    assert requeue_deliveries(session, 1, "20210305", [0, 1, 2, 3]) == 4
    session.commit()
    assert {i: r.status for i, r in _rows(session).items()} == dict.fromkeys(
        range(4), DeliveryStatus.PENDING
    )
