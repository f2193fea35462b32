"""Session-wide real runs for the compare/report tests (see runs_helper.py for what each one is)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.compare.runs_helper import FIXTURES, LANGUAGES, make_suite, run_to, train_latin_bpe


@pytest.fixture(scope="session")
def tokenizer_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """'fixture': tok.json = the fixtures' HF BPE; 'latin': tok.json = a BPE retrained on Latin scripts."""
    dirs = {}
    for name in ("fixture", "latin"):
        d = tmp_path_factory.mktemp(f"tok-{name}")
        shutil.copy(FIXTURES / "tokenizers" / "udhr-unigram.model", d / "unigram.model")
        dirs[name] = d
    shutil.copy(FIXTURES / "tokenizers" / "udhr-bpe.json", dirs["fixture"] / "tok.json")
    train_latin_bpe(dirs["latin"] / "tok.json")
    return dirs


@pytest.fixture(scope="session")
def base_run(tmp_path_factory: pytest.TempPathFactory, tokenizer_dirs: dict[str, Path]) -> Path:
    return run_to(tmp_path_factory.mktemp("base"), make_suite(tokenizer_dirs["fixture"]))


@pytest.fixture(scope="session")
def base_run_again(tmp_path_factory: pytest.TempPathFactory, tokenizer_dirs: dict[str, Path]) -> Path:
    return run_to(tmp_path_factory.mktemp("base-again"), make_suite(tokenizer_dirs["fixture"]))


@pytest.fixture(scope="session")
def latin_run(tmp_path_factory: pytest.TempPathFactory, tokenizer_dirs: dict[str, Path]) -> Path:
    return run_to(tmp_path_factory.mktemp("latin"), make_suite(tokenizer_dirs["latin"]))


@pytest.fixture(scope="session")
def subset_run(tmp_path_factory: pytest.TempPathFactory, tokenizer_dirs: dict[str, Path]) -> Path:
    return run_to(tmp_path_factory.mktemp("subset"), make_suite(tokenizer_dirs["fixture"], languages=LANGUAGES[:3]))
