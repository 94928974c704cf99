"""The sender's database work per message, without Telegram: claim_pending over a full outbox
and the per-message mark_sent commit, on SQLite, at 1,000 and 10,000 subscribers.

Run: .venv/bin/python -m benchmarks.bench_outbox [--subscribers 1000 10000] [--batch 600]

`--batch` is what the Sender claims per round (max(10, 2 × RATE_LIMIT); 600 at RATE_LIMIT 300).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from benchmarks.bench_broadcast import FIRST_READER, ISSUE, ISSUE_ID, seed_database
from bot import storage
from bot.content import read_issue
from bot.storage.models import IssueRecord

MESSAGES = 4


def run(subscribers: int, batch: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bot.db'}"
        readers = range(FIRST_READER, FIRST_READER + subscribers)
        seed_database(url, readers)
        engine = storage.make_engine(url)
        with Session(engine) as session:
            storage.upsert_issue(session, read_issue(ISSUE.encode()), ISSUE, f"{ISSUE_ID}.md")
            start = time.perf_counter()
            targets = {r: range(MESSAGES) for r in readers}
            storage.enqueue_deliveries(session, ISSUE_ID, targets)
            session.commit()
            enqueue = time.perf_counter() - start
        claims, marks = [], []
        for _ in range(5):
            with Session(engine, expire_on_commit=False) as session:
                start = time.perf_counter()
                claimed = storage.claim_pending(session, batch)
                session.commit()
                claims.append(time.perf_counter() - start)
            for delivery in claimed[:200]:
                start = time.perf_counter()
                with Session(engine) as session:  # as Sender._deliver and _finish do
                    session.get(IssueRecord, ISSUE_ID)
                with Session(engine) as session:
                    storage.mark_sent(session, delivery.id or 0)
                    session.commit()
                marks.append(time.perf_counter() - start)
        engine.dispose()
    pending = subscribers * MESSAGES
    claim_ms = statistics.median(claims) * 1000
    print(
        f"| {subscribers:,} | {pending:,} | {enqueue:.1f} s | {claim_ms:.0f} ms "
        f"({claim_ms / batch:.2f} ms per claimed row) "
        f"| {statistics.median(marks) * 1000:.2f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--batch", type=int, default=600)
    args = parser.parse_args()
    print(f"# Outbox benchmark (SQLite): claim_pending({args.batch}), mark_sent per message")
    print(
        "| subscribers | pending rows | enqueue | claim_pending, median of 5 "
        "| load issue + mark_sent + commit, per message |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for count in args.subscribers:
        run(count, args.batch)


if __name__ == "__main__":
    main()
