"""An editor's fix to an issue already broadcast, as the scan meets it: ingest_directory of the
edited file (parse, store, move every delivery of the issue to its message's new place, send
what is new, recount keyword headers), over outboxes holding weeks of delivered issues.

The outbox keeps every delivery for good (a later /push, an edit and the group cooldown read
them), so it grows by subscribers x messages each week. This measures what that costs an edit,
which runs in one write transaction the sender waits for. It also prints the database size per
delivery row.

Run: .venv/bin/python -m benchmarks.bench_edit [--subscribers 2000] [--history 1 10 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from benchmarks.bench_broadcast import FIRST_READER, ISSUE, ISSUE_ID, seed_database
from bot import storage
from bot.delivery.broadcast import broadcast_issue
from bot.ingest import ingest_directory
from tests.storage.factories import make_issue

MESSAGES_PER_OLD_ISSUE = 10
ROUNDS = 3


def run(subscribers: int, history: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-edit-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bot.db'}"
        readers = range(FIRST_READER, FIRST_READER + subscribers)
        seed_database(url, readers)
        engine = storage.make_engine(url)
        with Session(engine) as session:
            for week in range(history):  # delivered issues of the weeks before
                old_id = f"2020{week // 28 + 1:02d}{week % 28 + 1:02d}"
                storage.upsert_issue(session, make_issue(old_id), "raw", f"{old_id}.md")
                targets = {r: range(MESSAGES_PER_OLD_ISSUE) for r in readers}
                storage.enqueue_deliveries(session, old_id, targets)
            session.exec(sa.text("UPDATE deliveries SET status = 'sent'"))
            session.commit()
        issues = Path(tmp) / "issues"
        issues.mkdir()
        path = issues / f"{ISSUE_ID}.md"
        path.write_text(ISSUE, encoding="utf-8")
        ingest_directory(engine, issues)
        with Session(engine) as session:
            broadcast_issue(session, ISSUE_ID)  # this week's, still on its way to everyone
            session.commit()
            rows = session.exec(sa.text("SELECT count(*) FROM deliveries")).one()[0]
        times = []
        for round_ in range(ROUNDS):
            # An animation added to item 1 (and taken out again the next round): one message
            # more (or less), so every later message of the issue moves.
            gif = f"第一条正文。\n\n![](https://example.com/{round_}.gif)"
            edited = ISSUE.replace("第一条正文。", gif) if round_ % 2 == 0 else ISSUE
            path.write_text(edited, encoding="utf-8")
            start = time.perf_counter()
            report = ingest_directory(engine, issues)
            times.append(time.perf_counter() - start)
            assert [f.status.value for f in report.changed] == ["updated"], report
        engine.dispose()
        size = sum(f.stat().st_size for f in Path(tmp).glob("bot.db*"))
    print(
        f"| {subscribers:,} | {history} | {rows:,} | {min(times) * 1000:.0f} ms "
        f"| {max(times) * 1000:.0f} ms | {size / rows:.0f} B |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--history", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()
    print("# Edit benchmark: an issue edited mid-broadcast, SQLite")
    print(
        "| subscribers | weeks delivered before | outbox rows | edit, best | edit, worst "
        "| database per row |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for history in args.history:
        run(args.subscribers, history)


if __name__ == "__main__":
    main()
