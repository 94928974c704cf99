"""Tables counted from packaged data, kept on disk so that the next process reads them back.

Counting a corpus takes seconds; reading back what was counted takes a fraction of one. Each
model's tables live in one file of the user's cache directory (`$XDG_CACHE_HOME` or
`~/.cache`, under `ai-brief-bot`), stamped with the sizes and modification times of the files
they were counted from and with the settings they were counted with, so a changed package or a
retuned constant means a recount. Where the directory cannot be written the tables are counted
once per process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import msgpack

logger = logging.getLogger(__name__)

Model = TypeVar("Model")


def cache_path(name: str, version: int) -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root, "ai-brief-bot", f"{name}-v{version}.msgpack")


def stamp(paths: Iterable[Path]) -> list[int]:
    """Sizes and modification times: a changed package means a recount."""
    return [int(v) for p in paths for v in (p.stat().st_size, p.stat().st_mtime_ns)]


def load_cached(
    name: str,
    version: int,
    sources: Iterable[Path],
    build: Callable[[], Model],
    pack: Callable[[Model], Any],
    unpack: Callable[[Any], Model],
    *,
    settings: object = None,
    single_floats: bool = False,
) -> Model:
    """The model `build` counts from `sources`, read from the cache where it is current.

    `pack` turns the model into msgpack-able data and `unpack` back. `settings` are the
    constants the count depends on (compared by their repr); `single_floats` halves the file
    where seven digits are enough. Bump `version` when the layout of the packed data changes.
    """
    current = [*stamp(sources), repr(settings)]
    path = cache_path(name, version)
    try:
        loaded = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)
        if loaded.get("stamp") == current:
            return unpack(loaded["model"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # missing, unreadable or of another layout: count again below
    data = msgpack.packb({"stamp": current, "model": pack(build())}, use_single_float=single_floats)
    _write(path, data, name)
    # Read back what was packed, so a process that counted scores as one that read the cache.
    return unpack(msgpack.unpackb(data, raw=False, strict_map_key=False)["model"])


def _write(path: Path, data: bytes, name: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(path)  # atomic, so a parallel process never reads half a file
        for old in path.parent.glob(f"{name}-v*.msgpack"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as error:
        logger.info("model cache not written: %s", error, extra={"model": name})
