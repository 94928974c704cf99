"""/search latency over a large archive: `bot.storage.search_items`, as the handler calls it.

Run: .venv/bin/python -m benchmarks.bench_search [--items 100000] [--repeat 15]
PostgreSQL too: TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m benchmarks.bench_search   (a fresh schema, dropped afterwards)

The archive is synthetic but made of real text: each item takes a real item's title and a
deterministic mix of sentences from the four real issues' bodies, ten items per issue. Rows
are bulk-inserted with the same columns `upsert_issue` writes (search_text = fold(title +
body)). Each query is the first result page (PAGE_SIZE items plus the total), as /search
sends it; the figure is wall time per call, p50 and p95 over the words of a kind.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot import storage
from bot.content import read_issue
from bot.handlers.views import PAGE_SIZE
from bot.storage.text import fold

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ENV = "TEST_POSTGRES_URL"
TARGET_P95_MS = 20.0
ITEMS_PER_ISSUE = 10
BATCH = 5_000
QUERIES = {
    "Latin word": ["github", "transformer", "python", "gpu", "nvidia", "yolo", "zzqx"],
    "2-character Chinese word": ["模型", "数据", "芯片", "开源", "自动", "语音", "鲲鹏"],
}
_SENTENCE = re.compile(r"[^。！？\n]+[。！？]?")


def corpus() -> tuple[list[str], list[str]]:
    """Titles and sentences of the real issues."""
    titles, sentences = [], []
    for path in sorted((ROOT / "issues").glob("*.md")):
        for item in read_issue(path.read_bytes(), file_name=path.name).items:
            titles.append(item.title)
            sentences += [s.strip() for s in _SENTENCE.findall(item.body_text) if s.strip()]
    return titles, sentences


def archive_rows(items: int) -> Iterator[tuple[list[dict[str, object]], list[dict[str, object]]]]:
    """Issue and item rows, `BATCH` items at a time, the same every run."""
    rng = random.Random(7)
    titles, sentences = corpus()
    now = storage.models.utcnow()
    first_day = date(1990, 1, 5)
    issues_total = -(-items // ITEMS_PER_ISSUE)
    for start in range(0, issues_total, BATCH // ITEMS_PER_ISSUE):
        issue_rows, item_rows = [], []
        for k in range(start, min(issues_total, start + BATCH // ITEMS_PER_ISSUE)):
            issue_id = (first_day + timedelta(days=k)).strftime("%Y%m%d")
            count = min(ITEMS_PER_ISSUE, items - k * ITEMS_PER_ISSUE)
            issue_rows.append(
                {"id": issue_id, "content_hash": f"{k:064x}", "file_name": f"{issue_id}.md",
                 "raw_text": "", "title": "AI 简报", "item_count": count,
                 "created_at": now, "updated_at": now, "published_at": now}
            )  # fmt: skip
            for number in range(1, count + 1):
                title = rng.choice(titles)
                body = "".join(rng.sample(sentences, rng.randint(4, 12)))
                item_rows.append(
                    {"issue_id": issue_id, "number": number, "title": title, "url": None,
                     "source": "", "body_text": body, "search_text": fold(f"{title}\n{body}")}
                )  # fmt: skip
        yield issue_rows, item_rows


def fill(engine: Engine, items: int) -> float:
    started = time.perf_counter()
    storage.migrate(engine)
    with Session(engine) as session:
        for issue_rows, item_rows in archive_rows(items):
            session.execute(insert(storage.IssueRecord), issue_rows)
            session.execute(insert(storage.ItemRecord), item_rows)
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def measure(engine: Engine, repeat: int) -> None:
    with Session(engine) as session:
        for word in (w for words in QUERIES.values() for w in words):
            storage.search_items(session, [word], limit=PAGE_SIZE)  # warm the cache
        for kind, words in QUERIES.items():
            latencies: list[float] = []
            matches = []
            for word in words:
                for _ in range(repeat):
                    start = time.perf_counter()
                    page = storage.search_items(session, [word], limit=PAGE_SIZE)
                    latencies.append((time.perf_counter() - start) * 1000)
                matches.append(f"{word} {page.total:,}")
            p50 = statistics.median(latencies)
            p95 = statistics.quantiles(latencies, n=20)[18]
            verdict = "MET" if p95 < TARGET_P95_MS else "MISSED"
            print(
                f"| {engine.dialect.name} | {kind} | {p50:.1f} ms | {p95:.1f} ms | {verdict} "
                f"| {', '.join(matches)} |"
            )


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        engine = storage.make_engine(f"sqlite:///{Path(tmp) / 'bot.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_engine(base: str) -> Iterator[Engine]:
    """A fresh schema on the server at `base`, as tests/storage/conftest.py makes them."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = storage.make_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = storage.make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15, help="calls per word")
    args = parser.parse_args()
    backends = [("sqlite", sqlite_engine())]
    if base := os.environ.get(POSTGRES_ENV):
        backends.append(("postgresql", postgres_engine(base)))
    else:
        print(f"({POSTGRES_ENV} not set: PostgreSQL skipped)")
    print(f"# Search benchmark: {args.items:,} items, first page of {PAGE_SIZE} plus the total")
    print(f"target: p95 < {TARGET_P95_MS:.0f} ms; {args.repeat} calls per word\n")
    print("| database | query | p50 | p95 | target | matches per word |")
    print("| --- | --- | ---: | ---: | --- | --- |")
    for _name, manager in backends:
        with manager as engine:
            seconds = fill(engine, args.items)
            measure(engine, args.repeat)
            print(f"|  | (archive built in {seconds:.0f} s) | | | | |")


if __name__ == "__main__":
    main()
