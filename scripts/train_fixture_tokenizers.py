"""Train the small tokenizers that ship in fixtures/tokenizers/ (HF BPE and SentencePiece).

They are trained on the fixtures' own text (the UDHR in 26 languages, the prose
and the code), so the default suite has an HF and a SentencePiece tokenizer
without downloading anything. Deterministic: re-running gives the same files.

Usage (from the repository root):
    .venv/bin/python scripts/train_fixture_tokenizers.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = sorted((ROOT / "fixtures" / "text").rglob("*.*"))
OUT = ROOT / "fixtures" / "tokenizers"
VOCAB = 8000


def train_hf_bpe() -> None:
    """A byte-level BPE (GPT-2 style pre-tokenizer), 8000 tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<|endoftext|>"],
    )
    tok.train([str(p) for p in TEXT], trainer)
    tok.save(str(OUT / "udhr-bpe.json"))


def train_sentencepiece() -> None:
    """A unigram SentencePiece model with byte fallback, 8000 pieces."""
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        input=",".join(str(p) for p in TEXT), model_prefix=str(OUT / "udhr-unigram"),
        vocab_size=VOCAB, model_type="unigram", byte_fallback=True, character_coverage=0.9995,
        num_threads=1, minloglevel=2, max_sentence_length=100000,
    )
    (OUT / "udhr-unigram.vocab").unlink()


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    train_hf_bpe()
    train_sentencepiece()
    for p in sorted(OUT.iterdir()):
        print(p.relative_to(ROOT), p.stat().st_size)
