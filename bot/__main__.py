"""Command line: `python -m bot run | preview FILE | ingest`. Wiring only."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.content import IssueFormatError, UndecodableError, read_issue
from bot.content.messages import issue_messages
from bot.preview import format_preview


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="AI 简报 Telegram bot")
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="print the messages an issue file becomes")
    preview.add_argument("file", type=Path)
    preview.add_argument("--html", action="store_true", help="print Telegram HTML as sent")
    args = parser.parse_args(argv)

    if args.command == "preview":
        return _preview(args.file, html=args.html)
    return 2


def _preview(path: Path, *, html: bool) -> int:
    try:
        issue = read_issue(path.read_bytes(), file_name=path.name)
    except OSError as error:
        return _fail(f"cannot read {path}: {error.strerror or error}")
    except (UndecodableError, IssueFormatError) as error:
        return _fail(f"{path}: {error}")
    print(format_preview(issue, issue_messages(issue), html=html))
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
