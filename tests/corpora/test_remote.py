"""Corpora read through fsspec: the memory file system and HTTP from a server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import re

import fsspec
import pytest

from compressbench.core.errors import BackendMissing, ConfigError
from compressbench.data.remote import expand, filesystem
from tests.conftest import cli
from tests.corpora.build import TEXT_CORPUS_LABELS, measure, photos, text_corpus, tokens_by
from tests.corpora.server import serve


@pytest.fixture(scope="module")
def text_tokenizers(tokenizer):
    return [tokenizer("bytes", "cpu"), tokenizer("tiktoken:cl100k_base", "cpu")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """One text corpus in four formats on disk."""
    return text_corpus(tmp_path_factory.mktemp("corpus"))


def _by_language(rows):
    """N by (tokenizer, language), whichever way the format labels it."""
    return tokens_by(rows, "language")


def _local(corpus, tokenizers, name, language):
    return _by_language(measure([str(corpus / name)], "text", tokenizers, language=language))


LABELS = TEXT_CORPUS_LABELS


def test_memory_filesystem(corpus, text_tokenizers):
    fs = fsspec.filesystem("memory")
    try:
        for name in LABELS:
            fs.pipe(f"/corpus/{name}", (corpus / name).read_bytes())
        assert expand("memory://corpus/*.parquet") == ["memory://corpus/b.parquet"]
        for name, label in LABELS.items():
            rows = measure([f"memory://corpus/{name}"], "text", text_tokenizers, language=label)
            assert rows[0]["sample"].startswith(f"memory://corpus/{name}")
            assert _by_language(rows) == _local(corpus, text_tokenizers, name, label), name
        rows = measure(["memory://corpus"], "text", text_tokenizers[:1], language="x")  # a folder: every file
        assert {r["sample"].split("#")[0].split("::")[0] for r in rows} == {f"memory://corpus/{n}" for n in LABELS}
    finally:
        fs.rm("/corpus", recursive=True)


def test_http(corpus, text_tokenizers):
    with serve(corpus) as url:
        for name, label in LABELS.items():
            rows = measure([f"{url}/{name}"], "text", text_tokenizers, language=label)
            assert all(r["error"] is None for r in rows), name
            assert rows[0]["sample"].startswith(f"{url}/{name}")
            assert _by_language(rows) == _local(corpus, text_tokenizers, name, label), name
        rows = measure([f"{url}/missing.jsonl"], "text", text_tokenizers[:1])
        assert "no such file" in rows[0]["error"]
        rows = measure([f"{url}/*.tar", f"{url}/"], "text", text_tokenizers[:1], language="x")  # a listing, a folder
        sources = [r["sample"].split("#")[0].split("::")[0] for r in rows]
        assert list(dict.fromkeys(sources)) == [f"{url}/{n}" for n in ("c.tar", "a.jsonl.gz", "b.parquet", "d.zip")]


def test_a_loose_file_over_http(tmp_path, tokenizer):
    name, data = next(iter(photos().items()))
    (tmp_path / name).write_bytes(data)
    qwen = [tokenizer("qwen2vl", "cpu")]
    with serve(tmp_path) as url:
        remote = measure([f"{url}/{name}"], "image", qwen)
    local = measure([str(tmp_path / name)], "image", qwen)
    assert remote[0]["sample"] == f"{url}/{name}" and remote[0]["tokens"] == local[0]["tokens"] > 0
    assert remote[0]["file_sha256"] == local[0]["file_sha256"]


# protocol -> (the back-end fsspec needs, compressbench's extra that installs it)
_OPTIONAL = {"s3": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "az": ("adlfs", "azure")}


def test_a_missing_backend_says_how_to_install_it():
    missing = [(p, m, e) for p, (m, e) in _OPTIONAL.items() if importlib.util.find_spec(m) is None]
    if not missing:
        pytest.skip("every optional back-end is installed here")
    proto, module, extra = missing[0]  # s3fs comes with the dev extra (tests/corpora/test_s3.py reads s3://)
    hint = f"reading {proto}:// needs {module}; pip install 'compressbench[{extra}]'"
    with pytest.raises(BackendMissing, match=re.escape(hint)):
        filesystem(f"{proto}://bucket/shard-000.parquet")
    with pytest.raises(ConfigError, match="unknown protocol 'nosuch'"):
        filesystem("nosuch://bucket/x")
    proc = cli("measure", "-t", "bytes", f"{proto}://bucket/shard-000.jsonl.gz")
    assert proc.returncode == 2 and proc.stderr == f"compressbench: error: {proto}://bucket/shard-000.jsonl.gz: {hint}\n"
