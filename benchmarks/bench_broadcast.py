"""Broadcast pacing: the real bot against fakegram, and python-telegram-bot's AIORateLimiter.

Run: .venv/bin/python -m benchmarks.bench_broadcast [--subscribers 1000 10000] [--scale 10]
     [--skip-baseline] [--profile bot.prof]

For each subscriber count: start fakegram with `--rate-scale SCALE` (Telegram's 30 messages/s
overall and 1/s per private chat become 30×SCALE and SCALE), open that many private chats
through its test API, seed the same chats and subscriptions straight into the bot's SQLite
database (bot.storage's tables), start the real bot (`python -m bot run`, RATE_LIMIT =
30×SCALE, the default RATE_LIMIT scaled like the server) and drop a small issue into its
ISSUES_DIR. Then read back every message from fakegram and report messages/s as a fraction of
RATE_LIMIT, 429s, duplicates, time to the first and last message and the bot's peak memory
(VmHWM of its process).

The baseline (peer): the same issue sent with a PTB Application whose rate limiter is
AIORateLimiter(overall_max_rate=RATE_LIMIT, max_retries=3), used naively: one task per
subscriber sending the issue's messages in order, all gathered. It runs in a child process
against a reset fakegram with the same options and subscribers.

`--profile FILE` runs the bot under cProfile (for the largest count only; slows it down).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert
from sqlmodel import Session

from bot import storage
from bot.content import read_issue
from bot.content.messages import issue_messages
from tests.e2e.botproc import REPO, BotProcess, bot_environment
from tests.e2e.harness import Fakegram, FakegramServer, SentMessage, fakegram_script

TELEGRAM_RATE = 30  # Telegram's overall limit, messages per second; fakegram's default --rate
FIRST_READER = 10_000_000
ISSUE_ID = "20990401"
ISSUE = f"""> 导读： 本期为 AI 简报 {ISSUE_ID} 期

# 1. [第一条](https://example.com/1) | 甲

第一条正文。

# 2. [第二条](https://example.com/2) | 乙

![](https://img.example.com/2.png)

第二条正文。

# 3. [第三条](https://example.com/3) | 丙

第三条正文。
"""
MESSAGES_PER_READER = len(issue_messages(read_issue(ISSUE.encode())))
SETUP_CONCURRENCY = 64
STALL_SECONDS = 60.0  # no new message for this long: the run is over, whatever it reached


# ---------------------------------------------------------------- setup


async def open_private_chats(base_url: str, readers: Sequence[int]) -> None:
    """Create each reader in fakegram and have them /start the bot, many calls at once.

    aiohttp rather than the harness's helpers (a connection per call) or httpx (whose pool
    slows down with thousands of waiting requests): 10,000 readers take seconds, not minutes.
    """
    connector = aiohttp.TCPConnector(limit=SETUP_CONCURRENCY)
    async with aiohttp.ClientSession(base_url=base_url, connector=connector) as client:

        async def post(path: str, body: dict[str, Any]) -> None:
            async with client.post(path, json=body) as response:
                response.raise_for_status()
                await response.read()

        async def open_one(reader: int) -> None:
            user = {"id": reader, "first_name": f"R{reader}", "language_code": "zh"}
            await post("/_test/users", user)
            await post("/_test/send", {"user_id": reader, "text": "/start"})

        await asyncio.gather(*(open_one(r) for r in readers))
        # Confirm the /start updates, as the bot would have long ago, so the bot under test
        # does not spend the run answering 10,000 greetings.
        api = f"/bot{bot_token()}/getUpdates"
        async with client.get(api, params={"offset": -1, "timeout": 0}) as response:
            last = (await response.json())["result"]
        if last:
            offset = {"offset": last[-1]["update_id"] + 1, "timeout": 0}
            async with client.get(api, params=offset) as response:
                await response.read()


def bot_token() -> str:
    return bot_environment("http://unused", Path(tempfile.gettempdir()))["BOT_TOKEN"]


def seed_database(database_url: str, readers: Sequence[int]) -> None:
    """Chats and catch-all subscriptions, bulk-inserted into a migrated database."""
    engine = storage.make_engine(database_url)
    storage.migrate(engine)
    now = storage.models.utcnow()
    chats = [
        {
            "id": r,
            "type": "private",
            "language_code": "zh",
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for r in readers
    ]
    subscriptions = [{"chat_id": r, "keyword": None, "created_at": now} for r in readers]
    with Session(engine) as session:
        session.execute(insert(storage.Chat), chats)
        session.execute(insert(storage.Subscription), subscriptions)
        session.commit()
    engine.dispose()


# ---------------------------------------------------------------- measuring


def memory_kib(pid: int) -> dict[str, int]:
    """VmHWM (peak resident) and VmRSS of a live process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0])
    return fields


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def collect(
    fakegram: Fakegram, expected: int, since: int, pid: int | None = None
) -> tuple[list[SentMessage], int]:
    """Poll fakegram's record until `expected` messages arrived after `since` (or a stall);
    returns them and the peak VmRSS of `pid` seen meanwhile (KiB)."""
    got: list[SentMessage] = []
    last_seq, last_growth, peak_rss = since, time.monotonic(), 0
    while len(got) < expected and time.monotonic() - last_growth < STALL_SECONDS:
        await asyncio.sleep(1.0)  # polling interval
        new = await fakegram.messages(since=last_seq)
        if new:
            got.extend(new)
            last_seq = new[-1]["seq"]
            last_growth = time.monotonic()
        if pid is not None:
            peak_rss = max(peak_rss, memory_kib(pid).get("VmRSS", 0))
    return got, peak_rss


