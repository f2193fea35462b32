"""Text over all cores: compressbench's batch path beside the library's best multi-threaded batch call.

For each text family the same texts go through the bare library's parallel batch call over every
core (tiktoken ``encode_ordinary_batch(num_threads=cores)``, tokenizers ``encode_batch``,
SentencePiece ``encode(..., num_threads=cores)``) and through ``measure_batch`` in batches of the
runner's default size (64 texts: the path ``compressbench run`` and ``measure`` take, counting
characters, words, unknown and byte tokens too). The two alternate for a few rounds and the best
time of each is kept; ``extra_info["throughput_ratio"]`` is compressbench's throughput over the
bare call's (goal: at least 0.9). Token counts must be identical.

The corpus is the text fixtures cut into pieces of about 8 KB, cycled to
``COMPRESSBENCH_BENCH_TEXTS`` texts (default 600; 3000 gives the figures in docs/memory.md).
"""

from __future__ import annotations

import os
import time

import pytest

from benchmarks.conftest import ROOT
from compressbench import get_tokenizer
from compressbench.adapters._text import cores
from compressbench.core.sample import Sample
from compressbench.data.modalities import default_batch_size
from compressbench.measure import batched, measure_batch

TEXTS = int(os.environ.get("COMPRESSBENCH_BENCH_TEXTS", "600"))
HF = ROOT / "fixtures" / "tokenizers" / "udhr-bpe.json"
SP = ROOT / "fixtures" / "tokenizers" / "udhr-unigram.model"


def _corpus(n: int, size: int = 8000) -> list[str]:
    pieces = []
    for path in sorted((ROOT / "fixtures" / "text").rglob("*.*")):
        text = path.read_text(encoding="utf-8")
        pieces += [text[i:i + size] for i in range(0, len(text), size)]
    return [pieces[i % len(pieces)] for i in range(n)]


def _bare(spec: str, tok):
    threads = cores()
    if spec.startswith("tiktoken"):
        return lambda texts: [len(ids) for ids in tok.encoding.encode_ordinary_batch(texts, num_threads=threads)]
    if spec.startswith("hf"):
        return lambda texts: [len(e.ids) for e in tok.backend.encode_batch(texts, add_special_tokens=False)]
    return lambda texts: [len(ids) for ids in tok.backend.encode(texts, out_type=int, num_threads=threads)]


@pytest.mark.parametrize("spec", ["tiktoken:cl100k_base", "tiktoken:o200k_base", f"hf:{HF}", f"sp:{SP}"],
                         ids=["cl100k_base", "o200k_base", "hf-bpe", "sp-unigram"])
def test_compressbench_keeps_up_with_the_bare_batch_call(benchmark, spec):
    tok = get_tokenizer(spec)
    texts = _corpus(TEXTS)
    samples = [Sample(dataset="b", modality="text", id=str(i), path=None, payload=t, raw_bytes=len(t.encode()))
               for i, t in enumerate(texts)]
    bare = _bare(spec, tok)
    size = default_batch_size("text")
    best = {"bare": float("inf"), "compressbench": float("inf")}
    counts: dict[str, list[int]] = {}

    def ours() -> list[int]:
        return [m.tokens for batch in batched(iter(samples), size) for m in measure_batch(tok, batch)]

    def rounds() -> None:
        for _ in range(3):
            for name, fn in (("bare", lambda: bare(texts)), ("compressbench", ours)):
                start = time.perf_counter()
                counts[name] = fn()
                best[name] = min(best[name], time.perf_counter() - start)

    benchmark.group = "text over all cores"
    benchmark.pedantic(rounds, rounds=1, iterations=1)
    assert counts["compressbench"] == counts["bare"]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    benchmark.extra_info.update({"texts": TEXTS, "mb": round(mb, 2), "cores": cores(),
                                 "bare_mb_per_s": round(mb / best["bare"], 2),
                                 "compressbench_mb_per_s": round(mb / best["compressbench"], 2),
                                 "throughput_ratio": round(best["bare"] / best["compressbench"], 3)})
    print(f"\n{spec}: {benchmark.extra_info}")
