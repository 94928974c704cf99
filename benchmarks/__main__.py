"""Run every benchmark, one after the other: `.venv/bin/python -m benchmarks [--quick]`.

From the repository root (the broadcast and ingest benchmarks reuse tests/e2e's helpers).
`--quick` runs small sizes, for a smoke check in about two minutes; without it the full run
takes about half an hour (broadcast to 10,000 subscribers, twice; three 60 s scan waits).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

FULL: list[list[str]] = [
    ["bench_pipeline"],
    ["bench_repair"],
    ["bench_search"],
    ["bench_inline"],
    ["bench_outbox"],
    ["bench_edit", "--subscribers", "10000"],
    ["bench_broadcast"],
    ["bench_ingest"],
]
QUICK: list[list[str]] = [
    ["bench_pipeline", "--archive", "50", "--rounds", "5", "--archive-rounds", "1"],
    ["bench_repair"],
    ["bench_search", "--items", "10000", "--repeat", "5"],
    ["bench_inline", "--copies", "5", "--repeat", "5"],
    ["bench_outbox", "--subscribers", "1000"],
    ["bench_edit", "--subscribers", "500", "--history", "1", "5"],
    ["bench_broadcast", "--subscribers", "200"],
    ["bench_ingest", "--drops", "0", "--fast-drops", "3"],
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke check")
    args = parser.parse_args()
    failed = 0
    for name, *options in QUICK if args.quick else FULL:
        print(f"\n===== {name} {' '.join(options)}", flush=True)
        command = [sys.executable, "-m", f"benchmarks.{name}", *options]
        failed += subprocess.run(command, check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
