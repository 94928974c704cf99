"""`python -m bot preview` run as a user runs it: a real process on real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import seed_path

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def _preview(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "preview", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_preview_prints_every_message() -> None:
    result = _preview(str(seed_path("003")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("AI 简报 20210219: 8 items, 4 more links, 10 messages")
    assert "── 2/10 photo https://gitee.com/" in result.stdout
    assert "── 9/10 album " in result.stdout
    assert "<b>" not in result.stdout  # readable text, links written out
    assert "明年，我要用 AI 给全村写对联 (https://mp.weixin.qq.com/s?__biz=" in result.stdout


def test_preview_repairs_a_damaged_file_as_the_scan_of_its_folder_does(tmp_path: Path) -> None:
    # Beside the editor's other issues the repair knows the source 量子位 (in 003), which no
    # packaged corpus has: alone, seed 000 comes out with 量偏低.
    for seed in ("000", "002", "003", "004"):
        (tmp_path / seed_path(seed).name).write_bytes(seed_path(seed).read_bytes())
    result = _preview(str(tmp_path / seed_path("000").name))
    assert result.returncode == 0, result.stderr
    assert "炼丹不必NVIDIA (https://mp.weixin.qq.com/s?__biz=" in result.stdout
    assert "· 量子位\n" in result.stdout


def test_preview_names_the_sections_sent_as_notes(tmp_path: Path) -> None:
    from tests.content.test_parse import NOTES

    issue = tmp_path / "20990701.md"
    issue.write_text(NOTES, encoding="utf-8")
    result = _preview(str(issue))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "AI 简报 20990701: 2 items, 1 more links, 6 messages, notes: 编者按、招聘"
    )


def test_preview_html_prints_what_telegram_gets() -> None:
    result = _preview(str(seed_path("001")), "--html")
    assert result.returncode == 0, result.stderr
    assert '<b>1. <a href="https://mp.weixin.qq.com/s?__biz=' in result.stdout


@pytest.mark.parametrize(
    ("content", "name", "error"),
    [
        pytest.param(None, "missing.md", "cannot read", id="missing"),
        pytest.param(PNG, "image.md", "not a text file", id="image renamed .md"),
        pytest.param("随便写写，没有条目".encode(), "notes.md", "no issue date", id="not an issue"),
    ],
)
def test_preview_bad_input_is_one_line_and_non_zero(
    tmp_path: Path, content: bytes | None, name: str, error: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = _preview(str(path))
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert error in result.stderr
    assert "Traceback" not in result.stderr


def test_preview_into_a_pipe_closed_early_ends_quietly() -> None:
    """`preview FILE | head` closes the pipe before the preview is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "preview", "--html", str(seed_path("001"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # long before the interpreter has started
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0
    assert b"Traceback" not in stderr


def test_preview_refuses_a_file_the_bot_would_refuse_as_too_large(tmp_path: Path) -> None:
    from bot.ingest import MAX_ISSUE_BYTES

    issue = tmp_path / "20210305.md"
    data = seed_path("001").read_bytes()
    issue.write_bytes(data * (MAX_ISSUE_BYTES // len(data) + 1))
    result = _preview(str(issue))
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {issue}: {issue.stat().st_size} bytes is too large for an issue "
        f"(at most {MAX_ISSUE_BYTES})\n"
    )
