"""A scan of real files into a real database, and the broadcast that follows."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest
import telegram
from sqlalchemy import Engine
from sqlalchemy import delete as sa_delete
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot import ingest, storage
from bot.config import Settings
from bot.content import read_issue_file
from bot.delivery.broadcast import (
    MessageBook,
    broadcast_issue,
    follow_changed_subscription,
    request_for_chat,
)
from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.handlers import views
from bot.handlers.texts import ZH
from bot.ingest import FileStatus, ingest_directory
from bot.services import Services
from tests.conftest import seed_path

NAMELESS = "> 导读：本期新闻很精彩\n\n# 1. [八月 芯片](https://a.example) | 源\n\n正文\n"


def _statuses(engine: Engine, issues: Path) -> dict[str, FileStatus]:
    return {f.file_name: f.status for f in ingest_directory(engine, issues).files}


def test_an_issue_dated_only_by_its_file_name_is_broadcast(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "20210801.md").write_text(NAMELESS, encoding="utf-8")
    assert _statuses(engine, tmp_path) == {"20210801.md": FileStatus.NEW}
    with Session(engine) as session:
        storage.upsert_chat(session, 7, chat_type="private")
        storage.subscribe(session, 7)
        # The stored text has no date of its own: rebuilding its messages needs the file name.
        assert broadcast_issue(session, "20210801") == 2  # the header and the one item
        session.commit()


def test_an_item_number_too_large_for_the_database_is_a_bad_file(
    engine: Engine, tmp_path: Path
) -> None:
    huge = "> AI 简报 20210603 期\n\n# 99999999999999999999. [大号](https://a.example) | 源\n"
    (tmp_path / "20210603.md").write_text(huge, encoding="utf-8")
    (tmp_path / "20210701.md").write_bytes(seed_path("002").read_bytes())
    report = ingest_directory(engine, tmp_path)
    assert [(f.file_name, f.status) for f in report.files] == [
        ("20210603.md", FileStatus.BAD),
        ("20210701.md", FileStatus.NEW),
    ]
    assert "too large" in report.files[0].reason


def test_a_file_that_fails_unexpectedly_is_remembered_and_the_scan_goes_on(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.md").write_bytes(seed_path("001").read_bytes())
    (tmp_path / "b.md").write_bytes(seed_path("002").read_bytes())
    upsert = storage.upsert_issue

    def fail_for_a(session: Session, issue, text: str, name: str):  # type: ignore[no-untyped-def]
        if name == "a.md":
            raise RuntimeError("disk on fire")
        return upsert(session, issue, text, name)

    monkeypatch.setattr(ingest.storage, "upsert_issue", fail_for_a)
    report = ingest_directory(engine, tmp_path)
    assert [(f.file_name, f.status) for f in report.files] == [
        ("a.md", FileStatus.BAD),
        ("b.md", FileStatus.NEW),
    ]
    assert report.files[0].reason == "could not be stored: disk on fire"
    monkeypatch.undo()
    # Remembered: the same bytes are skipped, not retried with a traceback every scan.
    assert _statuses(engine, tmp_path)["a.md"] == FileStatus.STILL_BAD


def test_a_file_still_bad_is_worded_in_the_editors_language_again(
    engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "photo.md").write_bytes(b"\x89PNG\x00\x00\x00")
    first = ingest_directory(engine, tmp_path)
    again = ingest_directory(engine, tmp_path)
    assert [f.status for f in again.files] == [FileStatus.STILL_BAD]
    assert again.files[0].problem == first.files[0].problem
    assert again.files[0].reason == "binary data (NUL bytes), not a text file"
    assert views.scan_text(ZH, again).splitlines()[1] == (
        "photo.md：仍有问题：二进制数据（含 NUL 字节），不是文本文件"
    )


def test_a_second_copy_of_an_issue_stays_bad_and_names_its_issue(
    engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "a.md").write_bytes(seed_path("001").read_bytes())
    (tmp_path / "b.md").write_bytes(seed_path("001").read_bytes())
    first = ingest_directory(engine, tmp_path).files[1]
    again = ingest_directory(engine, tmp_path).files[1]
    assert (first.status, again.status) == (FileStatus.BAD, FileStatus.STILL_BAD)
    assert again.issue_id == first.issue_id == "20210305"
    assert again.reason == "issue 20210305 is already in a.md"


def test_a_file_that_fails_then_changes_is_read_again(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.md").write_bytes(seed_path("001").read_bytes())
    upsert = storage.upsert_issue

    def fail_while_the_editor_saves(session: Session, issue, text: str, name: str):  # type: ignore[no-untyped-def]
        (tmp_path / "a.md").write_bytes(seed_path("002").read_bytes())  # a new version
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest.storage, "upsert_issue", fail_while_the_editor_saves)
    assert _statuses(engine, tmp_path) == {"a.md": FileStatus.BAD}
    monkeypatch.setattr(ingest.storage, "upsert_issue", upsert)
    # What failed was the old version; the new one is not taken for it.
    assert _statuses(engine, tmp_path) == {"a.md": FileStatus.NEW}


def _add_chat(engine: Engine, chat_id: int) -> None:
    with Session(engine) as session:
        storage.upsert_chat(session, chat_id, chat_type="private")
        session.commit()


def test_a_new_install_takes_its_first_files_as_the_archive(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "20210305.md").write_bytes(seed_path("001").read_bytes())
    ingest_directory(engine, tmp_path)
    with Session(engine) as session:
        assert storage.unpublished_issues(session) == []  # PUBLISH_CRON will not send it
    _add_chat(engine, 7)
    (tmp_path / "20210701.md").write_bytes(seed_path("002").read_bytes())
    ingest_directory(engine, tmp_path)
    with Session(engine) as session:
        assert [r.id for r in storage.unpublished_issues(session)] == ["20201218"]


def test_a_new_install_stopped_mid_scan_keeps_what_it_stored_as_the_archive(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.md").write_bytes(seed_path("001").read_bytes())
    (tmp_path / "b.md").write_bytes(seed_path("002").read_bytes())
    upsert = storage.upsert_issue

    def database_gone_at_b(session: Session, issue, text: str, name: str):  # type: ignore[no-untyped-def]
        if name == "b.md":
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return upsert(session, issue, text, name)

    monkeypatch.setattr(ingest.storage, "upsert_issue", database_gone_at_b)
    with pytest.raises(OperationalError):
        ingest_directory(engine, tmp_path)
    with Session(engine) as session:
        stored = storage.get_issue(session, "20210305")
        assert stored is not None
        assert stored.published_at is not None  # archived, not waiting for a broadcast
    monkeypatch.undo()
    ingest_directory(engine, tmp_path)  # the restart's scan stores the rest
    with Session(engine) as session:
        assert storage.unpublished_issues(session) == []  # the rest is archive too


def test_issues_dropped_after_the_first_reader_came_are_new(engine: Engine, tmp_path: Path) -> None:
    _add_chat(engine, 7)
    (tmp_path / "20210305.md").write_bytes(seed_path("001").read_bytes())
    ingest_directory(engine, tmp_path)
    with Session(engine) as session:
        assert [r.id for r in storage.unpublished_issues(session)] == ["20210305"]


EDITED = """> 导读：本期为 AI 简报 20210901 期

