from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.storage import (
    MAX_KEYWORD_LENGTH,
    Delivery,
    DeliveryStatus,
    Followed,
    Notice,
    Subscription,
    audience_for_issue,
    audience_of,
    deactivate_chat,
    drop_deliveries_not_followed,
    enqueue_deliveries,
    enqueue_notice,
    followed,
    normalize_keyword,
    requeue_deliveries,
    subscribe,
    subscribers_for_item,
    subscription_labels,
    subscription_of,
    subscriptions_of,
    unsubscribe,
    upsert_chat,
    upsert_issue,
)
from tests.storage.factories import make_issue, make_item

GPT_ITEM = make_item(1, "OpenAI 发布 GPT-3 论文", "大规模语言模型的少样本学习能力")
DETECTION_ITEM = make_item(2, "NanoDet：轻量级目标检测", "移动端实时的 anchor-free 检测器")
FULLWIDTH_ITEM = make_item(3, "ＴｅｎｓｏｒＦｌｏｗ　２．４ 发布", "")


@pytest.fixture
def chats(session: Session) -> Session:
    for chat_id in (1, 2, 3, 4):
        upsert_chat(session, chat_id, chat_type="private")
    return session


def test_subscribe_to_everything_once(chats: Session) -> None:
    assert subscribe(chats, 1) == [None]
    assert subscribe(chats, 1) == []  # idempotent
    chats.commit()
    assert subscriptions_of(chats, 1) == [None]


def test_keywords_are_folded_and_deduplicated_and_shown_as_written(chats: Session) -> None:
    assert subscribe(chats, 1, ["GPT", "gpt", " 检测 "]) == ["GPT", "检测"]
    assert subscribe(chats, 1, ["Gpt", "ＮＬＰ"]) == ["ＮＬＰ"]
    assert subscriptions_of(chats, 1) == ["gpt", "nlp", "检测"]  # what items are matched by
    assert subscription_labels(chats, 1) == ["GPT", "ＮＬＰ", "检测"]  # what the reader sees
    subscribe(chats, 2)
    assert subscription_labels(chats, 2) == [None]


def test_followed_rows_are_found_by_id_only_in_their_own_chat(chats: Session) -> None:
    subscribe(chats, 1, ["GPT", "检测"])
    subscribe(chats, 2)
    mine = followed(chats, 1)
    assert [(f.keyword, f.label) for f in mine] == [("gpt", "GPT"), ("检测", "检测")]
    everything = followed(chats, 2)
    assert [(f.keyword, f.label) for f in everything] == [(None, None)]
    assert subscription_of(chats, 1, mine[0].id) == Followed(mine[0].id, "gpt", "GPT")
    assert subscription_of(chats, 1, everything[0].id) is None  # chat 2's: not for chat 1
    assert subscription_of(chats, 1, 10**6) is None


def test_keywords_stored_before_labels_show_folded_until_written_again(chats: Session) -> None:
    chats.add(Subscription(chat_id=1, keyword="gpt"))  # a row from before migration 0008
    assert subscription_labels(chats, 1) == ["gpt"]
    assert subscribe(chats, 1, ["GPT"]) == []  # already followed...
    assert subscription_labels(chats, 1) == ["GPT"]  # ...and now shown as written


def test_a_label_is_never_cut_into_another_keyword(chats: Session) -> None:
    decomposed = "e\u0301" * 40  # 80 code points that fold (composed) to 40
    subscribe(chats, 1, [decomposed])
    assert subscription_labels(chats, 1) == ["é" * 40]  # composed, whole
    subscribe(chats, 2, ["\u200bGPT\u200d"])  # invisible characters pasted along
    assert subscription_labels(chats, 2) == ["GPT"]


def test_keywords_replace_everything_and_back(chats: Session) -> None:
    subscribe(chats, 1)
    subscribe(chats, 1, ["gpt"])
    assert subscriptions_of(chats, 1) == ["gpt"]
    subscribe(chats, 1)
    assert subscriptions_of(chats, 1) == [None]


