"""A real third-party adapter, installed for tests as a distribution with an entry point.

``install(root)`` writes the package ``cblines`` and its ``.dist-info`` under
``root`` and returns the environment that puts it on ``PYTHONPATH``: the
``compressbench`` console script then finds it through the entry-point group
``compressbench.tokenizers``, as it would a ``pip install``-ed plugin.
"""

from __future__ import annotations

import os
from pathlib import Path

SOURCE = '''
from __future__ import annotations

from dataclasses import dataclass

from compressbench.adapters.base import Tokenizer
from compressbench.core.metrics import CountSpec
from compressbench.core.sample import TokenCount


@dataclass(frozen=True)
class LinesConfig:
    pass


class LinesTokenizer(Tokenizer):
    """One token per non-empty line; reports its own counts."""

    family = "lines"
    modality = "text"
    description = "one token per non-empty line (a test plugin with its own counts)"
    Config = LinesConfig
    counts = {
        "blank_lines": CountSpec("lines (empty lines, not tokens)"),
        "longest_line": CountSpec("characters (the longest line of a sample)", aggregate="max"),
        "full_line_share": CountSpec("share of a sample's lines that are not blank (0-1)", aggregate="mean"),
    }

    def count(self, payload):
        lines = payload.splitlines()
        full = [line for line in lines if line.strip()]
        return TokenCount(tokens=len(full), input_bytes=len(payload.encode()),
                          counts={"blank_lines": len(lines) - len(full),
                                  "longest_line": max((len(line) for line in lines), default=0),
                                  "full_line_share": len(full) / len(lines) if lines else 0.0})
'''


def install(root: Path) -> dict[str, str]:
    """Install the plugin under ``root``; the environment that makes it importable."""
    (root / "cblines").mkdir(parents=True)
    (root / "cblines" / "__init__.py").write_text(SOURCE)
    dist = root / "cblines-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cblines\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[compressbench.tokenizers]\nlines = cblines:LinesTokenizer\n")
    return {"PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
