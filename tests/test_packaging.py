"""The package stands on its own: a built wheel, run from an empty folder, measures its demo suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

DEMO = ROOT / "compressbench" / "demo"


def test_the_demo_suite_is_small_and_lists_every_file():
    files = [p for p in DEMO.rglob("*") if p.is_file() and p.name not in ("suite.toml", "README.md")]
    assert sum(p.stat().st_size for p in files) < 2_000_000
    readme = (DEMO / "README.md").read_text()
    assert all(f"`{p.relative_to(DEMO).as_posix()}`" in readme for p in files if p.parent.name != "text")
    assert all(p.name in readme for p in files)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a clean copy of the sources (offline: no build isolation, no dependencies)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "compressbench", src / "compressbench",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (built,) = dist.glob("compressbench-*.whl")
    return built


def test_the_wheel_carries_the_demo_suite(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"compressbench/demo/{p.relative_to(DEMO).as_posix()}" for p in DEMO.rglob("*") if p.is_file()}
    assert expected <= names, sorted(expected - names)


@pytest.mark.slow
def test_an_installed_wheel_runs_its_demo_from_an_empty_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}  # the unpacked wheel, not the source checkout
    where = subprocess.run([sys.executable, "-c", "import compressbench; print(compressbench.__file__)"],
                           cwd=empty, env=env, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout + where.stderr
    proc = subprocess.run([sys.executable, "-m", "compressbench", "run", "--out", "out"], cwd=empty, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((empty / "out" / "summary.json").read_text())
    assert {r["modality"] for r in summary["rows"]} == {"text", "audio", "image", "video"}
    assert all(r["errors"] == 0 and r["tokens"] > 0 for r in summary["rows"])
    assert summary["suite"] == "demo" and summary["provenance"]["suite_origin"] == "packaged demo"
    assert Path(summary["provenance"]["suite_source"]).is_relative_to(site)
    assert "suite `demo` (packaged demo)" in (empty / "out" / "report.md").read_text()
