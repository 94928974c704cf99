"""The search index (migration 0004): short Chinese words, words of mixed scripts, the index
following re-ingested and deleted issues, capped totals, and the same answers as a full scan."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.storage import (
    ItemRecord,
    items_of,
    list_issues,
    mark_published,
    migrate,
    search_items,
    upsert_issue,
)
from bot.storage import search as search_module
from bot.storage.migrate import alembic_config
from bot.storage.search import search_grams
from bot.storage.text import fold
from tests.storage.factories import insert_issue_row, make_issue, make_item

ITEMS = {
    "20230101": [
        ("大模型推理加速", "用 GPU 跑 LLaMA 模型，速度翻倍"),
        ("鲲鹏芯片", "华为发布新一代服务器芯片"),
        ("语音合成", "ＴＴＳ 模型开源，支持中英文"),
    ],
    "20230102": [
        ("模", "只有一个字的标题"),
        ("C++ 与 CUDA", "gpt-3.5 的 100% 复现；型号A100"),
    ],
    "20221231": [
        ("年终盘点：开源模型", "GitHub 上最火的 Transformer 项目"),
        ("自动驾驶", "nvidia 发布新芯片，模型更大"),
    ],
}


@pytest.fixture
def archive(session: Session) -> Session:
    for issue_id, items in ITEMS.items():
        issue = make_issue(issue_id, *(make_item(n, t, b) for n, (t, b) in enumerate(items, 1)))
        upsert_issue(session, issue, "raw", f"{issue_id}.md")
    session.commit()
    return session


def _hits(
    session: Session, *words: str, limit: int = 100, offset: int = 0, published_only: bool = False
) -> list[str]:
    page = search_items(session, words, limit=limit, offset=offset, published_only=published_only)
    return [f"{item.issue_id}/{item.number}" for item in page.items]


def _scan(session: Session, *words: str, published_only: bool = False) -> list[str]:
    """What search must answer: every folded word a substring, newest issue first."""
    needles = [fold(w.strip()) for w in words if w.strip()]
    return [
        f"{item.issue_id}/{item.number}"
        for issue in list_issues(session, limit=100, published_only=published_only)
        for item in items_of(session, issue.id)
        if needles and all(n in item.search_text for n in needles)
    ]


def test_two_character_chinese_words(archive: Session) -> None:
    assert _hits(archive, "芯片") == ["20230101/2", "20221231/2"]
    assert _hits(archive, "模型") == ["20230101/1", "20230101/3", "20221231/1", "20221231/2"]
    assert _hits(archive, "鲲鹏") == ["20230101/2"]


def test_one_character_chinese_words(archive: Session) -> None:
    assert _hits(archive, "鲲") == ["20230101/2"]
    assert _hits(archive, "模") == [
        "20230102/1", "20230101/1", "20230101/3", "20221231/1", "20221231/2",
    ]  # fmt: skip
    assert _hits(archive, "型") == [
        "20230102/2", "20230101/1", "20230101/3", "20221231/1", "20221231/2",
    ]  # fmt: skip


def test_words_of_mixed_scripts(archive: Session) -> None:
    assert _hits(archive, "GPU", "模型") == ["20230101/1"]
    assert _hits(archive, "nvidia", "芯片") == ["20221231/2"]
    assert _hits(archive, "tts 模型") == ["20230101/3"]  # one word: full-width ＴＴＳ folded
    assert _hits(archive, "a100") == ["20230102/2"]
    assert _hits(archive, "号a1") == ["20230102/2"]
    assert _hits(archive, "python", "模型") == []


def test_words_the_index_cannot_narrow_still_match(archive: Session) -> None:
    assert _hits(archive, "c++") == ["20230102/2"]  # no gram: LIKE alone
    assert _hits(archive, "100%") == ["20230102/2"]
    assert _hits(archive, "3.5") == ["20230102/2"]
    assert _hits(archive, "a", "芯片") == ["20221231/2"]  # one word with grams narrows
    assert _hits(archive, "c", "cuda") == ["20230102/2"]


def test_answers_are_those_of_a_full_scan(archive: Session) -> None:
    texts = [f"{t}\n{b}" for items in ITEMS.values() for t, b in items]
    # every substring of up to 4 characters of every item, and some pairs of them
    words = sorted({fold(s)[i : i + n] for s in texts for n in (1, 2, 3, 4) for i in range(len(s))})
    words = [w for w in words if w.strip()]
    for word in words:
        assert _hits(archive, word) == _scan(archive, word), word
    for first, second in zip(words[::7], words[3::7], strict=False):
        assert _hits(archive, first, second) == _scan(archive, first, second), (first, second)


def test_a_re_ingested_issue_updates_the_index(archive: Session) -> None:
    changed = make_issue(
        "20230101",
        make_item(1, "量子计算", "新的量子芯片"),
        make_item(2, "鲲鹏芯片", "华为发布新一代服务器芯片"),
    )
    upsert_issue(archive, changed, "raw", "20230101.md")
    archive.commit()
    assert _hits(archive, "量子") == ["20230101/1"]
    assert _hits(archive, "推理") == []
    assert _hits(archive, "语音") == []  # item 3 is gone
    assert _hits(archive, "芯片") == ["20230101/1", "20230101/2", "20221231/2"]


def test_an_edited_item_row_updates_the_index(archive: Session) -> None:
    item = archive.get(ItemRecord, ("20230101", 2))
    assert item is not None
    item.search_text = fold("量子计算")
    item.search_grams = search_grams(item.search_text)
    archive.add(item)
    archive.commit()
    assert _hits(archive, "鲲鹏") == []
    assert _hits(archive, "量子") == ["20230101/2"]


def test_a_deleted_issue_leaves_the_index(archive: Session) -> None:
    archive.execute(text("DELETE FROM issues WHERE id = '20230101'"))  # items go by cascade
    archive.commit()
    assert _hits(archive, "鲲鹏") == []
    assert _hits(archive, "芯片") == ["20221231/2"]
    # the same rows can come back: the index holds nothing stale under their keys
    upsert_issue(archive, make_issue("20230101", make_item(2, "鲲鹏芯片")), "raw", "x.md")
    archive.commit()
    assert _hits(archive, "鲲鹏") == ["20230101/2"]


def test_totals_are_exact_up_to_a_cap_above_the_page(
    archive: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "COUNT_STEP", 2)
    first = search_items(archive, ["模"], limit=1)
    assert (first.total, first.exact) == (2, False)  # more than 2
    deep = search_items(archive, ["模"], limit=1, offset=2)
    assert (deep.total, deep.exact) == (4, False)  # still above the page asked for
    assert [i.number for i in deep.items] == [3]
    last = search_items(archive, ["模"], limit=1, offset=4)
    assert (last.total, last.exact) == (5, True)
    assert search_items(archive, ["鲲鹏"], limit=1).exact


@pytest.mark.parametrize("published_only", [False, True], ids=["editor", "reader"])
@pytest.mark.parametrize(
    ("count_step", "window", "sort_limit"),
    [(100, 10, 5000), (1, 1, 5000), (1, 1, 1), (1, 100, 5000)],
    ids=["defaults", "gin-sort-deep", "walk-deep", "recent-window"],
)
def test_pages_follow_the_order_of_a_full_scan(
    archive: Session,
    monkeypatch: pytest.MonkeyPatch,
    count_step: int,
    window: int,
    sort_limit: int,
    published_only: bool,
) -> None:
    """Every way of paging (small settings make this archive take each of them) gives the
    pages of a full scan, one item at a time; a reader's scan skips the newest issue, which
    waits for PUBLISH_CRON."""
    for issue_id in ("20221231", "20230101"):
        mark_published(archive, issue_id)
    archive.commit()
    monkeypatch.setattr(search_module, "COUNT_STEP", count_step)
    monkeypatch.setattr(search_module, "WINDOW", window)
    monkeypatch.setattr(search_module, "SORT_LIMIT", sort_limit)
    only = {"published_only": published_only}
    for words in (["模"], ["型"], ["模型"], ["芯片"], ["a"], ["nvidia", "芯片"], ["发布"], ["%"]):
        everything = _scan(archive, *words, **only)
        pages = [
            _hits(archive, *words, limit=1, offset=k, **only) for k in range(len(everything) + 1)
        ]
        assert [hit for page in pages for hit in page] == everything, words
        totals = [
            search_items(archive, words, limit=1, offset=k, **only) for k in range(len(everything))
        ]
        for k, page in enumerate(totals):
            assert page.total > k, words
            assert page.total == len(everything) or not page.exact, words


def test_migration_indexes_items_stored_before_it(engine: Engine) -> None:
    """Downgrade below 0004, store items the old way, upgrade: they are found."""
    below = ScriptDirectory.from_config(alembic_config()).get_revision("0004").down_revision
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, str(below))
        insert_issue_row(connection, "20200101")
        connection.execute(
            text(
                "INSERT INTO items (issue_id, number, title, source, body_text, search_text) "
                "VALUES ('20200101', 1, 'x', '', '', :text)"
            ),
            {"text": fold("旧的模型 GPT")},
        )
    migrate(engine)
    with Session(engine) as session:
        assert _hits(session, "模型", "gpt") == ["20200101/1"]
        assert _hits(session, "旧") == ["20200101/1"]
