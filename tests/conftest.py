"""Shared fixtures: the real seed files."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"


def seed_path(prefix: str) -> Path:
    """The seed file whose name starts with `prefix` ("001")."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path


@pytest.fixture
def seed_bytes() -> dict[str, bytes]:
    return {path.name[:3]: path.read_bytes() for path in sorted(SEEDS.glob("*.txt"))}
