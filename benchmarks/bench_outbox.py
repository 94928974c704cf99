"""The sender's database work, without Telegram: enqueueing a broadcast, claim_pending over a
full outbox, and the batched mark_sent (and an admin's /stats over that outbox), at 1,000 and
10,000 subscribers, on SQLite (and on PostgreSQL when TEST_POSTGRES_URL is set).

Run: .venv/bin/python -m benchmarks.bench_outbox [--subscribers 1000 10000] [--batch 285]

`--batch` is what the Sender claims per round: about one second of sending,
RATE_LIMIT × 0.95 = 285 at RATE_LIMIT 300. Claims are timed the way a broadcast meets them:
the previous batch is still leased (in flight) while the next is claimed, and settled after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlmodel import Session

from benchmarks.bench_broadcast import FIRST_READER, ISSUE, ISSUE_ID, seed_database
from bot import storage
from bot.content import read_issue
from bot.storage.outbox import mark_sent_many

MESSAGES = 4
ROUNDS = 8
POSTGRES_ENV = "TEST_POSTGRES_URL"


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bot.db'}"
        return
    from tests.storage.postgres import fresh_schema

    with fresh_schema(os.environ[POSTGRES_ENV]) as url:
        yield url


def run(kind: str, subscribers: int, batch: int) -> None:
    with database(kind) as url:
        readers = range(FIRST_READER, FIRST_READER + subscribers)
        seed_database(url, readers)
        engine = storage.make_engine(url)
        with Session(engine) as session:
            storage.upsert_issue(session, read_issue(ISSUE.encode()), ISSUE, f"{ISSUE_ID}.md")
            session.commit()
            start = time.perf_counter()
            targets = {r: range(MESSAGES) for r in readers}
            storage.enqueue_deliveries(session, ISSUE_ID, targets)
            session.commit()
            enqueue = time.perf_counter() - start
            stats_times = []
            for _ in range(3):  # an admin's /stats over the full outbox
                start = time.perf_counter()
                storage.stats(session)
                stats_times.append(time.perf_counter() - start)
        claims, marks, in_flight = [], [], []
        for _ in range(ROUNDS):
            with Session(engine, expire_on_commit=False) as session:
                start = time.perf_counter()
                claimed = storage.claim_pending(session, batch)
                session.commit()
                claims.append(time.perf_counter() - start)
            # Settle the batch before this one, as the Sender's outcome writer does, in
            # writes of ~30 rows (100 ms of sends at 300/s).
            for chunk in range(0, len(in_flight), 30):
                ids = in_flight[chunk : chunk + 30]
                start = time.perf_counter()
                with Session(engine) as session:
                    mark_sent_many(session, ids)
                    session.commit()
                marks.append((time.perf_counter() - start) / len(ids))
            in_flight = [d.id or 0 for d in claimed]
        engine.dispose()
    claim_ms = statistics.median(claims) * 1000
    print(
        f"| {kind} | {subscribers:,} | {subscribers * MESSAGES:,} | {enqueue:.2f} s "
        f"| {claim_ms:.1f} ms ({claim_ms / batch:.3f} ms per claimed row) "
        f"| {statistics.median(marks) * 1000:.3f} ms "
        f"| {statistics.median(stats_times) * 1000:.1f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--batch", type=int, default=285)
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get(POSTGRES_ENV) else [])
    print(f"# Outbox benchmark: claim_pending({args.batch}), mark_sent in batches of 30")
    print(
        f"| database | subscribers | pending rows | enqueue | claim_pending, median of {ROUNDS} "
        "| mark_sent per message (batches of 30, one commit each) | /stats, median of 3 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind in kinds:
        for count in args.subscribers:
            run(kind, count, args.batch)


if __name__ == "__main__":
    main()
