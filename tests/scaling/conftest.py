"""Fixtures of the scaling tests: published data, the Epoch fit, a multimodal summary."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.scaling.scaling_testkit import EPOCH_CSV, EPOCH_ENV, EPOCH_ORIGIN, EPOCH_WHERE, LI_CSV, MULTIMODAL_ROWS


@pytest.fixture(scope="session")
def epoch_csv() -> Path:
    if not EPOCH_CSV.exists():
        pytest.skip(f"Epoch AI's Chinchilla extraction is not at {EPOCH_CSV}: set {EPOCH_ENV} to a copy of "
                    f"{EPOCH_ORIGIN} (it is not in the repository)")
    return EPOCH_CSV


@pytest.fixture(scope="session")
def epoch_runs(epoch_csv: Path) -> pd.DataFrame:
    """The 240 runs Epoch fitted: all but the 5 highest-loss ones."""
    df = pd.read_csv(epoch_csv)
    runs = df.query(EPOCH_WHERE)
    if len(runs) != 240 or not runs.index.equals(df.nsmallest(len(df) - 5, "loss").index.sort_values()):
        pytest.fail(f"{epoch_csv}: {EPOCH_WHERE!r} should keep all but the 5 highest-loss runs of 245")
    return runs


@pytest.fixture(scope="session")
def epoch_fit(epoch_runs: pd.DataFrame):
    """Approach 3 over the full 4500-start grid on Epoch's 240 runs (a few seconds; once a session)."""
    from compressbench.scaling.fitting import approach3

    N = epoch_runs["Model Size"].to_numpy(float)
    D = epoch_runs["Training FLOP"].to_numpy(float) / (6 * N)
    return approach3(N, D, epoch_runs["loss"].to_numpy(float)), (N, D, epoch_runs["loss"].to_numpy(float))


@pytest.fixture(scope="session")
def li_frame() -> pd.DataFrame:
    df = pd.read_csv(LI_CSV)
    df["visual_tokens"] = df["pairs"] * (df["image_size"] // df["vit_patch"]) ** 2
    return df


@pytest.fixture()
def multimodal_summary(tmp_path: Path) -> Path:
    """A summary.json with text, audio, image and video rows (the schema of compressbench.summary/1)."""
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"schema": "compressbench.summary/1", "suite": "test", "provenance": {},
                                "datasets": {}, "tokenizers": {}, "units": {}, "rows": MULTIMODAL_ROWS}))
    return path
