"""Shared benchmark data: the same corpus for compressbench and for the bare library it wraps."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UDHR = ROOT / "fixtures" / "text" / "udhr"


@pytest.fixture(scope="session")
def udhr_bytes() -> list[bytes]:
    """The UDHR in 26 languages, as the files' bytes (about 450 KB)."""
    return [p.read_bytes() for p in sorted(UDHR.glob("*.txt"))]


@pytest.fixture(scope="session")
def udhr_texts(udhr_bytes) -> list[str]:
    return [b.decode("utf-8") for b in udhr_bytes]
