"""Inline mode's answer: a page of matching items with the text each one would be shared as.

Run: .venv/bin/python -m benchmarks.bench_inline [--copies 50] [--repeat 15]

The archive is the four real issues stored `--copies` times under other dates (by
`ingest_directory`, as the bot stores them), on SQLite. Each call is what the handler does
for one query: `inline._found` (the search, RESULTS_PER_ANSWER items) and `inline._results`
(each item's messages rebuilt from its issue's text, cached per issue, and its shared text).
"Cold" is the first call for a word in a fresh process's cache of issue messages; "warm" the
p50 and p95 of the repeats. Wall time per call.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session

from bot import storage
from bot.delivery.broadcast import messages_of_text
from bot.handlers import inline
from bot.ingest import ingest_directory

REPO = Path(__file__).resolve().parent.parent
WORDS = ("的", "模型", "GPT", "芯片", "")  # "": no words, the latest issue's items


def fill(issues_dir: Path, copies: int) -> int:
    """Write the real issues `copies` times under consecutive dates; returns how many."""
    originals = sorted((REPO / "issues").glob("*.md"))
    day = date(2000, 1, 1)
    for _ in range(copies):
        for original in originals:
            issue_id = day.strftime("%Y%m%d")
            text = original.read_text(encoding="utf-8").replace(original.stem, issue_id)
            (issues_dir / f"{issue_id}.md").write_text(text, encoding="utf-8")
            day += timedelta(days=7)
    return copies * len(originals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-inline-") as tmp:
        issues_dir = Path(tmp, "issues")
        issues_dir.mkdir()
        count = fill(issues_dir, args.copies)
        url = f"sqlite:///{Path(tmp) / 'bot.db'}"
        storage.migrate(url)
        engine = storage.make_engine(url)
        ingest_directory(engine, issues_dir)

        def answer(words: list[str]) -> int:
            with Session(engine) as session:
                items, _ = inline._found(session, words, 0)
                return len(inline._results(session, items))

        print(f"| query | results | cold | warm p50 | warm p95 |  ({count} issues, SQLite)")
        print("| --- | ---: | ---: | ---: | ---: |")
        for word in WORDS:
            messages_of_text.cache_clear()
            words = [word] if word else []
            start = time.perf_counter()
            results = answer(words)
            cold = time.perf_counter() - start
            warm = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                answer(words)
                warm.append(time.perf_counter() - start)
            p95 = statistics.quantiles(warm, n=20)[-1] if len(warm) > 1 else warm[0]
            print(
                f"| {word or '(none)'} | {results} | {cold * 1000:.1f} ms "
                f"| {statistics.median(warm) * 1000:.1f} ms | {p95 * 1000:.1f} ms |"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
