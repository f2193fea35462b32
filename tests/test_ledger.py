"""The information ledger against an independent count: ids straight from each library, every value
recomputed here in plain Python; and a resumed, a sharded-and-merged run give the single run's ledger."""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from functools import cache
from statistics import mean

import pytest

from compressbench.assets.tiktoken import load_encoding
from compressbench.core.ledger import fairness_gini, gini
from compressbench.data.textfile import TextFile
from tests.conftest import FIXTURES, HF_JSON, SP_MODEL, UDHR, cli

LANGUAGES = ("eng", "rus", "hin", "cmn")
SPECS = ("bytes", "tiktoken:cl100k_base", f"hf:{HF_JSON}", f"sp:{SP_MODEL}")
TIMING = {"seconds", "decode_seconds", "raw_mb_per_s", "tokens_per_s"}


@cache
def library(spec: str):
    """(encode: text -> ids, |V|) from the library itself, not through compressbench's adapters."""
    if spec == "bytes":
        return (lambda text: list(text.encode("utf-8"))), 256
    if spec.startswith("tiktoken:"):
        enc = load_encoding(spec.split(":", 1)[1])  # the verified vocabulary file; the encoding is tiktoken's
        return enc.encode_ordinary, enc.n_vocab
    if spec.startswith("hf:"):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(HF_JSON))
        return (lambda text: tok.encode(text, add_special_tokens=False).ids), tok.get_vocab_size(with_added_tokens=True)
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=str(SP_MODEL))
    return (lambda text: sp.encode(text, out_type=int)), sp.get_piece_size()


def continued_words(spec: str, text: str) -> int:
    """Word occurrences taking more than one token, each encoded alone with the space it follows."""
    encode, _ = library(spec)
    length = cache(lambda key: len(encode(key)))
    words = text.split()
    return sum(length(w if i == 0 and not text[0].isspace() else " " + w) > 1 for i, w in enumerate(words))


def entropy(counts: Counter) -> float:
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def renyi(counts: Counter, alpha: float) -> float:
    n = sum(counts.values())
    return math.log2(sum((c / n) ** alpha for c in counts.values())) / (1 - alpha)


def texts() -> dict[str, str]:
    return {lang: (UDHR / f"{lang}.txt").read_text(encoding="utf-8") for lang in LANGUAGES}


SUITE = ("tokenizers = [{tokenizers}]\n[[datasets]]\nname = \"udhr\"\nmodality = \"text\"\n"
         "paths = [{paths}]\nlanguage = \"{{stem}}\"\nreference_language = \"eng\"\n")


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("ledger")
    for lang in LANGUAGES:  # beside the suite: sample ids "eng.txt"..., so the shard split is the same in any clone
        shutil.copyfile(UDHR / f"{lang}.txt", root / f"{lang}.txt")
    path = root / "suite.toml"
    path.write_text(SUITE.format(tokenizers=", ".join(f'"{s}"' for s in SPECS),
                                 paths=", ".join(f'"{lang}.txt"' for lang in LANGUAGES)))
    return path


@pytest.fixture(scope="module")
def whole(suite):
    out = suite.parent / "whole"
    proc = cli("run", str(suite), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def _summary(out) -> dict:
    return json.loads((out / "summary.json").read_text())


def _rows(out) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in _summary(out)["rows"]]


@pytest.mark.parametrize("spec", SPECS)
def test_ledger_equals_an_independent_count(whole, spec):
    name = next(t for t, identity in _summary(whole)["tokenizers"].items()
                if identity["family"] == spec.split(":")[0])
    row = next(r for r in _summary(whole)["rows"] if r["tokenizer"] == name)
    encode, vocab = library(spec)
    counts, per_language, rates = Counter(), {}, []
    raw = tokens = words = continued = 0
    for lang, text in texts().items():
        ids = encode(text)
        counts.update(ids)
        per_language[lang] = Counter(ids)
        rates.append(len(ids) / len(text.encode("utf-8")))
        raw, tokens = raw + len(text.encode("utf-8")), tokens + len(ids)
        words, continued = words + len(text.split()), continued + continued_words(spec, text)
    h1 = entropy(counts)
    expected = {
        "tokens": tokens, "vocab_size": vocab, "entropy_bits": h1, "shannon_efficiency": h1 / math.log2(vocab),
        "renyi_efficiency": renyi(counts, 2.5) / math.log2(vocab), "vocab_utilisation": len(counts) / vocab,
        "bits_per_byte": h1 / (raw / tokens), "continued_words": continued, "continued_word_rate": continued / words,
        "fairness_gini": sum(abs(a - b) for a in rates for b in rates) / (2 * len(rates) ** 2 * mean(rates)),
    }
    assert {k: row[k] for k in expected} == pytest.approx(expected, rel=1e-9, abs=1e-12)
    for lang, lang_counts in per_language.items():
        got = row["languages"][lang]
        assert got["entropy_bits"] == pytest.approx(entropy(lang_counts), rel=1e-9, abs=1e-12)
        assert got["vocab_utilisation"] == len(lang_counts) / vocab
    assert 0 < row["renyi_efficiency"] < row["shannon_efficiency"] < 1  # H_2.5 < H_1 < log2 |V|
    assert _summary(whole)["provenance"]["renyi_alpha"] == 2.5
    assert json.loads((whole / "run.json").read_text())["renyi_alpha"] == 2.5
    with (whole / "summary.csv").open() as fh:
        header = set(fh.readline().strip().split(","))
    assert {"renyi_efficiency", "vocab_utilisation", "fairness_gini", "bits_per_byte"} <= header


