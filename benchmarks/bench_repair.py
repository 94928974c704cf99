"""Time the mojibake repair: model load once, then each issue file (damaged and clean).

Run: .venv/bin/python benchmarks/bench_repair.py [--write benchmarks/RESULTS-repair.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.content.repair import repair
from bot.content.zh_chars import load_chars
from bot.content.zh_model import load_model
from bot.content.zh_pos import load_pos

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
ROUNDS = 5


def _damage(text: str, page: str) -> str:
    return text.encode("utf-8").decode(page, errors="ignore").replace("\u00ad", "")


def _inputs() -> dict[str, tuple[str, str | None, str]]:
    """Each input with its original where that is known (the damaged seed, our samples), and
    the archive it is repaired with."""
    paths = {p.name[:3]: p for p in (FIXTURES / "seeds").glob("*")}
    seeds = {prefix: path.read_text(encoding="utf-8") for prefix, path in paths.items()}
    names = {prefix: path.name for prefix, path in paths.items()}
    inputs: dict[str, tuple[str, str | None, str]] = {}
    for prefix in sorted(seeds):
        original = seeds["001"] if prefix == "000" else None
        inputs[names[prefix]] = (seeds[prefix], original, "")
    # As the bot repairs it beside the editor's other issues (not 001, its undamaged copy).
    archive = "\n".join(seeds[prefix] for prefix in ("002", "003", "004"))
    inputs[f"{names['000']} (archive: 002–004)"] = (seeds["000"], seeds["001"], archive)
    for name in sorted(p.name for p in FIXTURES.glob("chinese_sample*.md")):
        text = (FIXTURES / name).read_text(encoding="utf-8")
        for page in ("cp1254", "cp1252"):
            inputs[f"{name} ({page} damage)"] = (_damage(text, page), text, "")
    return inputs


def _accuracy(repaired: str, original: str | None) -> str:
    if original is None:
        return "(clean) | (clean)"
    got, want = repaired.split("\n"), original.split("\n")
    lines = sum(a == b for a, b in zip(got, want, strict=True))
    wrong = sum(
        sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))
        for a, b in zip(got, want, strict=True)
    )
    total = sum(map(len, want))
    return f"{lines}/{len(want)} ({lines / len(want):.1%}) | {1 - wrong / total:.3%}"


def _seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _load_times() -> tuple[float, float, float, float, float]:
    """Seconds to load the word model, then the character and class models counted afresh
    (a machine's first load, into an empty cache) and read back from that cache."""
    words = _seconds(load_model)
    previous = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory() as empty:
        os.environ["XDG_CACHE_HOME"] = empty
        try:
            counted = (_seconds(load_chars), _seconds(load_pos))
            load_chars.cache_clear()
            load_pos.cache_clear()
            read = (_seconds(load_chars), _seconds(load_pos))
        finally:
            if previous is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = previous
    return words, *counted, *read


def run() -> list[str]:
    """Measure and return the report as Markdown lines."""
    words, chars_counted, classes_counted, chars, classes = _load_times()
    lines = [
        "# Mojibake repair benchmark",
        "",
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"median of {ROUNDS} rounds per file. Regenerate with "
        "`.venv/bin/python benchmarks/bench_repair.py --write benchmarks/RESULTS-repair.md`.",
        "",
        f"- Model load, once per process: word model {words:.2f} s, "
        f"character trigram {chars:.2f} s, word classes {classes:.2f} s, "
        f"total {words + chars + classes:.2f} s. The trigram and the classes are counted on a "
        f"machine's first load ({chars_counted:.2f} s and {classes_counted:.2f} s) and then "
        "read from the model cache (`~/.cache/ai-brief-bot`).",
        "",
        "| file | characters | restored | guessed | time per file | right lines | right chars |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (text, original, archive_text) in _inputs().items():

        def archive(text: str = archive_text) -> str:
            return text

        result = repair(text, archive)
        median = statistics.median(
            _seconds(lambda t=text, a=archive: repair(t, a)) for _ in range(ROUNDS)
        )
        lines.append(
            f"| {name} | {len(text)} | {result.restored} | {result.guessed} "
            f"| {median * 1000:.0f} ms | {_accuracy(result.text, original)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    report = "\n".join(run()) + "\n"
    print(report, end="")
    if args.write:
        args.write.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
