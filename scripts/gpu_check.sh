#!/usr/bin/env bash
# The GPU check, as one script: the CUDA tests, then the image, audio and video benchmarks
# on CUDA and on the CPU side by side, written with the machine's description to $OUT_DIR:
#   machine.txt   GPU, driver, torch/CUDA versions, CPU
#   cuda-tests.log  pytest -m cuda
#   bench.json    pytest-benchmark's record (per benchmark: timings, extra_info.cuda_max_memory_bytes)
#   gpu_report.md per adapter: CPU and GPU mean time, GPU/CPU throughput ratio, peak GPU memory
#
#   scripts/gpu_check.sh [OUT_DIR]        # default OUT_DIR: gpu-check
#   QUICK=1 scripts/gpu_check.sh DIR      # each benchmark once, untimed (checks the script itself)
# Without a GPU the CUDA tests and benchmarks skip and the report says so.
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-gpu-check}
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || command -v python3 )}
mkdir -p "$OUT_DIR"

{
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$PYTHON" - <<'PY'
import platform, torch
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA {torch.version.cuda}")
print(f"GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none visible to torch'}")
print(f"CPU: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} logical cores")
PY
} > "$OUT_DIR/machine.txt" 2>&1
cat "$OUT_DIR/machine.txt"

"$PYTHON" -m pytest -m cuda -q -rs tests 2>&1 | tee "$OUT_DIR/cuda-tests.log"
tests_rc=${PIPESTATUS[0]}
[ "$tests_rc" -eq 5 ] && tests_rc=0  # no test selected is not a failure

if [ "${QUICK:-0}" = 1 ]; then
  bench_args=(--benchmark-disable)
else
  bench_args=(--benchmark-only --benchmark-json="$OUT_DIR/bench.json" --benchmark-columns=min,mean,median,ops)
fi
"$PYTHON" -m pytest -q benchmarks/test_image.py benchmarks/test_audio.py benchmarks/test_video.py \
  -k "tokenize or melspectrogram or compressbench_audio" "${bench_args[@]}" 2>&1 | tee "$OUT_DIR/bench.log"
bench_rc=${PIPESTATUS[0]}

if [ -f "$OUT_DIR/bench.json" ]; then
  "$PYTHON" scripts/gpu_report.py "$OUT_DIR/bench.json" "$OUT_DIR/machine.txt" > "$OUT_DIR/gpu_report.md"
  cat "$OUT_DIR/gpu_report.md"
fi
echo "gpu_check: CUDA tests exit $tests_rc, benchmarks exit $bench_rc; files in $OUT_DIR"
[ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ]
