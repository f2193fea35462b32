"""Invariants, checked with hypothesis: C·N = T, aggregation is ΣT/ΣN, merge = whole."""

from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path

import pytest
import sentencepiece
import tiktoken
import tokenizers
from hypothesis import given, settings
from hypothesis import strategies as st

from compressbench import get_tokenizer
from compressbench.core.aggregate import Aggregate
from compressbench.core.sample import Measurement, Sample
from compressbench.data.discover import Found
from compressbench.data.suite import Dataset
from compressbench.data.reading import file_record
from compressbench.measure import load_sample, measure, measure_batch
from tests.conftest import HF_JSON, ROOT, SP_MODEL

TOKENIZERS = {spec: get_tokenizer(spec) for spec in ("bytes", "tiktoken:cl100k_base", "tiktoken:o200k_base",
                                                      "hf:fixtures/tokenizers/udhr-bpe.json",
                                                      "sp:fixtures/tokenizers/udhr-unigram.model")}
# Each library's own count of the same text: the outside truth N is held to.
LIBRARY_COUNT = {
    "bytes": lambda text: len(text.encode("utf-8")),
    "tiktoken:cl100k_base": lambda text: len(tiktoken.get_encoding("cl100k_base").encode_ordinary(text)),
    "tiktoken:o200k_base": lambda text: len(tiktoken.get_encoding("o200k_base").encode_ordinary(text)),
    "hf:fixtures/tokenizers/udhr-bpe.json": lambda text: len(
        tokenizers.Tokenizer.from_file(str(HF_JSON)).encode(text, add_special_tokens=False).ids),
    "sp:fixtures/tokenizers/udhr-unigram.model": lambda text: len(
        sentencepiece.SentencePieceProcessor(model_file=str(SP_MODEL)).encode(text)),
}
TEXT_DATASET = Dataset(name="d", modality="text", paths=("x.txt",), base=ROOT)


@pytest.mark.parametrize("spec", TOKENIZERS)
@settings(max_examples=40, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300))
def test_a_file_measured_end_to_end_has_c_times_n_equal_t(spec, text):
    """A real file read, decoded and tokenized by the run's own path: T is its UTF-8 size, N the library's
    count, and the row's C times N gives T back."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.txt"
        path.write_bytes(text.encode("utf-8"))
        sample = load_sample(TEXT_DATASET, file_record(Found("x.txt", path)))
    raw = len(text.encode("utf-8")) - (3 if text.startswith("\ufeff") else 0)
    payload = text.removeprefix("\ufeff")
    m = measure(TOKENIZERS[spec], sample)
    assert m.raw_bytes == raw and sample.sha256 == hashlib.sha256(text.encode()).hexdigest()
    if LIBRARY_COUNT[spec](payload) == 0:  # e.g. whitespace alone under SentencePiece: C is undefined
        assert m.tokens is None and "produced no tokens" in m.error
        return
    assert m.input_bytes == raw and m.tokens == LIBRARY_COUNT[spec](payload)
    assert math.isclose(m.compression * m.tokens, m.raw_bytes)
    assert m.counts["byte_tokens"] <= m.tokens and m.counts["unk_tokens"] <= m.tokens


@settings(max_examples=30, deadline=None)
@given(texts=st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=12))
def test_measured_samples_aggregate_to_sum_t_over_sum_n(texts):
    """Many samples measured with a real tokenizer aggregate to ΣT/ΣN, with C·N = T for the dataset."""
    tok = TOKENIZERS["tiktoken:o200k_base"]
    samples = [Sample(dataset="d", modality="text", id=f"s{i}", path=None, payload=t, raw_bytes=len(t.encode()))
               for i, t in enumerate(texts)]
    agg = _aggregate(measure_batch(tok, samples))
    summary = agg.summary()
    total_t = sum(len(t.encode()) for t in texts)
    total_n = sum(LIBRARY_COUNT["tiktoken:o200k_base"](t) for t in texts)
    assert (summary["raw_bytes"], summary["tokens"]) == (total_t, total_n)
    assert math.isclose(summary["compression"] * summary["tokens"], total_t)


measurements = st.lists(
    st.builds(
        lambda t, n, s, failed, lang, d: Measurement(
            "d", "text", "tok", "x", t, t, t, None if failed else n, s, error="boom" if failed else None, language=lang,
            counts={} if failed else {"chars": t, "words": n, "duration_s": d},
        ),
        st.integers(1, 10**9), st.integers(1, 10**7), st.floats(0, 10), st.booleans(), st.sampled_from(["eng", "hin"]),
        st.floats(0, 1e4),
    ),
    max_size=40,
)


def _aggregate(ms: list[Measurement]) -> Aggregate:
    agg = Aggregate()
    for m in ms:
        agg.add(m)
    return agg


@settings(max_examples=200, deadline=None)
@given(ms=measurements)
def test_aggregate_compression_is_sum_t_over_sum_n(ms):
    ok = [m for m in ms if m.error is None]
    summary = _aggregate(ms).summary()
    assert summary["samples"] == len(ms) and summary["errors"] == len(ms) - len(ok)
    if ok:
        expected = sum(m.raw_bytes for m in ok) / sum(m.tokens for m in ok)
        assert summary["compression"] == expected
        values = sorted(m.compression for m in ok)
        assert values[0] <= summary["compression_p10"] <= summary["compression_p50"] <= summary["compression_p90"] <= values[-1]
    else:
        assert summary["compression"] is None


@settings(max_examples=200, deadline=None)
@given(ms=measurements, cut=st.integers(0, 40))
def test_merge_of_halves_equals_the_whole(ms, cut):
    whole = _aggregate(ms).summary()
    merged = _aggregate(ms[:cut]).merge(_aggregate(ms[cut:])).summary()
    assert merged == whole  # float sums are exact, so timing and durations agree to the last digit too
    shuffled = _aggregate(list(reversed(ms))).summary()
    assert shuffled == whole


def test_an_aggregate_holds_8_bytes_per_sample_up_to_the_exact_limit():
    """Up to EXACT_SAMPLES, a dataset of N samples costs its aggregate 8 bytes per sample (each C, for exact
    percentiles), not a Python float object and a pointer (32 bytes); past it, see tests/test_spread.py."""
    import tracemalloc

    rows = [Measurement("d", "text", "bytes", str(i), 1000 + i, 1000 + i, 1000 + i, 250 + i % 7, 0.0)
            for i in range(20_000)]
    Aggregate().add(rows[0])  # the count registry loads on first use: not what this test weighs
    tracemalloc.start()
    try:
        aggregate = Aggregate()
        for m in rows:
            aggregate.add(m)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 12 * len(rows) + 50_000, held
    spread = aggregate.summary()
    assert spread["compression_p50"] == pytest.approx(sorted(m.compression for m in rows)[10_000], rel=1e-3)
    assert spread["compression_percentiles"] == "exact"
    halves = Aggregate(), Aggregate()
    for i, m in enumerate(rows):
        halves[i % 2].add(m)
    merged = halves[0].merge(halves[1]).summary()
    keys = [k for k in spread if k.startswith("compression_")]
    assert {k: merged[k] for k in keys} == {k: spread[k] for k in keys}  # percentiles do not depend on order