"""Text throughput: bare tiktoken vs the same encoding through compressbench, on the same corpus.

The goal is at most 10% overhead for the adapter (it also counts characters,
words and byte tokens); the information ledger (every token id and continued
word, on by default) costs more, so the adapter is timed with it and without it
(``--no-ledger``). Compare the ``mean`` of the rows of each group:

    make bench                                    # or:
    .venv/bin/python -m pytest benchmarks --benchmark-only --benchmark-group-by=group

The bare encoding is built by compressbench's offline loader (tiktoken would
otherwise download it), then called directly: the same object, no wrapper.
"""

from __future__ import annotations

import pytest

from compressbench import get_tokenizer
from compressbench.core.sample import Sample
from compressbench.measure import measure

ENCODINGS = ["cl100k_base", "o200k_base"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_bare_tiktoken(benchmark, udhr_texts, encoding):
    enc = get_tokenizer(f"tiktoken:{encoding}").encoding
    benchmark.group = f"tokenize tiktoken:{encoding}"
    total = benchmark(lambda: sum(len(enc.encode_ordinary(t)) for t in udhr_texts))
    assert total > 0


@pytest.mark.parametrize("ledger", [True, False], ids=["ledger", "no-ledger"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_compressbench_tiktoken(benchmark, udhr_texts, encoding, ledger):
    tok = get_tokenizer(f"tiktoken:{encoding}")
    tok.measure_ledger = ledger
    benchmark.group = f"tokenize tiktoken:{encoding}"
    samples = [Sample(dataset="b", modality="text", id=str(i), path=None, payload=t, raw_bytes=len(t.encode()))
               for i, t in enumerate(udhr_texts)]
    total = benchmark(lambda: sum(measure(tok, s).tokens for s in samples))
    bare = tok.encoding
    assert total == sum(len(bare.encode_ordinary(t)) for t in udhr_texts)


def test_decode_bare(benchmark, udhr_bytes):
    benchmark.group = "decode text"
    benchmark(lambda: [b.decode("utf-8") for b in udhr_bytes])


def test_decode_compressbench(benchmark, udhr_bytes):
    from compressbench.data.text import decode_text

    benchmark.group = "decode text"
    benchmark(lambda: [decode_text(b) for b in udhr_bytes])
