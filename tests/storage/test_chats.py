from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.storage import (
    Delivery,
    DeliveryStatus,
    deactivate_chat,
    enqueue_deliveries,
    get_chat,
    mark_sent,
    migrate_chat,
    reactivate_chat,
    subscribe,
    subscribers_for_item,
    subscriptions_of,
    upsert_chat,
    upsert_issue,
)
from tests.storage.factories import make_issue, make_item

SUPERGROUP = -1001234567890  # needs BIGINT
BIG_USER = 7_123_456_789  # user ids passed 2**32 in 2021


def _deliveries(session: Session, chat_id: int) -> list[tuple[int, str, str | None]]:
    rows = session.exec(
        select(Delivery).where(Delivery.chat_id == chat_id).order_by(Delivery.message_index)
    ).all()
    return [(d.message_index, d.status, d.last_error) for d in rows]


def test_big_telegram_ids_round_trip(session: Session) -> None:
    upsert_chat(session, SUPERGROUP, chat_type="supergroup", title="读者群")
    upsert_chat(session, BIG_USER, chat_type="private", language_code="en")
    session.commit()
    session.expire_all()
    group = get_chat(session, SUPERGROUP)
    user = get_chat(session, BIG_USER)
    assert group is not None
    assert (group.type, group.title, group.active) == ("supergroup", "读者群", True)
    assert user is not None
    assert user.language_code == "en"


def test_upsert_refreshes_details_but_keeps_language_when_unknown(session: Session) -> None:
    upsert_chat(session, 1, chat_type="private", title="Ann", language_code="zh-hans")
    upsert_chat(session, 1, chat_type="private", title="Ann B")
    chat = get_chat(session, 1)
    assert chat is not None
    assert (chat.title, chat.language_code) == ("Ann B", "zh-hans")


def test_deactivation_drops_pending_deliveries_with_the_reason(session: Session) -> None:
    upsert_issue(session, make_issue("20210305"), "raw", "a.md")
    for chat_id in (1, 2):
        upsert_chat(session, chat_id, chat_type="private")
        subscribe(session, chat_id)
    enqueue_deliveries(session, "20210305", {1: [0, 1, 2], 2: [0, 1, 2]})
    (first,) = session.exec(
        select(Delivery).where(Delivery.chat_id == 1, Delivery.message_index == 0)
    ).all()
    assert first.id is not None
    mark_sent(session, first.id)

    reason = "Forbidden: bot was blocked by the user"
    assert deactivate_chat(session, 1, reason) == 2
    session.commit()

    chat = get_chat(session, 1)
    assert chat is not None
    assert not chat.active
    assert chat.inactive_reason == reason
    assert _deliveries(session, 1) == [
        (0, DeliveryStatus.SENT, None),
        (1, DeliveryStatus.DROPPED, reason),
        (2, DeliveryStatus.DROPPED, reason),
    ]
    assert [status for _, status, _ in _deliveries(session, 2)] == [DeliveryStatus.PENDING] * 3
    assert subscribers_for_item(session, make_item(1)) == {2}
    assert subscriptions_of(session, 1) == [None]  # kept for when the reader comes back


def test_reactivation(session: Session) -> None:
    upsert_chat(session, 1, chat_type="private")
    subscribe(session, 1)
    assert not reactivate_chat(session, 1)  # already active
    deactivate_chat(session, 1, "chat not found")
    upsert_chat(session, 1, chat_type="private")  # seeing the chat again does not reactivate
    assert subscribers_for_item(session, make_item(1)) == set()
    assert reactivate_chat(session, 1)
    chat = get_chat(session, 1)
    assert chat is not None
    assert (chat.active, chat.inactive_reason) == (True, None)
    assert subscribers_for_item(session, make_item(1)) == {1}


def test_deactivating_an_unknown_chat_is_harmless(session: Session) -> None:
    assert deactivate_chat(session, 404, "chat not found") == 0
    assert not reactivate_chat(session, 404)


def test_group_migration_keeps_subscriptions_and_resends_pending(session: Session) -> None:
    upsert_issue(session, make_issue("20210305"), "raw", "a.md")
    upsert_chat(session, -42, chat_type="group", title="AI 读书会", language_code="zh")
    subscribe(session, -42, ["GPT", "检测"])
    enqueue_deliveries(session, "20210305", {-42: [0, 1, 2]})
    sent = session.exec(select(Delivery).where(Delivery.message_index == 0)).one()
    assert sent.id is not None
    mark_sent(session, sent.id)

    new = migrate_chat(session, -42, SUPERGROUP)
    session.commit()

    assert (new.id, new.type, new.title, new.language_code, new.active) == (
        SUPERGROUP,
        "supergroup",
        "AI 读书会",
        "zh",
        True,
    )
    old = get_chat(session, -42)
    assert old is not None
    assert not old.active
    assert old.inactive_reason == f"migrated to {SUPERGROUP}"
    assert subscriptions_of(session, SUPERGROUP) == ["gpt", "检测"]
    assert subscriptions_of(session, -42) == []
    assert _deliveries(session, -42) == []
    assert [(i, s) for i, s, _ in _deliveries(session, SUPERGROUP)] == [
        (0, DeliveryStatus.SENT),
        (1, DeliveryStatus.PENDING),
        (2, DeliveryStatus.PENDING),
    ]
    # A second broadcast of the same issue adds nothing: the group already has it.
    assert enqueue_deliveries(session, "20210305", {SUPERGROUP: [0, 1, 2]}) == 0


def test_migration_into_a_chat_that_already_exists_merges(session: Session) -> None:
    upsert_issue(session, make_issue("20210305"), "raw", "a.md")
    upsert_chat(session, -42, chat_type="group")
    upsert_chat(session, SUPERGROUP, chat_type="supergroup")
    subscribe(session, -42, ["gpt", "nlp"])
    subscribe(session, SUPERGROUP, ["gpt"])
    enqueue_deliveries(session, "20210305", {-42: [0, 1], SUPERGROUP: [1]})

    migrate_chat(session, -42, SUPERGROUP)
    session.commit()

    assert subscriptions_of(session, SUPERGROUP) == ["gpt", "nlp"]
    assert [i for i, _, _ in _deliveries(session, SUPERGROUP)] == [0, 1]


def test_a_migrated_keyword_header_without_its_items_is_left_behind(session: Session) -> None:
    upsert_issue(session, make_issue("20210305"), "raw", "a.md")
    upsert_chat(session, -42, chat_type="group")
    upsert_chat(session, SUPERGROUP, chat_type="supergroup")
    subscribe(session, -42, ["gpt"])
    enqueue_deliveries(session, "20210305", {-42: [1]}, headers={-42: "🔔"})
    enqueue_deliveries(session, "20210305", {SUPERGROUP: [1]})  # as a whole-issue reader
    (had,) = session.exec(select(Delivery).where(Delivery.chat_id == SUPERGROUP)).all()
    mark_sent(session, had.id or 0)

    migrate_chat(session, -42, SUPERGROUP)  # it has item 1 already: no header for nothing
    session.commit()
    assert _deliveries(session, SUPERGROUP) == [(1, DeliveryStatus.SENT.value, None)]


@pytest.mark.parametrize("known", [True, False])
def test_migrating_an_unknown_group_creates_the_supergroup(session: Session, known: bool) -> None:
    if known:
        upsert_chat(session, SUPERGROUP, chat_type="supergroup", title="kept")
    chat = migrate_chat(session, -7, SUPERGROUP)
    assert chat.id == SUPERGROUP
    assert get_chat(session, SUPERGROUP) is not None