def test_bad_keywords_change_nothing(chats: Session) -> None:
    subscribe(chats, 1, ["gpt"])
    with pytest.raises(ValueError, match="longer than"):
        subscribe(chats, 1, ["ok", "x" * 500])
    with pytest.raises(ValueError, match="empty"):
        normalize_keyword("   ")
    with pytest.raises(ValueError, match="empty"):
        normalize_keyword("\u200b\u2060")  # nothing a reader could see
    assert normalize_keyword("Ｘ" * MAX_KEYWORD_LENGTH) == "x" * MAX_KEYWORD_LENGTH
    assert subscriptions_of(chats, 1) == ["gpt"]


def test_unsubscribe_one_keyword_or_everything(chats: Session) -> None:
    subscribe(chats, 1, ["gpt", "nlp"])
    assert unsubscribe(chats, 1, "GPT") == 1
    assert unsubscribe(chats, 1, "missing") == 0
    assert subscriptions_of(chats, 1) == ["nlp"]
    assert unsubscribe(chats, 1) == 1
    assert subscriptions_of(chats, 1) == []
    subscribe(chats, 2)
    assert unsubscribe(chats, 2) == 1
    assert subscriptions_of(chats, 2) == []


def test_keyword_matching(chats: Session) -> None:
    subscribe(chats, 1)  # everything
    subscribe(chats, 2, ["gpt"])  # Latin, any case in the text
    subscribe(chats, 3, ["目标检测"])  # a Chinese substring of the title
    subscribe(chats, 4, ["tensorflow 2.4"])  # full-width text matches half-width keyword
    chats.commit()

    assert subscribers_for_item(chats, GPT_ITEM) == {1, 2}
    assert subscribers_for_item(chats, DETECTION_ITEM) == {1, 3}
    assert subscribers_for_item(chats, FULLWIDTH_ITEM) == {1, 4}


def test_invisible_characters_do_not_keep_a_keyword_from_matching(chats: Session) -> None:
    subscribe(chats, 1, ["G\u200bPT"])  # a zero-width space, copied with the word
    assert subscriptions_of(chats, 1) == ["gpt"]
    assert normalize_keyword("\u2066NLP\u2069 ") == "nlp"  # a direction isolate around it
    assert subscribers_for_item(chats, GPT_ITEM) == {1}


def test_keywords_match_the_body_and_chinese_substrings(chats: Session) -> None:
    subscribe(chats, 1, ["语言模型"])  # in the body only
    subscribe(chats, 2, ["ANCHOR-FREE"])
    subscribe(chats, 3, ["检"])  # a single character is still a substring
    assert subscribers_for_item(chats, GPT_ITEM) == {1}
    assert subscribers_for_item(chats, DETECTION_ITEM) == {2, 3}


def test_inactive_chats_get_nothing(chats: Session) -> None:
    subscribe(chats, 1)
    subscribe(chats, 2, ["gpt"])
    deactivate_chat(chats, 1, "bot was blocked by the user")
    deactivate_chat(chats, 2, "chat not found")
    assert subscribers_for_item(chats, GPT_ITEM) == set()


def test_audience_for_an_issue(chats: Session) -> None:
    subscribe(chats, 1)
    subscribe(chats, 2, ["gpt", "检测"])
    subscribe(chats, 3, ["nothing matches this"])
    subscribe(chats, 4, ["发布"])
    audience = audience_for_issue(chats, [GPT_ITEM, DETECTION_ITEM, FULLWIDTH_ITEM])
    assert audience == {1: None, 2: frozenset({1, 2}), 4: frozenset({1, 3})}


def test_the_audience_says_which_keywords_brought_each_chat_its_items(chats: Session) -> None:
    subscribe(chats, 1)
    subscribe(chats, 2, ["检测", "GPT", "nothing matches this"])
    subscribe(chats, 4, ["发布"])
    audience = audience_of(chats, [GPT_ITEM, DETECTION_ITEM, FULLWIDTH_ITEM])
    assert audience.everything == {1}
    assert audience.keywords[2].numbers == {1, 2}
    assert audience.keywords[2].labels == ("GPT", "检测")  # as written, in /subscriptions order
    assert audience.keywords[4].labels == ("发布",)
    assert set(audience.keywords) == {2, 4}


def _queued(session: Session, chat_id: int) -> list[tuple[str | None, int | None]]:
    rows = session.exec(
        select(Delivery.issue_id, Delivery.item_number).where(
            Delivery.chat_id == chat_id, Delivery.status == DeliveryStatus.PENDING.value
        )
    ).all()
    return sorted(rows, key=str)


