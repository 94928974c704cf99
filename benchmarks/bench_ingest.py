"""Ingest latency: seconds from an issue file appearing in ISSUES_DIR to the first
subscriber's message, the real bot (`python -m bot run`) against fakegram.

Run: .venv/bin/python -m benchmarks.bench_ingest [--drops 3] [--fast-drops 10]
     [--interval 60] [--subscribers 100]

The bot polls ISSUES_DIR every SCAN_INTERVAL seconds (there is no file-system notification
yet), so a file waits on average interval/2 for the next scan, then processing: read, decode,
parse, store, plan the broadcast (one outbox row per subscriber and message), claim, send.
Two runs:
- default SCAN_INTERVAL (60 s): `--drops` files at random moments, the latency as a reader
  sees it;
- SCAN_INTERVAL=1: `--fast-drops` files, which isolates the processing time (latency minus
  the wait for the next scan, which averages 0.5 s), also read from the bot's log as the
  time from "issue file new" to the first message.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from benchmarks.bench_broadcast import (
    FIRST_READER,
    ISSUE,
    ISSUE_ID,
    open_private_chats,
    seed_database,
)
from tests.e2e.botproc import BotProcess, bot_environment
from tests.e2e.harness import Fakegram, FakegramServer, fakegram_script

LOG_TIME = "%Y-%m-%d %H:%M:%S,%f"


def issue_text(n: int) -> tuple[str, str]:
    """A small issue with its own id (a new file each drop)."""
    issue_id = f"2098{1 + n // 28:02d}{1 + n % 28:02d}"
    return issue_id, ISSUE.replace(ISSUE_ID, issue_id)


def logged_at(log: str, marker: str) -> float | None:
    """Epoch time of the first log line containing `marker` (the bot logs local time)."""
    for line in log.splitlines():
        if marker in line:
            return datetime.strptime(line[:23], LOG_TIME).timestamp()
    return None


async def drops(
    fakegram: Fakegram, interval: float, count: int, subscribers: int, seed: int
) -> list[tuple[float, float | None]]:
    """Drop `count` issues at random moments; (latency, log-measured processing) of each."""
    rng = random.Random(seed)
    readers = range(FIRST_READER, FIRST_READER + subscribers)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        env = bot_environment(fakegram.bot_api_url, workdir, SCAN_INTERVAL=f"{interval:g}")
        await open_private_chats(fakegram.url, readers)
        seed_database(env["DATABASE_URL"], readers)
        bot = BotProcess(env, workdir)
        bot.start()
        try:
            for n in range(count):
                await asyncio.sleep(rng.uniform(0, interval))  # a random phase of the scan
                issue_id, text = issue_text(seed * 100 + n)
                since = max((m["seq"] for m in await fakegram.messages()), default=0)
                partial = bot.issues_dir / ".partial"
                partial.write_text(text, encoding="utf-8")
                dropped = time.time()
                partial.replace(bot.issues_dir / f"{issue_id}.md")
                first = None
                while first is None:
                    await asyncio.sleep(0.02)  # polling interval
                    new = await fakegram.messages(since=since)
                    first = next((m for m in new if m["chat_id"] >= FIRST_READER), None)
                ingested = logged_at(bot.log(), f"issue={issue_id}")
                processing = first["time"] - ingested if ingested else None
                results.append((first["time"] - dropped, processing))
                shown = f"{processing:.3f} s" if processing is not None else "?"
                print(
                    f"  drop {n + 1}: {first['time'] - dropped:.2f} s to the first message "
                    f"(from ingest log line: {shown})",
                    flush=True,
                )
                # Let this broadcast finish so the next drop starts from an empty outbox.
                await fakegram.wait_for_messages(
                    subscribers * 4, since=since, timeout=subscribers * 4 / 25 + 30
                )
        finally:
            bot.stop()
    return results


def summary(label: str, results: list[tuple[float, float | None]], interval: float) -> None:
    latencies = [r[0] for r in results]
    processing = [r[1] for r in results if r[1] is not None]
    print(
        f"| {label} | {len(results)} | {statistics.mean(latencies):.2f} s "
        f"| {min(latencies):.2f}–{max(latencies):.2f} s | {interval / 2:.1f} s "
        f"| {statistics.median(processing) * 1000:.0f} ms |"
        if processing
        else f"| {label} | {len(results)} | {statistics.mean(latencies):.2f} s | | | |"
    )


async def bench(args: argparse.Namespace) -> None:
    print(f"# Ingest benchmark: {args.subscribers} subscribers, fakegram at Telegram's rates")
    table = []
    with tempfile.TemporaryDirectory(prefix="bench-fakegram-") as logs:
        server = FakegramServer(fakegram_script(), (), Path(logs))
        fakegram = Fakegram(server.url, server.options)
        try:
            for interval, count, seed in (
                (1.0, args.fast_drops, 1),
                (args.interval, args.drops, 2),
            ):
                if not count:
                    continue
                await fakegram.reset()
                print(f"SCAN_INTERVAL={interval:g}: {count} drops", flush=True)
                results = await drops(fakegram, interval, count, args.subscribers, seed)
                table.append((f"SCAN_INTERVAL={interval:g}", results, interval))
        finally:
            server.stop()
    print(
        "\n| setting | drops | mean drop → first message | range | expected scan wait "
        "| processing (ingest log line → first message, median) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, results, interval in table:
        summary(label, results, interval)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drops", type=int, default=3, help="drops at the default interval")
    parser.add_argument("--fast-drops", type=int, default=10, help="drops at SCAN_INTERVAL=1")
    parser.add_argument("--interval", type=float, default=60.0, help="the default SCAN_INTERVAL")
    parser.add_argument("--subscribers", type=int, default=100)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
