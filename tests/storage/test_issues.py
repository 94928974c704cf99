from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from bot.content.problems import Problem
from bot.storage import (
    BadFile,
    UpsertResult,
    bad_file_problem,
    bad_files,
    count_issues,
    forget_bad_file,
    get_issue,
    get_item,
    is_known_bad,
    issue_ids,
    issues_in_period,
    items_of,
    latest_issue,
    list_issues,
    mark_published,
    record_bad_file,
    stored_hashes,
    unpublished_issues,
    upsert_issue,
)
from tests.storage.factories import make_issue, make_item


def test_new_unchanged_updated(session: Session) -> None:
    issue = make_issue("20210305", make_item(1, "GPT-3"), make_item(2, "目标检测"))
    assert upsert_issue(session, issue, "raw v1", "20210305.md") is UpsertResult.NEW
    assert upsert_issue(session, issue, "raw v1", "20210305.md") is UpsertResult.UNCHANGED

    changed = make_issue("20210305", make_item(1, "GPT-4"), salt="v2")
    assert upsert_issue(session, changed, "raw v2", "20210305.md") is UpsertResult.UPDATED
    session.commit()

    record = get_issue(session, "20210305")
    assert record is not None
    assert record.raw_text == "raw v2"
    assert record.content_hash == changed.content_hash
    assert record.item_count == 1
    assert [item.title for item in items_of(session, "20210305")] == ["GPT-4"]  # replaced
    assert get_item(session, "20210305", 2) is None


def test_items_are_stored_with_their_details(session: Session) -> None:
    item = make_item(8, "Title | with pipe", "正文 body", url="https://example.com/a")
    upsert_issue(session, make_issue("20201218", item), "raw", "a.md")
    session.commit()
    stored = get_item(session, "20201218", 8)
    assert stored is not None
    assert (stored.title, stored.url, stored.source, stored.body_text) == (
        "Title | with pipe",
        "https://example.com/a",
        "机器之心",
        "正文 body",
    )


def test_timestamps_come_back_in_utc(session: Session) -> None:
    when = datetime(2021, 3, 5, 9, 0, tzinfo=UTC)
    upsert_issue(session, make_issue("20210305"), "raw", "a.md", now=when)
    session.commit()
    session.expire_all()
    record = get_issue(session, "20210305")
    assert record is not None
    assert record.created_at == when
    assert record.created_at.tzinfo is not None


def test_latest_and_list_are_newest_first(session: Session) -> None:
    for issue_id in ("20210114", "20210305", "20201218", "20210219"):
        upsert_issue(session, make_issue(issue_id), "raw", f"{issue_id}.md")
    session.commit()
    latest = latest_issue(session)
    assert latest is not None
    assert latest.id == "20210305"
    assert [i.id for i in list_issues(session, limit=3)] == ["20210305", "20210219", "20210114"]
    assert [i.id for i in list_issues(session, limit=3, offset=3)] == ["20201218"]


def test_issues_of_a_year_or_month_and_every_id_newest_first(session: Session) -> None:
    for issue_id in ("20210114", "20210305", "20201218", "20210312", "20210219"):
        upsert_issue(session, make_issue(issue_id), "raw", f"{issue_id}.md")
    mark_published(session, "20210305")
    session.commit()
    assert [i.id for i in issues_in_period(session, "2021")] == [
        "20210312",
        "20210305",
        "20210219",
        "20210114",
    ]
    assert [i.id for i in issues_in_period(session, "202103")] == ["20210312", "20210305"]
    assert [i.id for i in issues_in_period(session, "202103", published_only=True)] == ["20210305"]
    assert issues_in_period(session, "2019") == []
    assert issues_in_period(session, "%") == []  # a pattern character is only a character
    assert issue_ids(session) == ["20210312", "20210305", "20210219", "20210114", "20201218"]
    assert issue_ids(session, published_only=True) == ["20210305"]
    assert count_issues(session) == 5
    assert count_issues(session, published_only=True) == 1


