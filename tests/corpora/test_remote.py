"""Corpora read through fsspec: the memory file system and HTTP from a server on 127.0.0.1."""

from __future__ import annotations

import importlib.util

import fsspec
import pytest

from compressbench.core.errors import BackendMissing, ConfigError
from compressbench.data.remote import expand, filesystem
from tests.conftest import cli
from tests.corpora.build import measure, photos, texts, tokens_by, write_jsonl, write_parquet, write_tar, write_zip
from tests.corpora.server import serve


@pytest.fixture(scope="module")
def text_tokenizers(tokenizer):
    return [tokenizer("bytes", "cpu"), tokenizer("tiktoken:cl100k_base", "cpu")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """One text corpus in four formats on disk, and N of the same records read locally."""
    folder = tmp_path_factory.mktemp("corpus")
    records = [{"lang": lang, "text": text} for lang, text in texts().items()]
    write_jsonl(folder / "a.jsonl.gz", records)
    write_parquet(folder / "b.parquet", {"lang": [r["lang"] for r in records], "text": [r["text"] for r in records]})
    write_tar(folder / "c.tar", {r["lang"]: {"txt": r["text"].encode()} for r in records})
    write_zip(folder / "d.zip", {f"{r['lang']}.txt": r["text"].encode() for r in records})
    return folder


def _by_language(rows):
    """N by (tokenizer, language), whichever way the format labels it."""
    return tokens_by(rows, "language")


def _local(corpus, tokenizers, name, language):
    return _by_language(measure([str(corpus / name)], "text", tokenizers, language=language))


LABELS = {"a.jsonl.gz": "{field:lang}", "b.parquet": "{field:lang}", "c.tar": "{stem}", "d.zip": "{stem}"}


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


def test_a_missing_backend_says_how_to_install_it():
    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed here")
    with pytest.raises(BackendMissing, match=r"needs s3fs; pip install 'compressbench\[s3\]'"):
        filesystem("s3://bucket/shard-000.parquet")
    with pytest.raises(ConfigError, match="unknown protocol 'nosuch'"):
        filesystem("nosuch://bucket/x")
    proc = cli("measure", "-t", "bytes", "s3://bucket/shard-000.jsonl.gz")
    assert proc.returncode == 2 and proc.stderr == ("compressbench: error: s3://bucket/shard-000.jsonl.gz: reading "
                                                    "s3:// needs s3fs; pip install 'compressbench[s3]'\n")
