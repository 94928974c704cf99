"""Content pipeline throughput: issue file bytes → Telegram messages, per stage.

Run: .venv/bin/python -m benchmarks.bench_pipeline [--archive 1000] [--rounds 20] [--cpu 0]

Stages, as `bot.content.read_issue` and `bot.content.messages.issue_messages` chain them:
decode (bytes → text, mojibake check), parse (text → Issue), render (items → HTML blocks),
split (blocks → messages within Telegram's limits). `messages` is `issue_messages` itself
(render + split as the bot runs them); `total` is bytes → messages end to end.

The synthetic archive is made in memory from the four real issues, deterministically: issue k
takes real issue k % 4, a new date, a rotated and renumbered subset of its items, a word
substitution, and every fifth one is GB18030, every seventh UTF-8 with BOM and CRLF.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bot.content import read_issue
from bot.content.decode import decode_issue_bytes
from bot.content.messages import (
    header_messages,
    issue_messages,
    other_links_messages,
    title_html,
)
from bot.content.parse import parse_issue
from bot.content.render import render_blocks
from bot.content.split import CAPTION_LIMIT, TEXT_LIMIT, pack_blocks
from bot.content.types import Issue

ROOT = Path(__file__).resolve().parents[1]
ISSUES = ROOT / "issues"
TARGET_MS = 50.0  # the four real issues, together, on one core
_ITEM_HEADING = re.compile(r"^# +\d+\s*[.、．]", re.MULTILINE)
_DATE = re.compile(r"20\d{6}")
_SWAPS = (
    ("模型", "模式"),
    ("AI", "人工智能"),
    ("深度学习", "深度神经网络"),
    ("开源", "开放源代码"),
)


def real_issues() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(ISSUES.glob("*.md"))}


def synthetic_archive(count: int, seeds: list[bytes]) -> list[tuple[str, bytes]]:
    """`count` issue files varied from `seeds`, the same every run (seeded RNG)."""
    rng = random.Random(20210305)
    texts = [s.decode("utf-8") for s in seeds]
    start = date(2022, 1, 7)
    archive = []
    for k in range(count):
        text = texts[k % len(texts)]
        issue_date = (start + timedelta(days=7 * k)).strftime("%Y%m%d")
        text = _DATE.sub(issue_date, text, count=1)  # the intro's date names the issue
        cuts = [m.start() for m in _ITEM_HEADING.finditer(text)]
        head, items = (
            text[: cuts[0]],
            [text[a:b] for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)],
        )
        # The last section may carry the "其他" list: keep it last; rotate and thin the rest.
        shift = rng.randrange(len(items))
        keep = [item for item in items[shift:] + items[:shift] if rng.random() < 0.85] or items[:1]
        body = "".join(
            _ITEM_HEADING.sub(f"# {n}.", item, count=1) for n, item in enumerate(keep, start=1)
        )
        old, new = _SWAPS[k % len(_SWAPS)]
        text = (head + body).replace(old, new)
        if k % 5 == 0:
            data = text.encode("gb18030")
        elif k % 7 == 0:
            data = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")
        else:
            data = text.encode("utf-8")
        archive.append((f"{issue_date}.md", data))
    return archive


@dataclass
class StageTimes:
    decode: list[float] = field(default_factory=list)
    parse: list[float] = field(default_factory=list)
    render: list[float] = field(default_factory=list)
    split: list[float] = field(default_factory=list)
    messages: list[float] = field(default_factory=list)  # issue_messages (render + split)
    total: list[float] = field(default_factory=list)  # read_issue + issue_messages


def _clock(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _render(issue: Issue) -> list[tuple[list[str], bool]]:
    """Every item's HTML blocks (title first) and whether it carries a caption."""
    rendered = []
    for item in issue.items:
        body = render_blocks(item.body, seen_urls={item.url} if item.url else set())
        rendered.append(([title_html(item), *body], bool(item.images)))
    return rendered


def _split(issue: Issue, rendered: list[tuple[list[str], bool]]) -> int:
    count = len(header_messages(issue)) + len(other_links_messages(issue.other_links))
    for blocks, has_image in rendered:
        first = CAPTION_LIMIT if has_image else None
        count += len(pack_blocks(blocks, TEXT_LIMIT, first_limit=first))
    return count


def measure(files: list[tuple[str, bytes]], times: StageTimes) -> int:
    """One pass over `files`, adding each stage's time for the whole set; returns messages."""
    decode = parse = render = split = messages = total = 0.0
    sent = 0
    for name, data in files:
        t, text = _clock(lambda d=data: decode_issue_bytes(d))
        decode += t
        t, issue = _clock(lambda x=text, n=name: parse_issue(x, file_name=n))
        parse += t
        t, rendered = _clock(lambda i=issue: _render(i))
        render += t
        t, _ = _clock(lambda i=issue, r=rendered: _split(i, r))
        split += t
        t, built = _clock(lambda i=issue: issue_messages(i))
        messages += t
        sent += len(built)  # type: ignore[arg-type]
        t, _ = _clock(lambda d=data, n=name: issue_messages(read_issue(d, file_name=n)))
        total += t
    times.decode.append(decode)
    times.parse.append(parse)
    times.render.append(render)
    times.split.append(split)
    times.messages.append(messages)
    times.total.append(total)
    return sent


def report(label: str, files: list[tuple[str, bytes]], rounds: int) -> float:
    measure(files, StageTimes())  # warm-up: imports, regex compilation, lru caches of links
    times = StageTimes()
    sent = 0
    for _ in range(rounds):
        sent = measure(files, times)
    size = sum(len(d) for _, d in files)
    total = statistics.median(times.total)
    print(f"\n## {label}: {len(files)} issues, {size / 1024:.0f} KiB, {sent} messages")
    print(f"median of {rounds} rounds (min in brackets)")
    print("| stage | time for the set | per issue | share of total |")
    print("| --- | ---: | ---: | ---: |")
    for stage in ("decode", "parse", "render", "split", "messages", "total"):
        values: list[float] = getattr(times, stage)
        median = statistics.median(values)
        print(
            f"| {stage} | {median * 1000:.1f} ms ({min(values) * 1000:.1f}) "
            f"| {median / len(files) * 1000:.2f} ms | {median / total:.0%} |"
        )
    print(f"throughput: {len(files) / total:.0f} issues/s, {size / total / 2**20:.2f} MiB/s")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archive", type=int, default=1000, help="synthetic issues (0: skip)")
    parser.add_argument("--rounds", type=int, default=20, help="rounds over the real issues")
    parser.add_argument("--archive-rounds", type=int, default=3)
    parser.add_argument("--cpu", type=int, default=0, help="pin to this CPU (-1: don't pin)")
    args = parser.parse_args()
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    real = list(real_issues().items())
    print(f"# Content pipeline benchmark (pinned to CPU {args.cpu})")
    real_total = report("real issues (issues/*.md)", real, args.rounds)
    verdict = "MET" if real_total * 1000 < TARGET_MS else "MISSED"
    print(
        f"target: the {len(real)} real issues in < {TARGET_MS:.0f} ms on one core: "
        f"{real_total * 1000:.1f} ms, {verdict}"
    )
    if args.archive:
        archive = synthetic_archive(args.archive, [data for _, data in real])
        report("synthetic archive", archive, args.archive_rounds)


if __name__ == "__main__":
    main()
