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
        self.now = self.most = 0
        self.lock = threading.Lock()

    def inside(self) -> None:
        with self.lock:
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
