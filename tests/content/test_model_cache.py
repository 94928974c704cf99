"""The model cache: counted once per machine, recounted when its sources or settings change."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.content.model_cache import cache_path, load_cached


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


class Counting:
    """A stand-in for counting a corpus: records how often it ran."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> dict[str, float]:
        self.runs += 1
        return {"的": 0.5, "是": 0.25}


def _load(source: Path, build: Counting, settings: object = 1, version: int = 1) -> object:
    return load_cached("toy", version, [source], build, dict, dict, settings=settings)


def test_tables_are_counted_once_then_read_back(tmp_path: Path, cache_home: Path) -> None:
    source = tmp_path / "corpus.txt"
    source.write_text("的是", encoding="utf-8")
    build = Counting()
    assert _load(source, build) == {"的": 0.5, "是": 0.25}
    assert _load(source, build) == {"的": 0.5, "是": 0.25}
    assert build.runs == 1
    assert cache_path("toy", 1).is_file()


def test_a_changed_source_setting_or_layout_means_a_recount(
    tmp_path: Path, cache_home: Path
) -> None:
    source = tmp_path / "corpus.txt"
    source.write_text("的是", encoding="utf-8")
    build = Counting()
    _load(source, build)
    _load(source, build, settings=2)  # a retuned constant
    assert build.runs == 2
    source.write_text("的是的", encoding="utf-8")  # the package was upgraded
    _load(source, build, settings=2)
    assert build.runs == 3
    _load(source, build, settings=2, version=2)  # a new layout: the old file goes
    assert build.runs == 4
    assert [p.name for p in cache_path("toy", 2).parent.iterdir()] == ["toy-v2.msgpack"]


def test_a_damaged_cache_file_is_counted_again(tmp_path: Path, cache_home: Path) -> None:
    source = tmp_path / "corpus.txt"
    source.write_text("的是", encoding="utf-8")
    build = Counting()
    _load(source, build)
    cache_path("toy", 1).write_bytes(b"\xc1 not msgpack")
    assert _load(source, build) == {"的": 0.5, "是": 0.25}
    assert build.runs == 2


def test_an_unwritable_cache_still_gives_the_model(
    tmp_path: Path, cache_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "corpus.txt"
    source.write_text("的是", encoding="utf-8")
    cache_home.write_text("a file where the cache folder should be", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="bot.content.model_cache")
    build = Counting()
    assert _load(source, build) == {"的": 0.5, "是": 0.25}
    assert _load(source, build) == {"的": 0.5, "是": 0.25}
    assert build.runs == 2  # counted once per process, as it cannot be kept
    assert "model cache not written" in caplog.text
