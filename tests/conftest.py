"""Shared test helpers: the repository's paths and a way to run the real console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
UDHR = FIXTURES / "text" / "udhr"
HF_JSON = FIXTURES / "tokenizers" / "udhr-bpe.json"
SP_MODEL = FIXTURES / "tokenizers" / "udhr-unigram.model"
# The packaged demo suite: all four modalities, a fraction of the default suite's cost.
DEMO = str(ROOT / "compressbench" / "demo" / "suite.toml")


def console_script() -> list[str]:
    """The installed ``compressbench`` script beside this interpreter, else ``python -m compressbench``."""
    script = Path(sys.executable).parent / "compressbench"
    return [str(script)] if script.exists() else [sys.executable, "-m", "compressbench"]


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``compressbench ARGS`` as a user would, capturing its output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*console_script(), *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def udhr_texts() -> dict[str, str]:
    """The UDHR fixture in every language, decoded."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(UDHR.glob("*.txt"))}


@pytest.fixture(scope="session")
def tokenizer():
    """get(spec, device): each tokenizer built once per test session, counting only (no PSNR or SSIM of
    the model's input: tests/image/test_fidelity.py measures those)."""
    from compressbench import get_tokenizer

    built: dict[tuple[str, str], object] = {}

    def get(spec: str, device: str):
        if (spec, device) not in built:
            built[spec, device] = get_tokenizer(spec, device=device)
            built[spec, device].measure_fidelity = False
        return built[spec, device]

    return get


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The packaged demo suite run once a session (local engine, default options): its output folder, read-only.
    Under ``pytest -n`` the workers share one run (the first to ask makes it, the others wait for it)."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the folder every worker's temporary folder is in
    out = root / "demo-run" / "out"
    with FileLock(str(root / "demo-run.lock")):
        if not (out / "summary.json").is_file():
            proc = cli("run", DEMO, "--out", str(out), "--force")
            assert proc.returncode == 0, proc.stderr[-2000:]
    return out

