"""Invariants, checked with hypothesis: C·N = T, aggregation is ΣT/ΣN, merge = whole."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compressbench import get_tokenizer
from compressbench.core.aggregate import Aggregate
from compressbench.core.sample import Measurement

TOKENIZERS = {spec: get_tokenizer(spec) for spec in ("bytes", "tiktoken:cl100k_base", "tiktoken:o200k_base",
                                                      "hf:fixtures/tokenizers/udhr-bpe.json",
                                                      "sp:fixtures/tokenizers/udhr-unigram.model")}


@pytest.mark.parametrize("spec", TOKENIZERS)
@settings(max_examples=60, deadline=None)
@given(text=st.text(min_size=1, max_size=400))
def test_compression_times_tokens_is_raw_bytes(spec, text):
    result = TOKENIZERS[spec].count(text)
    raw = len(text.encode("utf-8"))
    assert result.input_bytes == raw
    if result.tokens:
        m = Measurement("d", "text", spec, "s", raw, raw, raw, result.tokens, 0.0)
        assert math.isclose(m.compression * m.tokens, raw)
    assert result.counts["byte_tokens"] <= result.tokens and result.counts["unk_tokens"] <= result.tokens


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