# 1. [第一条](https://a.example/1) | 源

![](https://a.example/p.png)

正文一。
{gif}
# 2. [第二条](https://a.example/2) | 源

正文二。

# 3. [第三条](https://a.example/3) | 源

正文三。
"""


def _rows(session: Session) -> dict[tuple[int, int], tuple[int | None, str]]:
    rows = session.exec(select(storage.Delivery)).all()
    return {(r.chat_id, r.message_index): (r.item_number, r.status) for r in rows}


def test_an_issue_edited_mid_broadcast_keeps_each_chat_on_its_items(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "20210901.md"
    path.write_text(EDITED.format(gif=""), encoding="utf-8")
    with Session(engine) as session:
        for chat in (1, 2, 3):
            storage.upsert_chat(session, chat, chat_type="private")
        storage.subscribe(session, 1)  # every item
        storage.subscribe(session, 2, ["第二条"])  # item 2 only
        storage.subscribe(session, 3, ["第一条"])  # item 1 only
        session.commit()
    ingest_directory(engine, tmp_path)
    with Session(engine) as session:
        broadcast_issue(session, "20210901")
        # Chat 1 got the header and item 1; the rest is still queued.
        for row in session.exec(select(storage.Delivery).where(storage.Delivery.chat_id == 1)):
            if row.message_index < 2:
                storage.mark_sent(session, row.id)
        session.commit()
        before = _rows(session)
        # A claim the sender made before the edit, still holding the old place.
        (claimed,) = session.exec(
            select(storage.Delivery).where(
                storage.Delivery.chat_id == 2, storage.Delivery.message_index >= 0
            )
        ).all()
        session.expunge(claimed)
    assert before == {
        (1, 0): (None, "sent"),
        (1, 1): (1, "sent"),
        (1, 2): (2, "pending"),
        (1, 3): (3, "pending"),
        (2, -1): (None, "pending"),  # the keyword chats' own headers
        (2, 2): (2, "pending"),
        (3, -1): (None, "pending"),
        (3, 1): (1, "pending"),
    }

    # Item 1 gains an animation: one more message, and every later one moves down.
    path.write_text(EDITED.format(gif="\n![](https://a.example/x.gif)\n"), encoding="utf-8")
    assert _statuses(engine, tmp_path) == {"20210901.md": FileStatus.UPDATED}
    with Session(engine) as session:
        assert _rows(session) == {
            (1, 0): (None, "sent"),
            (1, 1): (1, "sent"),  # already had item 1: its new part is not sent on its own
            (1, 3): (2, "pending"),
            (1, 4): (3, "pending"),
            (2, -1): (None, "pending"),  # a header stays before what it introduces
            (2, 3): (2, "pending"),  # still item 2, not item 1's animation
            (3, -1): (None, "pending"),
            (3, 1): (1, "pending"),
            (3, 2): (1, "pending"),  # still due item 1: its new part too
        }
        (message,) = MessageBook().messages(session, [claimed])
        assert claimed.message_index == 2  # read before the edit: now item 1's animation
        assert message is not None
        assert message.item_number == 2  # the book reads where the row is now

    # Item 2 is removed: its deliveries go, and so does chat 2's header, which would now
    # introduce nothing; nothing else moves.
    text = EDITED.format(gif="\n![](https://a.example/x.gif)\n")
    path.write_text(text.replace("# 2. [第二条](https://a.example/2) | 源\n\n正文二。\n", ""))
    assert _statuses(engine, tmp_path) == {"20210901.md": FileStatus.UPDATED}
    with Session(engine) as session:
        assert _rows(session) == {
            (1, 0): (None, "sent"),
            (1, 1): (1, "sent"),
            (1, 3): (3, "pending"),
            (3, -1): (None, "pending"),
            (3, 1): (1, "pending"),
            (3, 2): (1, "pending"),
        }


def test_an_item_added_mid_broadcast_reaches_the_chats_still_receiving_the_issue(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "20210901.md"
    path.write_text(EDITED.format(gif=""), encoding="utf-8")
    with Session(engine) as session:
        for chat in (1, 2, 3, 4):
            storage.upsert_chat(session, chat, chat_type="private")
        storage.subscribe(session, 1)  # every item, half received
        storage.subscribe(session, 2, ["第二条"])
        storage.subscribe(session, 3, ["第一条"])
        storage.subscribe(session, 4)  # every item, all received
        session.commit()
    ingest_directory(engine, tmp_path)
    with Session(engine) as session:
        broadcast_issue(session, "20210901")
        for row in session.exec(select(storage.Delivery)):
            if row.chat_id == 4 or (row.chat_id == 1 and row.message_index < 2):
                storage.mark_sent(session, row.id)
        session.commit()

    fourth = "\n# 4. [第四条](https://a.example/4) | 源\n\n和第二条有关。\n"
    path.write_text(EDITED.format(gif="") + fourth, encoding="utf-8")
    (edited,) = ingest_directory(engine, tmp_path).files
    assert edited.status == FileStatus.UPDATED
    with Session(engine) as session:
        new_rows = {key: row for key, row in _rows(session).items() if key[1] == 4}
    assert new_rows == {
        (1, 4): (4, "pending"),  # still receiving the issue: its new item too
        (2, 4): (4, "pending"),  # its keyword is in the new item
    }  # chat 3's keyword is not; chat 4 has had the whole issue (/push would send it)
    assert edited.news_missed  # ...and the editor is told so
    assert "/push 20210901 可补发" in views.scan_text(ZH, ingest.ScanReport(files=[edited]))

    reworded_text = EDITED.format(gif="") + fourth.replace("和第二条", "与第二条")
    path.write_text(reworded_text, encoding="utf-8")
    (reworded,) = ingest_directory(engine, tmp_path).files
    assert not reworded.news_missed  # a changed word is no new message: nothing to push


def test_a_file_still_being_written_is_read_once_it_has_settled(
    engine: Engine, tmp_path: Path
) -> None:
    _add_chat(engine, 7)  # someone to send it to
    whole = seed_path("001").read_bytes()
    path = tmp_path / "20210305.md"
    path.write_bytes(whole[: len(whole) // 2])  # an editor's copy, half way: modified just now
    report = ingest_directory(engine, tmp_path, settle=10)
    assert [(f.file_name, f.status) for f in report.files] == [("20210305.md", FileStatus.WRITING)]
    assert report.writing == report.files
    assert report.changed == report.bad == []
    with Session(engine) as session:
        assert storage.get_issue(session, "20210305") is None  # half an issue is not an issue
    path.write_bytes(whole)
    _age(path, seconds=11)
    assert _statuses_settled(engine, tmp_path) == {"20210305.md": FileStatus.NEW}
    with Session(engine) as session:
        stored = storage.get_issue(session, "20210305")
        assert stored is not None
        assert stored.item_count == 9
    path.touch()  # modified, not changed: as unchanged as before
    assert _statuses_settled(engine, tmp_path) == {"20210305.md": FileStatus.UNCHANGED}


def test_a_file_deleted_during_a_scan_is_not_reported(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "20210305.md").write_bytes(seed_path("001").read_bytes())
    # Listed, then deleted (or renamed by the editor's tool) before the scan reads it.
    listed = [tmp_path / "20210226.md", *ingest.issue_files(tmp_path)]
    monkeypatch.setattr(ingest, "issue_files", lambda _: listed)
    assert _statuses(engine, tmp_path) == {"20210305.md": FileStatus.NEW}


def test_a_file_written_whole_is_read_at_once(engine: Engine, tmp_path: Path) -> None:
    _add_chat(engine, 7)
    (tmp_path / "20210305.md").write_bytes(seed_path("001").read_bytes())
    report = ingest_directory(engine, tmp_path, settle=10, complete={"20210305.md"})
    assert [f.status for f in report.files] == [FileStatus.NEW]


def test_a_new_install_reads_fresh_files_at_once_as_its_archive(
    engine: Engine, tmp_path: Path
) -> None:
    # Nobody to send to yet: waiting would only let a first reader be sent them as news.
    (tmp_path / "20210305.md").write_bytes(seed_path("001").read_bytes())
    assert _statuses_settled(engine, tmp_path) == {"20210305.md": FileStatus.NEW}
    with Session(engine) as session:
        assert storage.unpublished_issues(session) == []  # archived, not waiting


@pytest.mark.parametrize(
    ("age", "settling"), [(0.0, True), (9.9, True), (10.0, False), (3600.0, False), (-5.0, True)]
)
def test_a_file_settles_once_unmodified_for_the_settle_time(age: float, settling: bool) -> None:
    # A negative age: modified "in the future" by a share whose clock runs a little ahead.
    assert ingest.is_settling(modified=1000.0 - age, now=1000.0, settle=10.0) is settling
    assert ingest.is_settling(modified=1000.0 - age, now=1000.0, settle=0.0) is False


def _age(path: Path, *, seconds: float) -> None:
    modified = path.stat().st_mtime - seconds
    os.utime(path, (modified, modified))


def _statuses_settled(engine: Engine, issues: Path) -> dict[str, FileStatus]:
    return {f.file_name: f.status for f in ingest_directory(engine, issues, settle=10).files}


def test_an_issue_file_with_an_upper_case_suffix_is_read(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "20210305.MD").write_bytes(seed_path("001").read_bytes())
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")  # not an issue file: not looked at
    assert _statuses(engine, tmp_path) == {"20210305.MD": FileStatus.NEW}


def test_a_utf16_issue_file_is_stored_as_its_utf8_copy_would_be(
    engine: Engine, tmp_path: Path
) -> None:
    # What Windows Notepad saves as "Unicode": UTF-16 LE with a BOM.
    text = seed_path("001").read_text(encoding="utf-8")
    (tmp_path / "20210305.md").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert _statuses(engine, tmp_path) == {"20210305.md": FileStatus.NEW}
    assert _statuses(engine, tmp_path) == {"20210305.md": FileStatus.UNCHANGED}
    with Session(engine) as session:
        stored = storage.get_issue(session, "20210305")
        assert stored is not None
        assert stored.raw_text == text
        assert stored.item_count == 9


async def test_an_upload_another_scan_stored_first_is_still_reported_new(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = Services(
        settings=Settings(issues_dir=tmp_path),
        engine=engine,
        sender=Sender(telegram.Bot("1:x"), engine, Pacer()),
    )
    write = ingest._write_atomically

    def write_then_another_scan(target: Path, data: bytes) -> None:
        write(target, data)
        # The scheduled scan of this instance, or of another sharing ISSUES_DIR, takes the
        # file before the upload's own scan: that scan finds it unchanged.
        ingest_directory(engine, tmp_path)

    monkeypatch.setattr(ingest, "_write_atomically", write_then_another_scan)
    report = await services.accept_upload("upload.md", seed_path("001").read_bytes())
    assert [(f.file_name, f.status, f.items) for f in report.files] == [
        ("20210305.md", FileStatus.NEW, 9)
    ]
    again = await services.accept_upload("again.md", seed_path("001").read_bytes())
    assert [f.status for f in again.files] == [FileStatus.UNCHANGED]  # truly nothing new
    # Either way the report knows which file was uploaded, for the reply to start with it.
    assert report.uploaded == again.uploaded == "20210305.md"


def test_a_keyword_chat_gets_its_own_header_once_before_its_items(
    engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "20210901.md").write_text(EDITED.format(gif=""), encoding="utf-8")
    with Session(engine) as session:
        for chat in (1, 2):
            storage.upsert_chat(session, chat, chat_type="private")
        storage.subscribe(session, 1)  # every item: the issue's own header
        storage.subscribe(session, 2, ["第二条", "正文三", "第九条"])
        session.commit()
    ingest_directory(engine, tmp_path)
    with Session(engine) as session:
        assert broadcast_issue(session, "20210901") == 4 + 3  # chat 2: its header, items 2, 3
        assert broadcast_issue(session, "20210901") == 0  # a second broadcast adds nothing
        rows = session.exec(
            select(storage.Delivery).order_by(
                storage.Delivery.chat_id, storage.Delivery.message_index
            )
        ).all()
        assert [(r.chat_id, r.message_index, r.text is None) for r in rows] == [
            *((1, index, True) for index in range(4)),
            (2, -1, False),
            (2, 2, True),
            (2, 3, True),
        ]
        header, *items = MessageBook().messages(session, rows[4:])
    assert header is not None
    assert header.text.split("\n")[1] == "本期 3 条中有 2 条提到你关注的「正文三」、「第二条」"
    assert [m.item_number for m in items if m is not None] == [2, 3]


def test_a_header_goes_only_before_items_still_to_come(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "20210901.md"
    path.write_text(EDITED.format(gif=""), encoding="utf-8")
    with Session(engine) as session:
        for chat in (1, 2):
            storage.upsert_chat(session, chat, chat_type="private")
        storage.subscribe(session, 1)
        storage.subscribe(session, 2, ["第二条"])
        session.commit()
    ingest_directory(engine, tmp_path)
    with Session(engine) as session:
        broadcast_issue(session, "20210901")
        for row in session.exec(select(storage.Delivery).where(storage.Delivery.chat_id == 1)):
            storage.mark_sent(session, row.id)
        session.commit()
        storage.subscribe(session, 1, ["第三条"])  # had the whole issue, follows keywords now
        assert broadcast_issue(session, "20210901") == 0  # a second /push: no header alone
        assert (1, -1) not in _rows(session)
        session.commit()

    # Item 2 leaves and a new item mentioning 第二条 comes in one edit: chat 2's header,
    # lone for a moment, is there again before the new item.
    new_item = "\n# 4. [又一个第二条](https://a.example/4) | 源\n\n正文四。\n"
    edited = EDITED.format(gif="").replace(
        "# 2. [第二条](https://a.example/2) | 源\n\n正文二。\n", ""
    )
    path.write_text(edited + new_item, encoding="utf-8")
    assert _statuses(engine, tmp_path) == {"20210901.md": FileStatus.UPDATED}
    with Session(engine) as session:
        chat_2 = {key: row for key, row in _rows(session).items() if key[0] == 2}
        assert chat_2 == {(2, -1): (None, "pending"), (2, 3): (4, "pending")}


def test_a_header_still_to_be_sent_counts_the_items_an_edit_leaves_it(
    engine: Engine, tmp_path: Path
) -> None:
    path = _broadcast_to(engine, tmp_path, {2: ["第二条", "正文三"], 3: ["第一条"]})
    with Session(engine) as session:
        request_for_chat(session, 3, "20210901", [3])  # chat 3 asked for item 3 too
        session.commit()
    assert _header_lines(engine) == {
        2: "本期 3 条中有 2 条提到你关注的「正文三」、「第二条」",
        3: "本期 3 条中有 1 条提到你关注的「第一条」",
    }

    # Item 2 leaves and a fourth item mentions 第一条: one item left for chat 2 (of 3 now),
    # two for chat 3 (the others it asked for do not count), and neither header had been sent.
    fourth = "\n# 4. [第四条](https://a.example/4) | 源\n\n也说第一条。\n"
    edited = EDITED.format(gif="").replace(
        "# 2. [第二条](https://a.example/2) | 源\n\n正文二。\n", ""
    )
    path.write_text(edited + fourth, encoding="utf-8")
    assert _statuses(engine, tmp_path) == {"20210901.md": FileStatus.UPDATED}
    assert _header_lines(engine) == {
        2: "本期 3 条中有 1 条提到你关注的「正文三」",
        3: "本期 3 条中有 2 条提到你关注的「第一条」",
    }


def test_a_header_still_to_be_sent_names_only_the_keywords_still_followed(
    engine: Engine, tmp_path: Path
) -> None:
    _broadcast_to(engine, tmp_path, {2: ["第二条", "正文三"]})  # items 2 and 3
    with Session(engine) as session:
        storage.unsubscribe(session, 2, "第二条")
        assert follow_changed_subscription(session, 2, "no longer followed") == 1  # item 2
        session.commit()
    assert _header_lines(engine) == {2: "本期 3 条中有 1 条提到你关注的「正文三」"}


def test_a_header_names_only_the_keywords_of_the_items_it_introduces(
    engine: Engine, tmp_path: Path
) -> None:
    _broadcast_to(engine, tmp_path, {2: ["第二条"], 3: ["第二条"]})  # item 2
    with Session(engine) as session:
        # Chat 2 follows 正文三 too: item 3 was not queued for it, so the header does not
        # name it.
        storage.subscribe(session, 2, ["正文三"])
        follow_changed_subscription(session, 2, "no longer followed")
        # Chat 3 asked for the whole issue (its header goes: the issue's own comes first),
        # then stopped following 第二条; the items it asked for still come.
        request_for_chat(session, 3, "20210901", None)
        storage.subscribe(session, 3, ["第九条"])
        storage.unsubscribe(session, 3, "第二条")
        follow_changed_subscription(session, 3, "no longer followed")
        session.commit()
        rows = _rows(session)
        chat_3 = sorted(index for chat, index in rows if chat == 3 and index >= 0)
        assert rows[(3, -1)][1] == "dropped"
    assert _header_lines(engine) == {2: "本期 3 条中有 1 条提到你关注的「第二条」"}
    assert chat_3 == [0, 1, 2, 3]


def _broadcast_to(engine: Engine, issues: Path, following: dict[int, list[str]]) -> Path:
    """The EDITED issue stored and broadcast to private chats following these keywords;
    its file."""
    path = issues / "20210901.md"
    path.write_text(EDITED.format(gif=""), encoding="utf-8")
    with Session(engine) as session:
        for chat, keywords in following.items():
            storage.upsert_chat(session, chat, chat_type="private")
            storage.subscribe(session, chat, keywords)
        session.commit()
    ingest_directory(engine, issues)
    with Session(engine) as session:
        broadcast_issue(session, "20210901")
        session.commit()
    return path


def _header_lines(engine: Engine) -> dict[int, str]:
    """The count line of each chat's keyword header still to be sent, as it would be sent."""
    with Session(engine) as session:
        rows = session.exec(
            select(storage.Delivery).where(
                storage.Delivery.message_index == -1,
                storage.Delivery.status == storage.DeliveryStatus.PENDING.value,
            )
        ).all()
        return {row.chat_id: (row.text or "").split("\n")[1] for row in rows}


def test_a_header_whose_row_is_gone_is_not_sent(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "20210901.md").write_text(EDITED.format(gif=""), encoding="utf-8")
    with Session(engine) as session:
        storage.upsert_chat(session, 2, chat_type="private")
        storage.subscribe(session, 2, ["第二条"])
        session.commit()
    ingest_directory(engine, tmp_path)
    with Session(engine) as session:
        broadcast_issue(session, "20210901")
        session.commit()
        claimed = storage.claim_pending(session, 10)  # the header, the chat's head
        session.commit()
        assert [d.message_index for d in claimed] == [-1]
        for delivery in claimed:
            session.expunge(delivery)
        session.exec(sa_delete(storage.Delivery))  # its items left the issue meanwhile
        session.commit()
        assert MessageBook().messages(session, claimed) == [None]


def test_a_damaged_issue_is_repaired_with_the_words_of_the_editors_other_issues(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = seed_path("000").read_bytes()
    # 量子位, a source the issues quote, is in none of the packaged corpora; 003 has it.
    quoted = next(line for line in _lines("001") if line.endswith("| 量子位"))
    assert quoted not in read_issue_file(damaged).text.split("\n")
    for seed in ("000", "002", "003", "004"):
        (tmp_path / seed_path(seed).name).write_bytes(seed_path(seed).read_bytes())
    caplog.set_level("INFO", logger="bot.ingest")
    report = ingest_directory(engine, tmp_path)
    assert [f.status for f in report.files] == [FileStatus.NEW] * 4
    with Session(engine) as session:
        stored = storage.get_issue(session, report.files[0].issue_id)
        assert stored is not None
        assert quoted in stored.raw_text.split("\n")
    # The other files were read once, for the one file that needed it.
    assert [r.getMessage() for r in caplog.records if "repair learns" in r.getMessage()] == [
        f"repair learns from the archive files=3 chars={_archive_chars()}"
    ]


def _lines(seed: str) -> list[str]:
    return seed_path(seed).read_text(encoding="utf-8").split("\n")


def _archive_chars() -> int:
    return sum(len(seed_path(seed).read_text(encoding="utf-8")) for seed in ("002", "003", "004"))


def test_the_archive_is_the_latest_clean_other_files_up_to_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in [("20210101.md", "一月"), ("20210201.md", "二月"), ("20210301.md", "三月")]:
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "20210401.md").write_bytes(seed_path("000").read_bytes())  # damaged
    (tmp_path / "20210501.md").write_bytes(b"x" * (ingest.MAX_ISSUE_BYTES + 1))  # not an issue
    archive = ingest.FolderArchive(tmp_path)
    # Not the file repaired, nor a damaged or oversized one; the latest first.
    assert archive.without("20210301.md")() == "二月\n一月"
    (tmp_path / "20210201.md").unlink()  # read once: gone since, still counted
    monkeypatch.setattr(ingest, "ARCHIVE_CHARS", 2)
    assert archive.without("20210401.md")() == "三月"
    assert archive.without("nothing.md")() == "三月"
    assert ingest.FolderArchive(tmp_path / "gone").without("a.md")() == ""
