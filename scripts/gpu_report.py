"""Turn a pytest-benchmark JSON of the media benchmarks into the GPU/CPU comparison of docs/performance.md.

Pairs every benchmark that ran on both devices (same test, same parameters
but the device) and writes, per adapter: the mean time on each device, the
GPU/CPU throughput ratio (CPU mean time / GPU mean time: above 1 the GPU is
faster) and the peak GPU memory allocated (torch.cuda.max_memory_allocated).

    python scripts/gpu_report.py BENCH.json [MACHINE.txt] > gpu_report.md
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def _pairs(benchmarks: list[dict]) -> dict[str, dict[str, dict]]:
    """name with the device removed -> device -> benchmark."""
    out: dict[str, dict[str, dict]] = {}
    for b in benchmarks:
        device = str((b.get("params") or {}).get("device", ""))
        if device:
            key = re.sub(r"\b" + re.escape(device) + r"\b-?|-" + re.escape(device) + r"\b", "", b["name"])
            out.setdefault(key, {})[device.split(":")[0]] = b
    return out


def report(bench: dict, machine: str = "") -> str:
    lines = ["# GPU vs CPU (media benchmarks)", ""]
    if machine:
        lines += ["```", machine.strip(), "```", ""]
    info = bench.get("machine_info", {})
    lines += [f"pytest-benchmark machine: {info.get('cpu', {}).get('brand_raw', '?')}, "
              f"{info.get('cpu', {}).get('count', '?')} CPUs; run {bench.get('datetime', '?')} (UTC)", "",
              "| benchmark | CPU mean (s) | GPU mean (s) | GPU/CPU throughput (×) | peak GPU memory (MiB) |",
              "|---|---|---|---|---|"]
    rows = 0
    for name, by_device in sorted(_pairs(bench.get("benchmarks", [])).items()):
        cpu, gpu = by_device.get("cpu"), by_device.get("cuda")
        if cpu is None or gpu is None:
            continue
        c, g = cpu["stats"]["mean"], gpu["stats"]["mean"]
        peak = gpu.get("extra_info", {}).get("cuda_max_memory_bytes")
        memory = f"{peak / 2**20:,.1f}" if peak is not None else "not recorded"
        lines.append(f"| `{name}` | {c:.4g} | {g:.4g} | {c / g:.2f} | {memory} |")
        rows += 1
    if not rows:
        lines.append("| (no benchmark ran on both CPU and CUDA: no GPU was visible to torch) | | | | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(argv[0])
    if not path.is_file():
        print(f"gpu_report: {path}: no such file (did the benchmarks run without --benchmark-disable?)", file=sys.stderr)
        return 2
    machine = Path(argv[1]).read_text() if len(argv) == 2 and Path(argv[1]).is_file() else ""
    sys.stdout.write(report(json.loads(path.read_text()), machine))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
