"""A missing optional back-end is a one-line error with an install hint (exit 2), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, UDHR, cli

# Runs the real CLI with one package made unimportable, as if it were not installed.
WITHOUT = "import sys; sys.modules[sys.argv[1]] = None; from compressbench.cli import main; sys.exit(main(sys.argv[2:]))"


def _without(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-c", WITHOUT, module, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("backends")
    suite = root / "suite.toml"
    suite.write_text(f'tokenizers = ["bytes"]\n[[datasets]]\nname = "t"\nmodality = "text"\npaths = ["{UDHR / "eng.txt"}"]\n')
    proc = cli("run", str(suite), "--out", str(root / "run"))
    assert proc.returncode == 0, proc.stderr
    return root / "run"


def _one_line(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert all(w in lines[0] for w in words), lines[0]


def test_parquet_without_pyarrow(run_dir, tmp_path):
    proc = _without("pyarrow", "report", str(run_dir), "--format", "parquet", "--out", str(tmp_path / "r.parquet"))
    _one_line(proc, "the Parquet report needs the Python package 'pyarrow'", "pip install pyarrow")


def test_ray_engine_without_ray(tmp_path):
    suite = tmp_path / "suite.toml"  # one cheap tokenizer: the suite is loaded before Ray is needed
    suite.write_text(f'tokenizers = ["bytes"]\n[[datasets]]\nname = "t"\nmodality = "text"\npaths = ["{UDHR / "eng.txt"}"]\n')
    proc = _without("ray", "run", str(suite), "--engine", "ray", "--out", str(tmp_path / "out"))
    _one_line(proc, "--engine ray needs the Python package 'ray'", "pip install 'compressbench[ray]'")


def test_any_other_missing_module_is_still_one_line(run_dir):
    """A back-end no code path wraps (here matplotlib, which draws the HTML report's figures) still ends in one
    line with a hint."""
    proc = _without("matplotlib", "report", str(run_dir), "--format", "html")
    _one_line(proc, "compressbench report needs the Python package 'matplotlib'", "pip install matplotlib")
