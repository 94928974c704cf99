"""Search pages over the real issues in a real (SQLite) database: numbering, buttons, clamping,
and queries too long for callback data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from bot import storage
from bot.content import read_issue_file
from bot.handlers import keyboards
from bot.handlers.archive import search_page
from bot.handlers.texts import EN, ZH
from tests.content.html_check import assert_telegram_html

ISSUES = Path(__file__).resolve().parents[2] / "issues"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    engine = storage.make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'bot.db'}")
    storage.migrate(engine)
    with Session(engine) as session:
        for path in sorted(ISSUES.glob("*.md")):
            read = read_issue_file(path.read_bytes(), file_name=path.name)
            storage.upsert_issue(session, read.issue, read.text, path.name)
        session.commit()
        yield session
    engine.dispose()


def data(view_markup: keyboards.InlineKeyboardMarkup | None) -> list[str]:
    assert view_markup is not None
    return [str(b.callback_data) for row in view_markup.inline_keyboard for b in row]


def test_pages_number_results_over_all_pages_and_link_each_item(session: Session) -> None:
    matches = storage.search_items(session, ["模型"], limit=1000).items
    assert len(matches) > 10  # three pages at least, so there is a middle one
    view = search_page(session, ZH, "模型", 1, published_only=False)
    assert_telegram_html(view.text)
    assert view.text.splitlines()[2].startswith("6. ")
    assert data(view.markup) == [
        *(f"t:{m.issue_id}:{m.number}" for m in matches[5:10]),
        "s:0:模型",
        "s:2:模型",
    ]
    assert view.ref == "模型"


def test_a_page_past_the_end_shows_the_last_page(session: Session) -> None:
    total = storage.search_items(session, ["模型"], limit=0).total
    last = (total - 1) // 5
    view = search_page(session, EN, "模型", 999, published_only=False)
    assert f"page {last + 1}/{last + 1}" in view.text
    assert data(view.markup)[-1] == f"s:{last - 1}:模型"


def test_no_match_has_no_buttons_and_escapes_the_query(session: Session) -> None:
    view = search_page(session, EN, "<zzqxv>", 0, published_only=False)
    assert view.markup is None
    assert view.ref is None
    assert "&lt;zzqxv&gt;" in view.text
    assert_telegram_html(view.text)


def test_a_query_too_long_for_the_buttons_is_stored_under_their_digest(
    session: Session,
) -> None:
    query = " ".join(["模型"] * 12)  # 83 bytes: more than a button's 64
    view = search_page(session, EN, query, 0, published_only=False)
    assert view.ref is not None
    assert keyboards.is_digest(view.ref)
    assert f"s:1:{view.ref}" in data(view.markup)
    assert storage.recall_query(session, view.ref) == query
    short = search_page(session, EN, "模型", 0, published_only=False)
    assert short.ref == "模型"  # travels in the buttons, nothing stored
    assert storage.recall_query(session, keyboards.query_ref("模型" * 40, 1)) is None
