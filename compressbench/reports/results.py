"""Reading a run's per-sample rows (results.jsonl) back, for distributions and for saying which samples differ.

>>> results_path("runs/a/summary.json").as_posix()
'runs/a/results.jsonl'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compressbench.core.errors import ConfigError, not_utf8


def results_path(run: str | Path) -> Path:
    """results.jsonl of a run directory, or beside a summary.json."""
    p = Path(run)
    return p / "results.jsonl" if p.is_dir() or p.suffix != ".json" else p.with_name("results.jsonl")


def read_results(run: str | Path, *, required: bool = False) -> list[dict[str, Any]] | None:
    """The rows of results.jsonl, or None when the run has none (``required`` makes that an error)."""
    path = results_path(run)
    if not path.is_file():
        if required:
            raise ConfigError(f"{path}: no such file; per-sample results come from `compressbench run --out DIR`")
        return None
    rows = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise not_utf8(f"{path}:{number}", exc, "results.jsonl") from None
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not a JSON line ({exc.msg})") from None
    return rows


def sample_ids(rows: list[dict[str, Any]] | None) -> dict[str, list[str]] | None:
    """dataset -> its sample ids in run order (each once), or None without results."""
    if rows is None:
        return None
    out: dict[str, dict[str, None]] = {}
    for row in rows:
        out.setdefault(row["dataset"], {}).setdefault(row["sample"])
    return {k: list(v) for k, v in out.items()}
