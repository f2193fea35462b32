"""A decoder that crashes the process (a native fault, not a Python exception) fails its sample only.

The crashes are real: a read of address 0 (SIGSEGV) and ``os.abort()`` (SIGABRT)
in worker processes, and a test-only Pillow image plugin (tests/hostile_codecs,
put on PYTHONPATH so every process registers it) whose pixel decoder segfaults.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compressbench.parallel import WorkerCrashed, ordered_map
from tests.conftest import FIXTURES, ROOT, cli, console_script

HOSTILE = Path(__file__).resolve().parent / "hostile_codecs"
ENV = {"PYTHONPATH": os.pathsep.join([str(ROOT), str(HOSTILE)])}
GOOD = ["astronaut_portrait_3x4.jpg", "chelsea.png"]


def fragile(item: str) -> str:
    """Dies of a native fault on "segv" and "abort"; the identity otherwise."""
    if item == "segv":
        ctypes.string_at(0)
    if item == "abort":
        os.abort()
    return item


def _crash_row(item: str, exitcode: int | None) -> str:
    return f"{item} died of {exitcode}"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_that_dies_fails_only_its_item_in_order(workers):
    items = ["a", "segv", "b", "c", "abort", "d", "e"]
    out = list(ordered_map(fragile, items, workers=workers, on_crash=_crash_row))
    assert out == ["a", f"segv died of {-signal.SIGSEGV}", "b", "c", f"abort died of {-signal.SIGABRT}", "d", "e"]


def test_a_crash_without_a_handler_names_the_item_and_signal():
    with pytest.raises(WorkerCrashed, match=r"signal 11\) while running 'segv'"):
        list(ordered_map(fragile, ["a", "segv"], workers=1))


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """Two real photos and a file the hostile codec crashes on, in one folder."""
    folder = tmp_path / "images"
    folder.mkdir()
    for name in GOOD:
        (folder / name).write_bytes((FIXTURES / "image" / name).read_bytes())
    (folder / "b_crash.img").write_bytes(b"CRASHME!" + bytes(64))
    return folder


def _by_name(rows: list[dict]) -> dict[str, dict]:
    return {Path(r["sample"]).name: r for r in rows}


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_crashing_decoder_is_one_error_row_and_the_others_are_measured(images, workers):
    alone = cli("measure", "-t", "qwen2vl", "--device", "cpu", "--in-process", "--json",
                *(str(images / n) for n in GOOD), env=ENV)
    assert alone.returncode == 0, alone.stderr
    proc = cli("measure", "-t", "qwen2vl", "--device", "cpu", "--workers", workers, "--timeout", "120",
               "--json", str(images), env=ENV)
    assert proc.returncode == 1, proc.stderr
    rows = _by_name(json.loads(proc.stdout)["results"])
    crashed = rows.pop("b_crash.img")
    assert "b_crash.img: decoder crashed: signal 11 while reading" in crashed["error"]
    assert "timeout" not in crashed["error"]
    expected = _by_name(json.loads(alone.stdout)["results"])
    assert {k: (r["raw_bytes"], r["tokens"]) for k, r in rows.items()} == {
        k: (r["raw_bytes"], r["tokens"]) for k, r in expected.items()}


def test_run_writes_every_row_despite_a_crash(images, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["qwen2vl", "internvl"]\n[[datasets]]\nname = "img"\nmodality = "image"\n'
                     f'paths = ["{images}"]\n')
    proc = cli("run", str(suite), "--out", str(tmp_path / "out"), "--device", "cpu", "--workers", "1", env=ENV)
    assert proc.returncode == 1, proc.stderr
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and sum(r["error"] is not None for r in rows) == 2
    assert "decoder crashed: signal 11" in (tmp_path / "out" / "report.md").read_text()


def test_in_process_decoding_is_the_documented_risk(images):
    proc = cli("measure", "-t", "qwen2vl", "--device", "cpu", "--in-process", str(images), env=ENV)
    assert proc.returncode == -signal.SIGSEGV


@pytest.mark.slow
def test_a_hanging_decoder_times_out(tmp_path):
    (tmp_path / "hang.img").write_bytes(b"SLEEPME!" + bytes(64))
    (tmp_path / "ok.png").write_bytes((FIXTURES / "image" / "chelsea.png").read_bytes())
    proc = cli("measure", "-t", "qwen2vl", "--device", "cpu", "--workers", "1", "--timeout", "3", "--json",
               str(tmp_path), env=ENV)
    rows = _by_name(json.loads(proc.stdout)["results"])
    assert "longer than the per-sample timeout of 3 s" in rows["hang.img"]["error"]
    assert rows["ok.png"]["tokens"] > 0


def _children(pid: int) -> list[int]:
    ps = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in ps.split()]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_quietly_when_the_main_process_is_killed(tmp_path):
    for i in range(3):
        (tmp_path / f"hang{i}.img").write_bytes(b"SLEEPME!" + bytes(64))
    proc = subprocess.Popen([*console_script(), "measure", "-t", "qwen2vl", "--device", "cpu", "--workers", "2",
                             str(tmp_path)], env={**os.environ, **ENV}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 3 and time.monotonic() < deadline:  # two workers and the resource tracker
        time.sleep(0.2)
    children = _children(proc.pid)
    time.sleep(1)  # the workers are decoding (hanging) now
    proc.kill()
    _, stderr = proc.communicate(timeout=30)  # EOF: every child holding stderr has exited
    assert stderr == ""
    assert len(children) >= 2
    deadline = time.monotonic() + 10  # the resource tracker may still be freeing the pool's semaphores
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(c) for c in children)


def test_the_error_rows_of_a_unit_sample_name_their_unit(images, tmp_path):
    """Drawing whole units (--sample-by unit), a crashed decoder's row names its unit too (as a timed-out
    one's does: both rows come from the worker pool's handlers)."""
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["qwen2vl"]\n[[datasets]]\nname = "img"\nmodality = "image"\npaths = ["{images}"]\n')
    proc = cli("run", str(suite), "--out", str(tmp_path / "out"), "--device", "cpu", "--workers", "1",
               "--sample", "100%", "--sample-by", "unit", env=ENV)
    assert proc.returncode == 1, proc.stderr
    rows = _by_name([json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()])
    assert "decoder crashed" in rows["b_crash.img"]["error"]
    assert {name: Path(r.get("unit", "")).name for name, r in rows.items()} == {name: name for name in rows}