def test_empty_archive(session: Session) -> None:
    assert latest_issue(session) is None
    assert list_issues(session) == []
    assert get_issue(session, "20990101") is None


def test_publishing_bookkeeping(session: Session) -> None:
    upsert_issue(session, make_issue("20210219"), "raw", "a.md")
    upsert_issue(session, make_issue("20210305"), "raw", "b.md")
    assert [i.id for i in unpublished_issues(session)] == ["20210219", "20210305"]
    mark_published(session, "20210219")
    session.commit()
    assert [i.id for i in unpublished_issues(session)] == ["20210305"]


def test_readers_list_only_published_issues(session: Session) -> None:
    for issue_id in ("20210219", "20210305", "20210312"):
        upsert_issue(session, make_issue(issue_id), "raw", f"{issue_id}.md")
    mark_published(session, "20210219")
    mark_published(session, "20210312")
    session.commit()
    latest = latest_issue(session, published_only=True)
    assert latest is not None
    assert latest.id == "20210312"
    assert [i.id for i in list_issues(session, published_only=True)] == ["20210312", "20210219"]
    assert len(list_issues(session)) == 3  # the editor's view keeps the waiting one


def test_no_published_issue_means_no_latest(session: Session) -> None:
    upsert_issue(session, make_issue("20210305"), "raw", "a.md")
    session.commit()
    assert latest_issue(session, published_only=True) is None
    assert list_issues(session, published_only=True) == []


def test_stored_hashes_by_file(session: Session) -> None:
    issue = make_issue("20210305")
    upsert_issue(session, issue, "raw", "20210305.md")
    assert stored_hashes(session) == {"20210305.md": issue.content_hash}


def test_bad_files_are_remembered_until_they_change(session: Session) -> None:
    record_bad_file(session, "broken.md", "hash-1", "not text: looks like a PNG image")
    session.commit()
    assert is_known_bad(session, "broken.md", "hash-1")
    assert not is_known_bad(session, "broken.md", "hash-2")  # changed: try again
    assert not is_known_bad(session, "other.md", "hash-1")

    record_bad_file(session, "broken.md", "hash-2", "no numbered items")
    assert [(f.file_name, f.content_hash, f.reason) for f in bad_files(session)] == [
        ("broken.md", "hash-2", "no numbered items")
    ]
    forget_bad_file(session, "broken.md")
    assert bad_files(session) == []


def test_a_bad_file_keeps_its_problem_for_later_scans(session: Session) -> None:
    problem = Problem("duplicate", (("issue_id", "20210305"), ("other", "旧的.md")))
    record_bad_file(
        session, "a.md", "hash-1", "issue 20210305 is already in 旧的.md", problem=problem
    )
    record_bad_file(session, "b.md", "hash-2", "could not be stored: disk on fire")
    session.commit()
    assert bad_file_problem(session, "a.md") == ("issue 20210305 is already in 旧的.md", problem)
    assert bad_file_problem(session, "b.md") == ("could not be stored: disk on fire", None)
    assert bad_file_problem(session, "gone.md") == ("", None)
    # Rewritten without a problem (it failed differently): the old problem must not linger.
    record_bad_file(session, "a.md", "hash-3", "could not be stored: disk on fire")
    assert bad_file_problem(session, "a.md") == ("could not be stored: disk on fire", None)
    numbered = Problem("item_number", (("number", 123456), ("limit", 9999)))
    record_bad_file(session, "c.md", "hash-4", "item number 123456 is too large", problem=numbered)
    assert bad_file_problem(session, "c.md")[1] == numbered  # numbers stay numbers
    # Rows garbled by hand still read, by their sentence.
    for garbled in ("{not json", '{"code": "bad_date", "details": {"date": ["<b>"]}}'):
        session.get(BadFile, "b.md").problem = garbled  # type: ignore[union-attr]
        assert bad_file_problem(session, "b.md") == ("could not be stored: disk on fire", None)
