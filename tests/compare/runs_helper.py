"""Real runs on the fixtures for the compare/report tests: no mocked tokenizers, no hand-typed results.

(A module of its own, not conftest.py, so tests can import it by a name no other conftest shares.)

Runs go through the same steps as ``compressbench run`` (run_suite, results.jsonl,
summary.json). Sample ids are relative to fixtures/ and the HF tokenizer is
always ``hf:tok.json`` (relative to a per-run folder), so two runs differ only in
what the test means them to differ in:

- ``base_run``, ``base_run_again``: bytes, the fixtures' HF BPE and SentencePiece
  unigram on five UDHR languages and the code files; twice, identical config.
- ``latin_run``: the same, but ``tok.json`` is a small BPE retrained on
  Latin-script languages only (same name, new identity): Hindi, Russian and
  Chinese get far worse, French gets better.
- ``subset_run``: the fixtures' tokenizer on three of the five languages.
"""

from __future__ import annotations

from pathlib import Path

from compressbench.cli.common import ResultsWriter
from compressbench.data.suite import Dataset, Suite
from compressbench.reports.summary import build_summary, write_summary
from compressbench.runner import run_suite

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
LANGUAGES = ("eng", "fra", "hin", "rus", "cmn")
LATIN = ("eng", "fra", "deu", "spa", "pol", "tur", "vie", "ind")


def train_latin_bpe(path: Path) -> None:
    """A byte-level BPE of 3000 tokens trained on Latin-script UDHR texts only (deterministic, ~0.1 s)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=3000, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train([str(FIXTURES / "text" / "udhr" / f"{lang}.txt") for lang in LATIN], trainer)
    tok.save(str(path))


def make_suite(tokenizer_dir: Path, *, languages: tuple[str, ...] = LANGUAGES, code: bool = True,
               tokenizers: tuple[str, ...] = ("bytes", "hf:tok.json", "sp:unigram.model")) -> Suite:
    """A suite over fixtures/ whose file tokenizers live in ``tokenizer_dir``."""
    udhr = Dataset(name="udhr", modality="text", paths=tuple(f"text/udhr/{lang}.txt" for lang in languages),
                   base=FIXTURES, language="{stem}", reference_language="eng")
    datasets = (udhr, Dataset(name="code", modality="text", paths=("text/code",), base=FIXTURES)) if code else (udhr,)
    return Suite(name="compare-tests", datasets=datasets, tokenizers=tokenizers, base=tokenizer_dir,
                 source=str(tokenizer_dir / "suite"))


def run_to(out: Path, suite: Suite) -> Path:
    """What ``compressbench run --out OUT`` writes (results.jsonl, summary.json/.csv), for ``suite``."""
    out.mkdir(parents=True, exist_ok=True)
    writer = ResultsWriter(out / "results.jsonl")
    try:
        result = run_suite(suite, device="cpu", emit=writer)
    finally:
        writer.close()
    write_summary(build_summary(result), out)
    return out


