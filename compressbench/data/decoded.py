"""What a modality's decoder returns: the payload, its canonical raw size T, and metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Decoded:
    """A decoded sample. ``meta`` holds per-sample facts (duration, resolution, ...) for the results."""

    payload: Any
    raw_bytes: int
    meta: dict[str, Any] = field(default_factory=dict)