def test_a_narrower_subscription_drops_the_queued_items_it_no_longer_follows(
    chats: Session,
) -> None:
    issue = make_issue("20210305", GPT_ITEM, DETECTION_ITEM, FULLWIDTH_ITEM)
    upsert_issue(chats, issue, "raw", "a.md")
    upsert_issue(chats, make_issue("20210219"), "raw", "b.md")  # items 1 and 2, no keyword
    numbers = [None, 1, 2, 3]  # the header, then the items
    subscribe(chats, 1, ["gpt", "检测"])
    subscribe(chats, 2)
    enqueue_deliveries(chats, "20210305", {1: [1, 2], 2: [0, 1, 2, 3]}, item_numbers=numbers)
    requeue_deliveries(chats, 1, "20210219", [0, 1], item_numbers=[None, 1])  # it asked

    unsubscribe(chats, 1, "检测")
    assert drop_deliveries_not_followed(chats, 1, "no longer followed") == 1
    assert _queued(chats, 1) == [("20210219", 1), ("20210219", None), ("20210305", 1)]

    subscribe(chats, 2, ["发布"])  # keywords instead of everything: no header, no item 2
    assert drop_deliveries_not_followed(chats, 2, "no longer followed") == 2
    assert _queued(chats, 2) == [("20210305", 1), ("20210305", 3)]

    notice = Notice(text="📣")
    chats.add(notice)
    chats.flush()
    enqueue_notice(chats, notice.id or 0, [1, 2])
    unsubscribe(chats, 1, "gpt")  # following nothing now; what it asked for still comes
    assert drop_deliveries_not_followed(chats, 1, "no longer followed") == 2  # item 1, notice
    assert _queued(chats, 1) == [("20210219", 1), ("20210219", None)]
    assert drop_deliveries_not_followed(chats, 2, "no longer followed") == 0  # still follows


def test_a_keyword_chats_header_goes_with_the_last_item_it_introduces(chats: Session) -> None:
    upsert_issue(chats, make_issue("20210305", GPT_ITEM, DETECTION_ITEM), "raw", "a.md")
    subscribe(chats, 1, ["gpt", "检测"])
    enqueue_deliveries(chats, "20210305", {1: [1, 2]}, item_numbers=[None, 1, 2], headers={1: "🔔"})
    assert _queued(chats, 1) == [("20210305", 1), ("20210305", 2), ("20210305", None)]

    unsubscribe(chats, 1, "检测")
    assert drop_deliveries_not_followed(chats, 1, "no longer followed") == 1
    assert _queued(chats, 1) == [("20210305", 1), ("20210305", None)]  # it still introduces 1

    subscribe(chats, 1, ["nothing matches this"])
    unsubscribe(chats, 1, "gpt")
    assert drop_deliveries_not_followed(chats, 1, "no longer followed") == 2  # item 1, header
    assert _queued(chats, 1) == []


@pytest.mark.parametrize("keywords", [[], ["GPT"]], ids=["everything", "keyword"])
def test_a_twin_subscribe_that_loses_the_race_is_not_an_error(
    engine: Engine, keywords: list[str]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the twin reads after the first commits")
    with Session(engine) as setup:
        upsert_chat(setup, 9, chat_type="private")
        setup.commit()
    with Session(engine) as first, Session(engine) as twin:
        subscribe(first, 9, keywords)  # not committed yet
        twin_pid = twin.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        outcome: dict[str, object] = {}

        def subscribe_twin() -> None:
            try:
                outcome["added"] = subscribe(twin, 9, keywords)
                twin.commit()
            except Exception as error:  # reported below, not lost in the thread
                outcome["error"] = error

        thread = threading.Thread(target=subscribe_twin)
        thread.start()
        # The twin read no row, and now waits on the unique index for the first to end.
        _wait_until(lambda: _waits_for_a_lock(engine, twin_pid) or not thread.is_alive())
        first.commit()
        thread.join(timeout=10)
    assert "error" not in outcome
    with Session(engine) as check:
        assert subscriptions_of(check, 9) == ([None] if not keywords else ["gpt"])


def _waits_for_a_lock(engine: Engine, pid: int) -> bool:
    with engine.connect() as connection:
        waiting = connection.exec_driver_sql(
            f"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = {int(pid)}"
        )
        return bool(waiting.scalar())


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
