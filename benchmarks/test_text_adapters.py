"""Throughput of the text adapters (bytes, hf, sp), each beside the bare library doing the same work.

Every group holds one adapter and its bare counterpart on the same data (the
UDHR fixtures in 26 languages, concatenated), so pytest-benchmark's ratio column
in brackets is compressbench's overhead. Decoding (bytes -> str) and tokenizing
(str -> tokens) are timed apart. Text tokenizers run on the CPU: there is no
device to synchronise. tiktoken is in test_tiktoken.py.

    pytest benchmarks --benchmark-only                      # measure (make bench)
    pytest benchmarks --benchmark-disable                   # CI: run each once, check they agree
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compressbench.core.registry import get_tokenizer, list_families
from compressbench.data.text import decode_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HF_JSON = FIXTURES / "tokenizers" / "udhr-bpe.json"
SP_MODEL = FIXTURES / "tokenizers" / "udhr-unigram.model"
COVERED_ELSEWHERE = {"tiktoken"}  # benchmarks/test_tiktoken.py


def _bare_bytes() -> Callable[[str], list[int] | bytes]:
    return lambda text: text.encode("utf-8")


def _bare_hf() -> Callable[[str], Any]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(HF_JSON))
    tok.no_truncation()
    tok.no_padding()
    return lambda text: tok.encode(text, add_special_tokens=False).ids


def _bare_sp() -> Callable[[str], Any]:
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=str(SP_MODEL))
    return lambda text: sp.encode(text, out_type=int)


# family -> (the adapter's spec, a constructor of the bare library's tokenize function)
ADAPTERS: dict[str, tuple[str, Callable[[], Callable[[str], Any]]]] = {
    "bytes": ("bytes", _bare_bytes),
    "hf": (f"hf:{HF_JSON}", _bare_hf),
    "sp": (f"sp:{SP_MODEL}", _bare_sp),
}


@pytest.fixture(scope="module")
def udhr_bytes() -> bytes:
    """Every UDHR fixture, concatenated: 26 languages, 14 scripts, ~450 KB of UTF-8."""
    return b"".join(p.read_bytes() for p in sorted((FIXTURES / "text" / "udhr").glob("*.txt")))


@pytest.fixture(scope="module")
def udhr_text(udhr_bytes: bytes) -> str:
    return udhr_bytes.decode("utf-8")


def test_every_text_adapter_has_a_benchmark():
    text_families = {f for f, e in list_families().items() if e.cls.modality == "text" and e.origin == "built-in"}
    assert text_families - COVERED_ELSEWHERE <= set(ADAPTERS), "add the new adapter to ADAPTERS"


@pytest.mark.benchmark(group="decode text (UTF-8 bytes -> str)")
@pytest.mark.parametrize("impl", ["compressbench", "bare"])
def test_decode(benchmark, impl, udhr_bytes, udhr_text):
    if impl == "compressbench":
        result = benchmark(lambda: decode_text(udhr_bytes).payload)
    else:
        result = benchmark(udhr_bytes.decode, "utf-8")
    benchmark.extra_info["raw_bytes"] = len(udhr_bytes)
    assert result == udhr_text


@pytest.mark.parametrize("impl", ["compressbench", "bare"])
@pytest.mark.parametrize("family", list(ADAPTERS))
def test_tokenize(benchmark, family, impl, udhr_text):
    spec, bare = ADAPTERS[family]
    benchmark.group = f"tokenize text: {family}"
    benchmark.extra_info["raw_bytes"] = len(udhr_text.encode("utf-8"))
    if impl == "compressbench":
        adapter = get_tokenizer(spec, device="cpu")  # built outside the timing, as in a run
        tokens = benchmark(adapter.count, udhr_text).tokens
    else:
        tokens = len(benchmark(bare(), udhr_text))
    # Both sides did the same work: the adapter's count is the bare library's.
    assert tokens == len(bare()(udhr_text))
