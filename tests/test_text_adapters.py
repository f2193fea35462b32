"""Text adapters give exactly the libraries' own token counts on the fixtures, and sane text metrics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
import sentencepiece
import tiktoken
from tokenizers import Tokenizer as HFTokenizer

from compressbench import get_tokenizer
from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.registry import list_families
from tests.conftest import FIXTURES, HF_JSON, SP_MODEL

TEXT_FILES = sorted((FIXTURES / "text").rglob("*.*"))


@pytest.fixture(scope="module")
def adapters():
    return {
        "cl100k": get_tokenizer("tiktoken:cl100k_base"),
        "o200k": get_tokenizer("tiktoken:o200k_base"),
        "hf": get_tokenizer(f"hf:{HF_JSON}"),
        "sp": get_tokenizer(f"sp:{SP_MODEL}"),
        "bytes": get_tokenizer("bytes"),
    }


def test_fixtures_cover_many_languages_and_scripts():
    assert len(list((FIXTURES / "text" / "udhr").glob("*.txt"))) >= 12
    assert TEXT_FILES, "no text fixtures"


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: p.name)
def test_tiktoken_counts_equal_tiktoken(adapters, path):
    text = path.read_text(encoding="utf-8")
    for key in ("cl100k", "o200k"):
        # the adapter's encoding was built by tiktoken from the verified file: compare with a fresh
        # tiktoken.Encoding over the same ranks, built here without compressbench's help
        enc = adapters[key].encoding
        bare = tiktoken.Encoding(enc.name + "-bare", pat_str=enc._pat_str, mergeable_ranks=enc._mergeable_ranks,
                                 special_tokens=enc._special_tokens)
        assert adapters[key].count(text).tokens == len(bare.encode_ordinary(text))


@pytest.fixture(scope="module")
def bare_hf_sp():
    return HFTokenizer.from_file(str(HF_JSON)), sentencepiece.SentencePieceProcessor(model_file=str(SP_MODEL))


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: p.name)
def test_hf_and_sp_counts_equal_their_libraries(adapters, bare_hf_sp, path):
    text = path.read_text(encoding="utf-8")
    hf, sp = bare_hf_sp
    assert adapters["hf"].count(text).tokens == len(hf.encode(text, add_special_tokens=False).ids)
    assert adapters["sp"].count(text).tokens == len(sp.encode(text))


def test_bytes_is_the_floor(adapters, udhr_texts):
    for text in udhr_texts.values():
        result = adapters["bytes"].count(text)
        assert result.tokens == result.input_bytes == len(text.encode("utf-8"))


def test_o200k_beats_cl100k_on_hindi(adapters, udhr_texts):
    """Published: o200k is far better on Hindi (about 8 vs 2.6 bytes/token)."""
    hin = udhr_texts["hin"]
    t = len(hin.encode("utf-8"))
    c_cl100k = t / adapters["cl100k"].count(hin).tokens
    c_o200k = t / adapters["o200k"].count(hin).tokens
    assert 2.0 < c_cl100k < 3.3
    assert 7.0 < c_o200k < 10.0


def test_english_is_about_four_and_a_half_bytes_per_token(adapters):
    prose = (FIXTURES / "text" / "prose" / "python-docs.txt").read_text(encoding="utf-8")
    for key in ("cl100k", "o200k"):
        c = len(prose.encode()) / adapters[key].count(prose).tokens
        assert 4.0 < c < 5.2, (key, c)


def test_byte_tokens_show_a_script_the_vocabulary_barely_knows(adapters, udhr_texts):
    """cl100k splits Armenian into partial-character byte tokens; o200k much less."""
    hye = udhr_texts["hye"]
    rate = {k: adapters[k].count(hye).counts["byte_tokens"] / adapters[k].count(hye).tokens for k in ("cl100k", "o200k")}
    assert rate["cl100k"] > 0.5
    assert rate["o200k"] < rate["cl100k"] / 2
    eng = udhr_texts["eng"]
    assert adapters["cl100k"].count(eng).counts["byte_tokens"] == 0


def test_sentencepiece_byte_fallback_and_hf_unknown(adapters):
    # a script absent from the training text: SentencePiece falls back to bytes
    text = "ᚠᚢᚦᚨᚱᚲ 𓀀𓀁"  # Runic and Egyptian hieroglyphs
    sp = adapters["sp"].count(text)
    assert sp.counts["byte_tokens"] > 0 and sp.counts["unk_tokens"] == 0
    assert adapters["hf"].count(text).counts["byte_tokens"] > 0  # byte-level BPE: partial characters


def test_text_counts(adapters):
    result = adapters["cl100k"].count("two words\n")
    assert result.counts["chars"] == 10 and result.counts["words"] == 2


def test_a_non_text_payload_is_a_sample_error(adapters):
    with pytest.raises(SampleError, match="expected decoded text"):
        adapters["bytes"].count(b"raw bytes")


@pytest.mark.parametrize("family", [f for f, e in list_families().items() if e.cls.modality == "text"])
def test_every_text_family_is_available_and_documented(family):
    entry = list_families()[family]
    assert entry.available, entry.missing()
    assert entry.cls.description
    assert entry.origin == "built-in"


def test_missing_tokenizer_file_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.json: no such file; expected a Hugging Face tokenizer\.json"):
        get_tokenizer(f"hf:{tmp_path}/nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not a valid Hugging Face tokenizer.json"):
        get_tokenizer(f"hf:{bad}")
    with pytest.raises(ConfigError, match="not a valid SentencePiece model"):
        get_tokenizer(f"sp:{bad}")


@pytest.mark.parametrize("spec", ["bytes", "tiktoken:cl100k_base", "tiktoken:o200k_base", f"hf:{HF_JSON}",
                                  f"sp:{SP_MODEL}"])
def test_a_parallel_batch_counts_exactly_what_one_text_at_a_time_counts(tokenizer, udhr_texts, spec):
    """count_batch runs the library's batch call over all cores; every count equals count()'s, in order,
    and a non-text payload among them gets its error in its place."""
    tok = tokenizer(spec, "cpu")
    texts = list(udhr_texts.values())
    payloads = [*texts[:13], b"not text", *texts[13:]]
    batch = tok.count_batch(payloads)
    assert isinstance(batch[13], SampleError) and "expected decoded text" in str(batch[13])
    del batch[13]
    assert batch == [tok.count(t) for t in texts]


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200) | st.text(" \t\n\x0b\x1c\x85\xa0\u2000\u3000ab人\U0001f600\ud800"))
def test_word_count_is_str_split(text):
    from compressbench.adapters._text import word_count

    assert word_count(text) == len(text.split())