@dataclass
class RunFigures:
    who: str
    subscribers: int
    rate_limit: float
    expected: int
    delivered: int
    duplicates: int
    count_429: int
    first_after: float  # seconds from the drop (or the start) to the first message
    last_after: float
    rate: float  # messages/s between the first and the last message
    p10_second: float  # messages in the slowest full seconds (10th percentile)
    median_second: float
    max_1s: int
    memory: dict[str, int]
    cpu_ms_per_message: float = 0.0

    def line(self) -> str:
        mem = ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in self.memory.items())
        return (
            f"| {self.who} | {self.subscribers:,} | {self.delivered:,}/{self.expected:,} "
            f"| {self.rate:.1f}/s = {self.rate / self.rate_limit:.0%} "
            f"| {self.median_second:.0f} / {self.p10_second:.0f} | {self.max_1s} "
            f"| {self.count_429} | {self.duplicates} | {self.first_after:.1f} s "
            f"| {self.last_after:.1f} s | {self.cpu_ms_per_message:.2f} ms | {mem} |"
        )


HEADER = (
    "| sender | subscribers | delivered | rate (share of RATE_LIMIT) | msgs/s median / p10 "
    "| max in 1 s | 429s | duplicates | first msg | last msg | CPU per msg | memory |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
)


def figures(
    who: str,
    subscribers: int,
    rate_limit: float,
    messages: list[SentMessage],
    stats: dict[str, Any],
    started: float,
    memory: dict[str, int],
) -> RunFigures:
    ours = [m for m in messages if m["chat_id"] >= FIRST_READER]
    times = sorted(m["time"] for m in ours)
    first, last = (times[0], times[-1]) if times else (started, started)
    per_second = Counter(int(t - first) for t in times)
    full = [per_second.get(s, 0) for s in range(1, int(last - first))]  # drop partial ends
    copies = Counter((m["chat_id"], m["method"], m["text"]) for m in ours)
    return RunFigures(
        who=who,
        subscribers=subscribers,
        rate_limit=rate_limit,
        expected=subscribers * MESSAGES_PER_READER,
        delivered=len(ours),
        duplicates=max(len(stats["duplicates"]), sum(n - 1 for n in copies.values())),
        count_429=stats["count_429"],
        first_after=first - started,
        last_after=last - started,
        rate=(len(times) - 1) / (last - first) if last > first else 0.0,
        p10_second=statistics.quantiles(full, n=10)[0] if len(full) >= 2 else 0.0,
        median_second=statistics.median(full) if full else 0.0,
        max_1s=stats["max_messages_in_1s_window"],
        memory=memory,
    )


# ---------------------------------------------------------------- the bot


