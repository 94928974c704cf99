"""The sender's database work, without Telegram: enqueueing a broadcast, claim_pending over a
full outbox, and the batched mark_sent (and an admin's /stats and the progress line's count over
that outbox), at 1,000 and 10,000 subscribers, on SQLite (and on PostgreSQL when
TEST_POSTGRES_URL is set).

Run: .venv/bin/python -m benchmarks.bench_outbox [--subscribers 1000 10000] [--batch 285]
     [--history 0 50]

`--batch` is what the Sender claims per round: about one second of sending,
RATE_LIMIT × 0.95 = 285 at RATE_LIMIT 300. Claims are timed the way a broadcast meets them:
the previous batch is still leased (in flight) while the next is claimed, and settled after.

`--history WEEKS` first fills the outbox with that many weeks of issues delivered to every
subscriber (10 messages each, all sent): the outbox keeps every delivery for good, so a year of
a 10,000-reader newsletter is about 5 M rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, insert
from sqlmodel import Session

from benchmarks.bench_broadcast import FIRST_READER, ISSUE, ISSUE_ID, seed_database
from bot import storage
from bot.content import read_issue
from bot.storage.outbox import mark_sent_many
from tests.storage.factories import make_issue

MESSAGES = 4
MESSAGES_PER_OLD_ISSUE = 10
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


def add_history(engine: Engine, readers: range, weeks: int) -> int:
    """Weeks of delivered issues before this one; returns the rows added."""
    sent_at = storage.models.utcnow()
    rows = 0
    for week in range(weeks):
        old_id = f"2020{week // 28 + 1:02d}{week % 28 + 1:02d}"
        with Session(engine) as session:
            storage.upsert_issue(session, make_issue(old_id), "raw", f"{old_id}.md")
            session.commit()
        deliveries = [
            {
                "chat_id": reader,
                "issue_id": old_id,
                "message_index": index,
                "status": storage.DeliveryStatus.SENT.value,
                "attempts": 1,
                "created_at": sent_at,
                "sent_at": sent_at,
                "requested": False,
            }
            for reader in readers
            for index in range(MESSAGES_PER_OLD_ISSUE)
        ]
        with Session(engine) as session:
            session.execute(insert(storage.Delivery), deliveries)
            session.commit()
        rows += len(deliveries)
    return rows


def median_ms(measure: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        measure()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run(kind: str, subscribers: int, batch: int, weeks: int) -> None:
    with database(kind) as url:
        readers = range(FIRST_READER, FIRST_READER + subscribers)
        seed_database(url, readers)
        engine = storage.make_engine(url)
        history = add_history(engine, readers, weeks)
        with Session(engine) as session:
            storage.upsert_issue(session, read_issue(ISSUE.encode()), ISSUE, f"{ISSUE_ID}.md")
            session.commit()
            start = time.perf_counter()
            targets = {r: range(MESSAGES) for r in readers}
            storage.enqueue_deliveries(session, ISSUE_ID, targets)
            session.commit()
            enqueue = time.perf_counter() - start
            stats_ms = median_ms(lambda: storage.stats(session))  # an admin's /stats
            by_status_ms = median_ms(lambda: storage.outbox_counts(session))
            pending_ms = median_ms(lambda: storage.pending_count(session))  # every 5 s
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
        f"| {kind} | {subscribers:,} | {history:,} | {subscribers * MESSAGES:,} "
        f"| {enqueue:.2f} s | {claim_ms:.1f} ms ({claim_ms / batch:.3f} ms per claimed row) "
        f"| {statistics.median(marks) * 1000:.3f} ms | {stats_ms:.1f} ms "
        f"| {by_status_ms:.1f} ms | {pending_ms:.1f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--batch", type=int, default=285)
    parser.add_argument("--history", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get(POSTGRES_ENV) else [])
    print(f"# Outbox benchmark: claim_pending({args.batch}), mark_sent in batches of 30")
    print(
        "| database | subscribers | delivered rows before | pending rows | enqueue "
        f"| claim_pending, median of {ROUNDS} "
        "| mark_sent per message (batches of 30, one commit each) | /stats, median of 3 "
        "| outbox_counts (by status) | pending_count (the progress line) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind in kinds:
        for count in args.subscribers:
            for weeks in args.history:
                run(kind, count, args.batch, weeks)


if __name__ == "__main__":
    main()
