"""A long text streamed in pieces counts exactly as the whole text, for every text family.

The truth is the library's own count of the whole text (``TextTokenizer.count`` on one ``str`` is
the library's count; tests/test_text_adapters.py holds it to the bare libraries).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compressbench.core.errors import SampleError
from compressbench.core.sample import Sample
from compressbench.data.textfile import TextFile, safe_cut, scan_text
from compressbench.measure import measure
from tests.conftest import HF_JSON, ROOT, SP_MODEL, UDHR, cli

SPECS = ["bytes", "tiktoken:cl100k_base", "tiktoken:o200k_base", f"hf:{HF_JSON}", f"sp:{SP_MODEL}"]
COUNTS = ("chars", "words", "unk_tokens", "byte_tokens")


def _corpora() -> dict[str, str]:
    udhr = "\n".join(p.read_text(encoding="utf-8") for p in sorted(UDHR.glob("*.txt")))
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "compressbench").rglob("*.py")))
    spaced = "".join(f"word{i}" + " " * (i % 7) + "\t" * (i % 3) + "\n" * (i % 4) + "  x y" for i in range(3000))
    return {"udhr": udhr, "python": source, "whitespace": spaced}


CORPORA = _corpora()


def _streamed(tmp_path: Path, text: str, piece_chars: int) -> TextFile:
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    payload, _ = scan_text(path)
    return TextFile(path=payload.path, encoding="utf-8", raw_bytes=payload.raw_bytes, piece_chars=piece_chars)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_pieces_count_exactly_the_whole_text(tokenizer, tmp_path, spec, corpus):
    tok = tokenizer(spec, "cpu")
    text = CORPORA[corpus]
    whole = tok.count(text)
    streamed = tok.count(_streamed(tmp_path, text, piece_chars=8192))
    assert streamed.counts["forced_cuts"] == 0
    assert streamed.tokens == whole.tokens and streamed.input_bytes == whole.input_bytes
    assert {k: streamed.counts[k] for k in COUNTS} == {k: whole.counts[k] for k in COUNTS}


@pytest.mark.parametrize("spec", SPECS)
def test_text_without_cut_points_is_cut_anyway_within_a_bound(tokenizer, tmp_path, spec):
    """Chinese with no spaces or line breaks: forced cuts keep memory bounded; each may move N a little."""
    zh = (UDHR / "cmn.txt").read_text(encoding="utf-8") if (UDHR / "cmn.txt").exists() else None
    if zh is None:
        zh = next(p.read_text(encoding="utf-8") for p in sorted(UDHR.glob("*.txt")) if "人" in p.read_text("utf-8"))
    text = "".join(zh.split())  # no whitespace at all
    tok = tokenizer(spec, "cpu")
    whole = tok.count(text)
    streamed = tok.count(_streamed(tmp_path, text, piece_chars=500))
    cuts = streamed.counts["forced_cuts"]
    assert cuts >= len(text) // 500 - 1
    assert abs(streamed.tokens - whole.tokens) <= 2 * cuts, (streamed.tokens, whole.tokens, cuts)
    assert streamed.counts["chars"] == whole.counts["chars"] and streamed.counts["words"] == whole.counts["words"]


ALPHABET = st.sampled_from(list("ab xyz  \n\n\t.,'’0123éあ人中/]!") + ["\r\n", "  ", "’s", "'ll", "🙂", "ﬁ", "]\n/"])


@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(ALPHABET, min_size=1, max_size=300), piece_chars=st.integers(4, 40))
def test_any_text_without_a_forced_cut_counts_exactly(tokenizer, tmp_path, spec, parts, piece_chars):
    text = "".join(parts)
    tok = tokenizer(spec, "cpu")
    whole = tok.count(text)
    streamed = tok.count(_streamed(tmp_path, text, piece_chars=piece_chars))
    cuts = streamed.counts["forced_cuts"]
    if cuts == 0:
        assert streamed.tokens == whole.tokens
    else:
        assert abs(streamed.tokens - whole.tokens) <= 2 * cuts
    assert {k: streamed.counts[k] for k in COUNTS} == {k: whole.counts[k] for k in COUNTS}


def test_safe_cut_points_are_between_words():
    text = "Alpha beta,  gamma\n\ndelta\nepsilon"
    cuts = [p for p in range(1, len(text)) if safe_cut(text[: p + 2], p) == p]
    assert [text[c - 1: c + 1] for c in cuts] == ["a ", "\ne"]  # "a b", and "delta\nepsilon" after the \n


def test_a_run_streams_large_files_with_the_same_rows(tmp_path):
    """stream_above_bytes (a text decoder option) below the files' sizes: the same rows, digests included."""
    rows = {}
    for name, options in (("whole", ""), ("streamed", "options = { stream_above_bytes = 1000 }\n")):
        suite = tmp_path / f"{name}.toml"
        suite.write_text(f'tokenizers = {json.dumps(SPECS)}\n[[datasets]]\nname = "udhr"\nmodality = "text"\n'
                         f'paths = ["{UDHR}"]\n{options}')
        proc = cli("run", str(suite), "--out", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        lines = (tmp_path / name / "results.jsonl").read_text().splitlines()
        rows[name] = [{k: v for k, v in json.loads(r).items() if k not in ("seconds", "decode_seconds")}
                      for r in lines]
    streamed = [{k: v for k, v in r.items() if k != "forced_cuts"} for r in rows["streamed"]]
    assert all(r["forced_cuts"] == 0 for r in rows["streamed"])
    assert streamed == rows["whole"]


def test_a_streamed_file_with_invalid_bytes_is_one_error_naming_the_offset(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good text " * 500 + b"\xff" + b" more" * 10)
    sample_error = None
    try:
        scan_text(path)
    except Exception as exc:  # noqa: BLE001 - the type is asserted below
        sample_error = exc
    assert type(sample_error).__name__ == "SampleError" and "offset 5000" in str(sample_error)
    suite = tmp_path / "s.toml"
    suite.write_text(f'tokenizers = ["bytes"]\n[[datasets]]\nname = "t"\nmodality = "text"\npaths = ["{path}"]\n'
                     'options = { stream_above_bytes = 100 }\n')
    proc = cli("run", str(suite), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1 and "bad.txt: not valid utf-8 text: byte 0xff at offset 5000" in proc.stderr
    whole = tmp_path / "whole.toml"  # the same file read whole: the same error and the same content hash
    whole.write_text(suite.read_text().replace("stream_above_bytes = 100", "stream_above_bytes = 100000"))
    assert cli("run", str(whole), "--out", str(tmp_path / "whole")).returncode == 1

    def run(out: str) -> tuple[str, str]:
        row = json.loads((tmp_path / out / "results.jsonl").read_text())
        summary = json.loads((tmp_path / out / "summary.json").read_text())
        return row["error"], summary["datasets"]["t"]["content_sha256"]

    assert run("out") == run("whole")


def test_measure_takes_a_streamed_payload():
    from compressbench import get_tokenizer

    path = UDHR / "eng.txt"
    payload, digest = scan_text(path)
    sample = Sample(dataset="d", modality="text", id="eng", path=path, payload=payload, raw_bytes=payload.raw_bytes)
    assert measure(get_tokenizer("bytes"), sample).tokens == len(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    assert len(digest) == 64


def test_list_says_how_each_text_family_counts_long_texts():
    proc = cli("list", "--json")
    assert proc.returncode == 0, proc.stderr
    families = {f["family"]: f for f in json.loads(proc.stdout)}
    assert {f: families[f]["exact_pieces"] for f in ("bytes", "tiktoken", "hf", "sp")} == dict.fromkeys(
        ("bytes", "tiktoken", "hf", "sp"), True)
    assert families["whisper"]["exact_pieces"] is None


@pytest.mark.parametrize("change", ["grow", "truncate"])
def test_a_file_changed_after_T_was_counted_is_the_samples_error(tmp_path, change):
    from compressbench import get_tokenizer

    path = tmp_path / "long.txt"
    path.write_text("word " * 50_000, encoding="utf-8")
    payload, _ = scan_text(path)
    if change == "grow":
        with path.open("a", encoding="utf-8") as fh:
            fh.write("more " * 1000)
    else:
        os.truncate(path, 1000)
    result = get_tokenizer("tiktoken:cl100k_base").count_batch([payload])[0]
    assert isinstance(result, SampleError) and "the file changed while it was measured" in str(result)


@pytest.mark.parametrize("spec", SPECS)
def test_punctuation_then_a_newline_then_a_slash_is_not_a_cut_point(tokenizer, tmp_path, spec):
    # o200k_base keeps "]\n/" in one token (` ?[^\s\p{L}\p{N}]+[\r\n/]*`): no cut after such a newline
    text = "/include/doc/usr/share/lib.py [ok]\n" * 400
    tok = tokenizer(spec, "cpu")
    streamed = tok.count(_streamed(tmp_path, text, piece_chars=100))
    assert streamed.counts["forced_cuts"] == 0 and streamed.tokens == tok.count(text).tokens


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("text", ["人民" * 3000, "hello world " + "x" * 3000 + " end", "a\n" + "长" * 2500 + "\nb c"])
def test_a_word_cut_by_forced_cuts_counts_as_one_continued_word(tokenizer, tmp_path, spec, text):
    tok = tokenizer(spec, "cpu")
    whole = tok.count(text)
    streamed = tok.count(_streamed(tmp_path, text, piece_chars=1000))
    assert streamed.counts["forced_cuts"] >= 2
    assert streamed.counts["words"] == whole.counts["words"]
    assert streamed.counts["continued_words"] == whole.counts["continued_words"] <= whole.counts["words"]