class ProfiledBotProcess(BotProcess):
    """The bot under cProfile; SIGTERM ends run_polling normally, so the profile is written."""

    def __init__(self, env: dict[str, str], workdir: Path, profile: Path) -> None:
        super().__init__(env, workdir)
        self.profile = profile

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "cProfile", "-o", str(self.profile), "-m", "bot", "run"],
                cwd=self.workdir,
                env={**self.env, "PYTHONPATH": str(REPO)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_for_log("bot started", timeout=60)


def bot_pid(bot: BotProcess) -> int:
    process = bot._process  # BotProcess keeps its Popen private; we only read the pid
    assert process is not None
    return process.pid


def print_timeline(messages: list[SentMessage]) -> None:
    """Messages per second over the run, so dips show where they happen, not only how many."""
    times = sorted(m["time"] for m in messages if m["chat_id"] >= FIRST_READER)
    if not times:
        return
    per_second = Counter(int(t - times[0]) for t in times)
    counts = [per_second.get(s, 0) for s in range(int(times[-1] - times[0]) + 1)]
    print(f"  msgs per second: {' '.join(map(str, counts))}")


def summarize_log(log: str) -> None:
    """Print how often each kind of warning or error appears in the bot's log."""
    kinds: Counter[str] = Counter()
    for line in log.splitlines():
        if " WARNING " in line or " ERROR " in line or " CRITICAL " in line:
            message = line.split(": ", 1)[-1]
            kinds[re.sub(r"\d+(\.\d+)?", "N", message)[:110]] += 1
    for message, count in kinds.most_common(12):
        print(f"  bot log: {count} × {message}")
    for line in [line for line in log.splitlines() if "outbox slow" in line][:10]:
        print(f"  bot log: {line}")  # when, and how slow


async def run_bot(
    fakegram: Fakegram, subscribers: int, rate_limit: float, profile: Path | None
) -> RunFigures:
    readers = range(FIRST_READER, FIRST_READER + subscribers)
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
        workdir = Path(tmp)
        env = bot_environment(
            fakegram.bot_api_url, workdir, RATE_LIMIT=f"{rate_limit:g}", SCAN_INTERVAL="1"
        )
        setup = time.monotonic()
        await open_private_chats(fakegram.url, readers)
        seed_database(env["DATABASE_URL"], readers)
        print(f"  setup of {subscribers:,} readers: {time.monotonic() - setup:.1f} s", flush=True)
        bot = ProfiledBotProcess(env, workdir, profile) if profile else BotProcess(env, workdir)
        bot.start()
        try:
            pid = bot_pid(bot)
            idle = memory_kib(pid)
            cpu_before = cpu_seconds(pid)
            since = max((m["seq"] for m in await fakegram.messages()), default=0)
            partial = bot.issues_dir / ".partial"
            partial.write_text(ISSUE, encoding="utf-8")
            dropped = time.time()
            partial.replace(bot.issues_dir / f"{ISSUE_ID}.md")
            expected = subscribers * MESSAGES_PER_READER
            messages, peak_rss = await collect(fakegram, expected, since, pid)
            memory = {
                "idle RSS": idle["VmRSS"],
                "peak RSS": max(peak_rss, idle["VmRSS"]),
                "VmHWM": memory_kib(pid)["VmHWM"],
            }
            cpu = cpu_seconds(pid) - cpu_before
            stats = await fakegram.stats()
        finally:
            bot.stop()
        summarize_log(bot.log())
    who = "bot (Pacer + outbox)"
    result = figures(who, subscribers, rate_limit, messages, stats, dropped, memory)
    print_timeline(messages)
    result.cpu_ms_per_message = cpu * 1000 / max(result.delivered, 1)
    return result


# ---------------------------------------------------------------- the naive PTB baseline


async def naive_worker(api_url: str, first: int, count: int, rate_limit: float) -> None:
    """Send the issue to every reader with PTB's AIORateLimiter; print timing and memory."""
    from telegram.error import TelegramError
    from telegram.ext import AIORateLimiter, Application

    from bot.delivery.send import send

    messages = issue_messages(read_issue(ISSUE.encode()))
    application = (
        Application.builder()
        .token(bot_token())
        .base_url(api_url)
        .rate_limiter(AIORateLimiter(overall_max_rate=rate_limit, max_retries=3))
        .read_timeout(30)
        .write_timeout(30)
        .pool_timeout(30)
        .build()
    )
    errors: Counter[str] = Counter()

    async def send_issue(chat_id: int) -> None:
        for message in messages:  # issue by issue, message by message
            try:
                await send(application.bot, chat_id, message)
            except TelegramError as error:
                errors[type(error).__name__] += 1

    async with application:
        started, cpu = time.time(), time.process_time()
        await asyncio.gather(*(send_issue(c) for c in range(first, first + count)))
        done, cpu = time.time(), time.process_time() - cpu
    report = {"started": started, "done": done, "errors": errors, "cpu": cpu}
    print(json.dumps({**report, "memory": memory_kib(os.getpid())}))


async def run_baseline(fakegram: Fakegram, subscribers: int, rate_limit: float) -> RunFigures:
    await fakegram.reset()
    readers = range(FIRST_READER, FIRST_READER + subscribers)
    await open_private_chats(fakegram.url, readers)
    since = max((m["seq"] for m in await fakegram.messages()), default=0)
    command = [
        sys.executable,
        __file__,
        "--naive-worker",
        fakegram.bot_api_url,
        str(FIRST_READER),
        str(subscribers),
        f"{rate_limit:g}",
    ]
    worker = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    output, _ = await worker.communicate()
    report = json.loads(output.decode().strip().splitlines()[-1])
    messages = await fakegram.messages(since=since)
    stats = await fakegram.stats()
    if report["errors"]:
        print(f"  baseline errors: {report['errors']}")
    memory = {"VmHWM": report["memory"]["VmHWM"]}
    who = "PTB AIORateLimiter, naive"
    result = figures(who, subscribers, rate_limit, messages, stats, report["started"], memory)
    result.cpu_ms_per_message = report["cpu"] * 1000 / max(result.delivered, 1)
    return result


# ---------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> None:
    rate_limit = TELEGRAM_RATE * args.scale
    print(
        f"# Broadcast benchmark: fakegram --rate-scale {args.scale:g} "
        f"(overall {rate_limit:g}/s, private chat {args.scale:g}/s burst 3), "
        f"bot RATE_LIMIT={rate_limit:g}, {MESSAGES_PER_READER} messages per reader",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-fakegram-") as logs:
        server = FakegramServer(fakegram_script(), ("--rate-scale", f"{args.scale:g}"), Path(logs))
        fakegram = Fakegram(server.url, server.options)
        rows = []
        try:
            for count in args.subscribers:
                await fakegram.reset()
                profile = args.profile if count == max(args.subscribers) else None
                print(f"bot, {count:,} subscribers…", flush=True)
                rows.append(await run_bot(fakegram, count, rate_limit, profile))
                print(HEADER + "\n" + rows[-1].line(), flush=True)
                if not args.skip_baseline:
                    print(f"baseline, {count:,} subscribers…", flush=True)
                    rows.append(await run_baseline(fakegram, count, rate_limit))
                    print(rows[-1].line(), flush=True)
        finally:
            server.stop()
    print("\n## Results\n")
    print(HEADER)
    for row in rows:
        print(row.line())
    bots = {r.subscribers: r for r in rows if r.who.startswith("bot")}
    for row in rows:
        ours = bots.get(row.subscribers)
        if row is not ours and ours and row.rate:
            print(
                f"- {row.subscribers:,} subscribers: bot/baseline throughput ratio "
                f"{ours.rate / row.rate:.2f}, time to last message ratio "
                f"{ours.last_after / row.last_after:.2f}"
            )
    if len(bots) > 1:
        small, large = bots[min(bots)], bots[max(bots)]
        print(
            f"- bot VmHWM {small.memory['VmHWM'] / 1024:.0f} MiB at {small.subscribers:,} → "
            f"{large.memory['VmHWM'] / 1024:.0f} MiB at {large.subscribers:,} subscribers"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--naive-worker":
        api_url, first, count, rate = sys.argv[2:6]
        asyncio.run(naive_worker(api_url, int(first), int(count), float(rate)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--scale", type=float, default=10.0, help="fakegram --rate-scale")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the bot here")
    args = parser.parse_args()
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
