"""What the information ledger costs: per text tokenizer, the ledger's own work (id counts and continued
words, the word cache warm as it is after a dataset's first texts) beside the bare library's encoding
of the same texts. pytest-benchmark's ratio column in brackets is the ledger's share of a tokenizer call.

    pytest benchmarks/test_ledger.py --benchmark-only
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compressbench.core.ledger import count_ids
from compressbench.core.registry import get_tokenizer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPECS = ("tiktoken:cl100k_base", f"hf:{FIXTURES / 'tokenizers' / 'udhr-bpe.json'}",
         f"sp:{FIXTURES / 'tokenizers' / 'udhr-unigram.model'}")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.split(":")[0])
@pytest.mark.parametrize("impl", ["bare encode", "ledger"])
def test_ledger_beside_encoding(benchmark, spec, impl, udhr_texts):
    tok = get_tokenizer(spec)
    benchmark.group = f"information ledger: {tok.family}"
    ids = [tok.encode_batch([text])[0] for text in udhr_texts]
    for text in udhr_texts:
        tok.continued.count(text)  # the word cache warm, as after a dataset's first texts
    if impl == "bare encode":
        result = benchmark(lambda: [len(tok.encode_batch([text])[0]) for text in udhr_texts])
        assert result == [len(i) for i in ids]
    else:
        result = benchmark(lambda: [(count_ids(i), tok.continued.count(t)) for i, t in zip(ids, udhr_texts)])
        assert [sum(c.values()) for c, _ in result] == [len(i) for i in ids]
