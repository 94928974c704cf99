from __future__ import annotations

import pytest
from sqlmodel import Session

from bot.storage import mark_published, search_items, upsert_issue
from tests.storage.factories import make_issue, make_item


@pytest.fixture
def archive(session: Session) -> Session:
    upsert_issue(
        session,
        make_issue(
            "20201218",
            make_item(1, "PyTorch 1.7 发布", "支持 CUDA 11"),
            make_item(2, "目标检测综述", "YOLO 与 Faster R-CNN"),
        ),
        "raw",
        "20201218.md",
    )
    upsert_issue(
        session,
        make_issue(
            "20210305",
            make_item(1, "NanoDet：超轻量目标检测", "移动端 97fps，基于 PyTorch"),
            make_item(2, "100% 准确率？", "警惕 data_leak 问题"),
            make_item(3, "ＧＰＴ－３ 的少样本学习", ""),
        ),
        "raw",
        "20210305.md",
    )
    session.commit()
    return session


def _hits(page_items: list) -> list[tuple[str, int]]:
    return [(item.issue_id, item.number) for item in page_items]


def test_latin_is_case_insensitive_and_newest_first(archive: Session) -> None:
    page = search_items(archive, ["pytorch"])
    assert page.total == 2
    assert _hits(page.items) == [("20210305", 1), ("20201218", 1)]


def test_chinese_substrings_match(archive: Session) -> None:
    assert _hits(search_items(archive, ["目标检测"]).items) == [("20210305", 1), ("20201218", 2)]
    assert _hits(search_items(archive, ["检测综"]).items) == [("20201218", 2)]


def test_every_word_must_match(archive: Session) -> None:
    assert _hits(search_items(archive, ["目标检测", "PyTorch"]).items) == [("20210305", 1)]


def test_full_width_text_matches_half_width_words(archive: Session) -> None:
    assert _hits(search_items(archive, ["gpt-3"]).items) == [("20210305", 3)]


def test_wildcards_are_literal(archive: Session) -> None:
    assert _hits(search_items(archive, ["100%"]).items) == [("20210305", 2)]
    assert _hits(search_items(archive, ["data_leak"]).items) == [("20210305", 2)]
    assert search_items(archive, ["%"]).total == 1
    assert search_items(archive, ["_"]).total == 1


def test_pages(archive: Session) -> None:
    first = search_items(archive, ["检测"], limit=1)
    second = search_items(archive, ["检测"], limit=1, offset=1)
    assert (first.total, second.total) == (2, 2)
    assert _hits(first.items + second.items) == [("20210305", 1), ("20201218", 2)]
    assert search_items(archive, ["检测"], limit=1, offset=2).items == []


def test_no_words_or_no_match(archive: Session) -> None:
    assert search_items(archive, []).empty
    assert search_items(archive, ["  "]).empty
    assert search_items(archive, ["量子计算机"]).empty


def test_published_only_leaves_out_waiting_issues(archive: Session) -> None:
    mark_published(archive, "20201218")  # 20210305 still waits for PUBLISH_CRON
    archive.commit()
    for words in (["pytorch"], ["目标检测"], ["检测综"], ["%"], ["ai"]):
        page = search_items(archive, words, published_only=True)
        assert all(item.issue_id == "20201218" for item in page.items), words
        assert page.total == len(page.items)
    assert _hits(search_items(archive, ["pytorch"], published_only=True).items) == [("20201218", 1)]
    assert search_items(archive, ["gpt-3"], published_only=True).empty
    assert search_items(archive, ["100%"], published_only=True).empty
    assert search_items(archive, ["pytorch"]).total == 2  # the editor's view finds both


def test_published_only_with_every_issue_published(archive: Session) -> None:
    mark_published(archive, "20201218")
    mark_published(archive, "20210305")
    archive.commit()
    assert _hits(search_items(archive, ["目标检测"], published_only=True).items) == [
        ("20210305", 1),
        ("20201218", 2),
    ]


def test_invisible_characters_neither_match_everything_nor_block_a_match(
    archive: Session,
) -> None:
    assert search_items(archive, ["\u200b"]).empty
    assert _hits(search_items(archive, ["Py\u200bTorch", "1.7"]).items) == [("20201218", 1)]