def _lines(path) -> list[str]:
    return sorted(path.read_text().splitlines())


def test_resume_after_a_kill_keeps_the_ledger(whole, suite, tmp_path):
    """A run killed after writing some ids lines, one of them for a row it never wrote, and half a line."""
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    rows = (out / "results.jsonl").read_text().splitlines(True)
    ids = (out / "token_ids.jsonl").read_text().splitlines(True)
    (out / "results.jsonl").write_text("".join(rows[:5]))
    (out / "token_ids.jsonl").write_text("".join(ids[:6]) + ids[6][:40])
    proc = cli("run", str(suite), "--out", str(out), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert _rows(out) == _rows(whole)
    assert _summary(out)["provenance"]["resumed_rows"] == 5
    assert len(_lines(out / "token_ids.jsonl")) == len(ids) + 1  # the sixth sample's ids, written twice
    proc = cli("run", str(suite), "--out", str(out), "--resume")  # nothing left to do: all from the files
    assert proc.returncode == 0, proc.stderr
    assert _rows(out) == _rows(whole)  # the twice-written ids counted once
    proc = cli("run", str(suite), "--out", str(out), "--resume", "--renyi-alpha", "3")
    assert proc.returncode == 2 and "renyi_alpha changed" in proc.stderr


def test_shards_merge_into_the_whole_ledger(whole, suite, tmp_path):
    shards = [tmp_path / f"s{k}" for k in (1, 2)]
    for k, out in enumerate(shards, 1):
        proc = cli("run", str(suite), "--shard", f"{k}/2", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    assert all(_summary(s)["rows"][0]["samples"] < len(LANGUAGES) for s in shards)  # a real split
    merged = tmp_path / "merged"
    proc = cli("merge", *map(str, shards), "--out", str(merged))
    assert proc.returncode == 0, proc.stderr
    assert _rows(merged) == _rows(whole)
    assert _lines(merged / "token_ids.jsonl") == _lines(whole / "token_ids.jsonl")


@pytest.mark.parametrize("spec", SPECS)
def test_a_text_read_in_pieces_counts_its_ids_as_the_whole(tokenizer, tmp_path, spec):
    """Cuts before spaces and after newlines (one word a line): ids and continued words as the whole text's."""
    one_word_a_line = "\n".join((UDHR / "rus.txt").read_text(encoding="utf-8").split()[:300])
    text = (UDHR / "eng.txt").read_text(encoding="utf-8") + "\n" + one_word_a_line
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    tok = tokenizer(spec, "cpu")
    streamed = tok.count(TextFile(path=path, encoding="utf-8", raw_bytes=len(text.encode()), piece_chars=300))
    assert streamed.counts["forced_cuts"] == 0
    assert streamed.ids == dict(Counter(library(spec)[0](text)))
    assert streamed.counts["continued_words"] == continued_words(spec, text)


def test_renyi_alpha_is_an_option(tmp_path):
    eng = str(UDHR / "eng.txt")
    proc = cli("measure", "-t", "tiktoken:cl100k_base", "--renyi-alpha", "3", "--json", eng)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)["summary"][0]
    encode, vocab = library("tiktoken:cl100k_base")
    counts = Counter(encode((UDHR / "eng.txt").read_text(encoding="utf-8")))
    assert row["renyi_efficiency"] == pytest.approx(renyi(counts, 3.0) / math.log2(vocab), rel=1e-9)
    proc = cli("measure", "-t", "bytes", "--renyi-alpha", "0", eng)
    assert proc.returncode == 2 and "--renyi-alpha" in proc.stderr


def test_gini_on_constructed_cases():
    assert gini([0.25, 0.25, 0.25]) == 0.0
    assert gini([0.0, 0.0, 0.0, 1.0]) == pytest.approx(0.75)  # one of n holds everything: (n - 1) / n
    assert gini([1.0, 3.0]) == pytest.approx(0.25)  # |1 - 3| x 2 / (2 x 4 x 2)
    langs = {"a": {"tokens": 1, "raw_bytes": 4}, "b": {"tokens": 3, "raw_bytes": 4}, "c": {"tokens": 0, "raw_bytes": 0}}
    assert fairness_gini(langs) == pytest.approx(0.25)  # languages without bytes do not count
    assert fairness_gini({"a": {"tokens": 1, "raw_bytes": 4}}) is None


def test_codec_rates_from_the_preset():
    wav = str(FIXTURES / "audio" / "speech_en_udhr_16k.wav")
    proc = cli("measure", "-t", "codec:encodec_24khz", "-t", "codec:encodec_24khz,count=frames",
               "-t", "codec:encodec_24khz,bandwidth_kbps=1.5", "--json", "--in-process", wav)
    assert proc.returncode == 0, proc.stderr
    rates = {r["tokenizer"]: (r["bits_per_second"], r["tokens_per_second"]) for r in json.loads(proc.stdout)["summary"]}
    assert rates == {  # EnCodec 24 kHz: 75 frames/s, 1024-entry codebooks (10 bits each)
        "codec:encodec_24khz,codebooks=8,count=codebook_tokens": (6000.0, 600.0),
        "codec:encodec_24khz,codebooks=8,count=frames": (6000.0, 75.0),
        "codec:encodec_24khz,codebooks=2,count=codebook_tokens": (1500.0, 150.0),
    }


def test_the_word_cache_stays_bounded_and_exact(tokenizer):
    """A cache of 50 words, far fewer than the texts': the same counts, never more than 50 words held."""
    from compressbench.adapters._words import ContinuedWords

    tok = tokenizer("tiktoken:cl100k_base", "cpu")
    small = ContinuedWords(tok.word_lengths, capacity=50)
    for text in texts().values():
        assert small.count(text) == continued_words("tiktoken:cl100k_base", text)
        assert len(small.spaced) <= 50 and len(small.bare) <= 50
        assert small.count(text) == continued_words("tiktoken:cl100k_base", text)  # again, from what is kept


def test_no_ledger_keeps_every_count_but_the_ledgers(whole, suite, tmp_path):
    out = tmp_path / "lean"
    proc = cli("run", str(suite), "--out", str(out), "--no-ledger")
    assert proc.returncode == 0, proc.stderr
    ledger_keys = {"entropy_bits", "shannon_efficiency", "renyi_efficiency", "vocab_utilisation", "bits_per_byte",
                   "continued_words", "continued_word_rate"}
    for lean, full in zip(_summary(out)["rows"], _summary(whole)["rows"], strict=True):
        assert {k: v for k, v in lean.items() if k not in TIMING | ledger_keys | {"languages"}} == \
               {k: v for k, v in full.items() if k not in TIMING | ledger_keys | {"languages"}}
        assert all(k in lean and lean[k] is None for k in ledger_keys) and full["entropy_bits"] > 0
    assert (out / "token_ids.jsonl").read_text() == ""
    with (out / "summary.csv").open() as fh:
        assert {"entropy_bits", "continued_word_rate"} <= set(fh.readline().strip().split(","))
    assert _summary(out)["provenance"]["ledger"] is False and _summary(whole)["provenance"]["ledger"] is True
    assert "not measured in this run: the information ledger (--no-ledger" in (out / "report.md").read_text()
    proc = cli("run", str(suite), "--out", str(out), "--resume")  # the ledger cannot be added afterwards
    assert proc.returncode == 2 and "ledger changed" in proc.stderr
    proc = cli("merge", str(whole), str(out), "--out", str(tmp_path / "m"))
    assert proc.returncode == 2 and "--no-ledger" in proc.stderr
    proc = cli("compare", str(whole), str(out))  # N and C still compare; the ledger's absence is said
    assert proc.returncode == 0 and "the new run ran with --no-ledger" in proc.stdout, proc.stdout[-500:]


def test_id_sums_hold_a_bounded_share_of_arrays_whatever_the_languages(monkeypatch):
    """The UDHR's lines in 26 languages, each line a sample: the arrays the sums hold before they fold stay
    under FOLD_ENTRIES (every language folds with the total, not each after FOLD_ENTRIES of its own), and
    the sums equal a plain count of tiktoken's ids."""
    from compressbench.core import ledger

    monkeypatch.setattr(ledger, "FOLD_ENTRIES", 4096)
    encode, _ = library("tiktoken:cl100k_base")
    counts, total, languages = ledger.IdCounts(), Counter(), {}
    for path in sorted(UDHR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            ids = encode(line)
            counts.add(ledger.count_ids(ids), path.stem)
            total.update(ids)
            languages.setdefault(path.stem, Counter()).update(ids)
            sums = [counts._total, *counts._languages.values()]
            held = {id(a): len(a) + ledger.ARRAY_ENTRIES for s in sums for a in s.ids}
            assert sum(held.values()) < 4096 + len(set(ids)) + ledger.ARRAY_ENTRIES
    assert len(languages) == 26 and counts.samples > 1000
    assert counts.total == total and counts.languages == {k: dict(v) for k, v in languages.items()}
