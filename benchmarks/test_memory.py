"""Peak memory of a run as the corpus grows from 1x to 8x the text and image fixtures: it must stay flat.

Each size runs `compressbench run --workers 2` in a fresh process and reads the
peak resident set size of that process (VmHWM in /proc/self/status, where
tokenizers and aggregates live; not ru_maxrss, which Linux carries over an exec
from the parent, so a large test process would show through). The decode
workers' own peaks are not included; a worker holds at most one sample at a time. The figures go into the benchmark's extra_info
(``--benchmark-json``) and are printed; the 8x/1x ratio is asserted, not a time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEAK = (
    "import re, sys\n"
    "from compressbench.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "print('PEAK_KB', re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    "sys.exit(code)\n"
)


def _corpus(root: Path, copies: int) -> Path:
    for k in range(copies):
        shutil.copytree(ROOT / "fixtures" / "text", root / f"text{k}")
        shutil.copytree(ROOT / "fixtures" / "image", root / f"image{k}")
    suite = root / "suite.toml"
    suite.write_text('tokenizers = ["bytes", "tiktoken:cl100k_base", "qwen2vl"]\n'
                     '[[datasets]]\nname = "text"\nmodality = "text"\npaths = ["text*"]\n'
                     '[[datasets]]\nname = "photos"\nmodality = "image"\npaths = ["image*"]\n')
    return suite


def _peak_kb(suite: Path, out: Path) -> int:
    """Peak RSS in KiB of the run's main process."""
    proc = subprocess.run([sys.executable, "-c", PEAK, "run", str(suite), "--out", str(out), "--batch-size", "8",
                           "--workers", "2"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return int(proc.stdout.rsplit("PEAK_KB", 1)[1].split()[0])


def test_peak_memory_is_flat_from_1x_to_8x(benchmark, tmp_path):
    peaks: dict[int, int] = {}

    def measure() -> None:
        for copies in (1, 2, 4, 8):
            root = tmp_path / f"x{copies}"
            if not root.exists():
                root.mkdir()
                _corpus(root, copies)
            peaks[copies] = _peak_kb(root / "suite.toml", root / f"out{len(peaks)}")

    benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info["peak_rss_mb"] = {f"{k}x": round(v / 1024, 1) for k, v in peaks.items()}
    print("\npeak RSS (MB) by corpus size:", benchmark.extra_info["peak_rss_mb"])
    # 8x the samples may add a little (per-sample C values are kept for percentiles), never 8x
    assert peaks[8] / peaks[1] < 1.25

