"""Text batches measured two at a time: the same rows, and only for tokenizers that allow it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from compressbench import get_tokenizer
from compressbench.adapters.base import Tokenizer
from compressbench.adapters.text_bytes import BytesTokenizer
from compressbench.core.sample import Sample, TokenCount
from compressbench.data import modalities
from compressbench.data.modalities import batches_in_flight
from compressbench.data.suite import parse_suite
from compressbench.measure import batched, measure_batches
from compressbench.runner import RunOptions, run_suite

ROOT = Path(__file__).resolve().parents[1]


class _Concurrency:
    """How many calls were inside at once, at most."""

    def __init__(self) -> None:
        self.now = self.most = self.calls = 0
        self.lock = threading.Lock()

    def inside(self) -> None:
        with self.lock:
            self.calls += 1
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.02)
        with self.lock:
            self.now -= 1


@dataclass(frozen=True)
class _NoConfig:
    pass


class _PlainTextPlugin(Tokenizer):
    """A third-party text adapter that says nothing about threads: one token per character."""

    family, modality, description, Config = "plain-test", "text", "test", _NoConfig

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen = _Concurrency()

    def count_batch(self, payloads):
        self.seen.inside()
        return [TokenCount(tokens=len(p), input_bytes=len(p.encode())) for p in payloads]

    def count(self, payload):
        return self.count_batch([payload])[0]


class _SlowBytes(BytesTokenizer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen = _Concurrency()

    def encode_batch(self, texts):
        self.seen.inside()
        return super().encode_batch(texts)


def _batches(n: int = 12, size: int = 2) -> list[list[Sample]]:
    samples = [Sample(dataset="d", modality="text", id=str(i), path=None, payload="ab " * (i + 1), raw_bytes=3 * (i + 1))
               for i in range(n)]
    return list(batched(iter(samples), size))


def test_text_adapters_have_two_batches_in_flight_and_rows_stay_in_order():
    tok = _SlowBytes(BytesTokenizer.Config())
    rows = [m for batch in measure_batches([tok], _batches(), ahead=batches_in_flight("text")) for m in batch]
    assert tok.seen.most == 2
    assert [m.sample for m in rows] == [str(i) for i in range(12)]
    assert [m.tokens for m in rows] == [3 * (i + 1) for i in range(12)]


def test_a_plugin_that_does_not_say_it_is_thread_safe_gets_one_batch_at_a_time():
    plugin = _PlainTextPlugin(_NoConfig())
    text = _SlowBytes(BytesTokenizer.Config())  # beside it in the same dataset: the dataset goes one at a time
    rows = [m for batch in measure_batches([plugin, text], _batches(), ahead=2) for m in batch]
    assert plugin.seen.most == 1 and text.seen.most == 1
    assert len(rows) == 24 and all(m.error is None for m in rows)


def test_a_run_counts_the_same_with_and_without_overlap(monkeypatch, tmp_path):
    specs = ["tiktoken:cl100k_base", f"sp:{ROOT / 'fixtures/tokenizers/udhr-unigram.model'}",
             f"hf:{ROOT / 'fixtures/tokenizers/udhr-bpe.json'}"]
    suite = parse_suite({"tokenizers": specs, "datasets": [
        {"name": "udhr", "modality": "text", "paths": [str(ROOT / "fixtures" / "text")]}]}, source="t", base=tmp_path)
    tokenizers = [get_tokenizer(s) for s in specs]

    def rows(in_flight: int) -> list[dict]:
        monkeypatch.setitem(modalities.IN_FLIGHT, "text", in_flight)
        out: list[dict] = []
        run_suite(suite, tokenizers=tokenizers, emit=out.append, options=RunOptions(batch_size=3))
        return [{k: v for k, v in r.items() if k not in ("seconds", "decode_seconds")} for r in out]

    assert rows(2) == rows(1)


def test_seconds_add_up_to_the_wall_time_when_batches_overlap():
    tok = _SlowBytes(BytesTokenizer.Config())  # each encode waits 20 ms, the GIL released: two really overlap
    start = time.perf_counter()
    rows = [m for batch in measure_batches([tok], _batches(), ahead=2) for m in batch]
    wall = time.perf_counter() - start
    assert tok.seen.most == 2
    spent = sum(m.seconds for m in rows)
    assert 0.5 * wall <= spent <= wall  # timed apart, the six calls would add up to about twice the wall time


def test_ctrl_c_mid_run_exits_130_leaves_no_stale_summary_and_the_run_resumes(tmp_path):
    # a library still encoding on another thread when the interpreter exits aborts the process (C++
    # std::terminate): the run must wait for the batches in flight, then exit as interrupted
    import json
    import signal
    import subprocess

    from tests.conftest import cli, console_script

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures" / "text" / "udhr").glob("*.txt"))]
    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(1500):
        (folder / f"{i:04d}.txt").write_text(texts[i % len(texts)], encoding="utf-8")
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["tiktoken:cl100k_base", "sp:{ROOT / "fixtures/tokenizers/udhr-unigram.model"}"]\n'
                     '[[datasets]]\nname = "t"\nmodality = "text"\npaths = ["texts"]\n')
    out, results = tmp_path / "out", tmp_path / "out" / "results.jsonl"
    out.mkdir()
    for name in ("summary.json", "summary.csv", "report.md"):  # an earlier run's, in the folder forced over
        (out / name).write_text("an earlier run's\n", encoding="utf-8")
    proc = subprocess.Popen([*console_script(), "run", str(suite), "--out", str(out), "--batch-size", "8", "--force"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if results.exists() and sum(1 for _ in results.open("rb")) > 40:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    written = sum(1 for _ in results.open("rb"))
    assert written < 3000, "the run was not interrupted mid-way"
    assert proc.returncode == 130 and "interrupted" in stderr and "terminate" not in stderr, stderr
    assert not [name for name in ("summary.json", "summary.csv", "report.md") if (out / name).exists()]
    resumed = cli("run", str(suite), "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert len({(r["tokenizer"], r["sample"]) for r in rows}) == len(rows) == 3000
    assert all(r["error"] is None for r in rows)


def test_a_streamed_text_stops_between_groups_when_its_run_stops(tmp_path):
    from compressbench.data.textfile import TextFile
    from compressbench.prefetch import overlapped

    path = tmp_path / "long.txt"
    path.write_text("word " * 40_000, encoding="utf-8")  # 200 pieces of 1,000 characters
    payload = TextFile(path, "utf-8", path.stat().st_size, piece_chars=1_000)
    tok = _SlowBytes(BytesTokenizer.Config())  # 20 ms a group
    calls = [lambda: "first", lambda: tok.count_batch([payload])[0]]
    it = overlapped(iter(calls), ahead=2)
    assert next(it) == "first"  # the streamed text is counting beside it
    time.sleep(0.1)
    it.close()  # as Ctrl-C does: waits for the call, which stops at its next group
    from compressbench.adapters._text import cores

    whole = -(-200 // cores())  # 200 pieces in groups of one per core: the calls had it run to the end
    assert 0 < tok.seen.calls < whole


def test_ctrl_c_while_one_long_text_is_tokenized_exits_130(tmp_path):
    import signal
    import subprocess

    from tests.conftest import console_script

    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures" / "text" / "udhr").glob("*.txt")))
    (tmp_path / "big.txt").write_text(text * (30_000_000 // len(text.encode()) + 1), encoding="utf-8")
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["sp:{ROOT / "fixtures/tokenizers/udhr-unigram.model"}"]\n'
                     '[[datasets]]\nname = "t"\nmodality = "text"\npaths = ["big.txt"]\n'
                     'options = { stream_above_bytes = 100000 }\n')
    interrupted = 0
    for delay in (0.05, 0.2, 0.4):  # while the file's piece groups are being tokenized
        out = tmp_path / f"out{delay}"
        proc = subprocess.Popen([*console_script(), "run", str(suite), "--out", str(out)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and not (out / "run.json").exists():
            time.sleep(0.005)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
        if proc.returncode == 0 and not stderr:  # done before the signal came: says nothing
            continue
        interrupted += 1
        assert proc.returncode == 130 and "terminate" not in stderr, stderr
    assert interrupted, "every run ended before its Ctrl-C"
