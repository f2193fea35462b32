"""tiktoken vocabularies resolve offline from hash-verified files, and say how to fix a miss."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys

import pytest

from compressbench.assets import tiktoken as vocab
from compressbench.core.errors import ConfigError
from tests.conftest import ROOT, cli


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty tiktoken and compressbench caches: only shipped or given files can satisfy a load."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken-cache"))
    monkeypatch.setenv("COMPRESSBENCH_CACHE_DIR", str(tmp_path / "cb-cache"))
    monkeypatch.delenv("COMPRESSBENCH_VOCAB_DIR", raising=False)
    return tmp_path


def test_shipped_vocabularies_match_the_official_hashes():
    bundled = vocab._bpe_openai_dir()
    assert bundled is not None, "bpe-openai is a dependency and ships the vocabularies"
    for name in ("cl100k_base", "o200k_base"):
        data = gzip.decompress((bundled / f"{name}.tiktoken.gz").read_bytes())
        assert hashlib.sha256(data).hexdigest() == vocab.official_hash(name)


def test_loads_offline_in_a_fresh_process_with_no_network(isolated):
    """A new interpreter whose sockets all fail still builds both encodings."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "from compressbench import get_tokenizer\n"
        "for name in ('cl100k_base', 'o200k_base'):\n"
        "    print(name, get_tokenizer('tiktoken:' + name).count('hello world').tokens)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["cl100k_base", "2", "o200k_base", "2"]
    cached = list((isolated / "cb-cache" / "tiktoken").iterdir())
    assert len(cached) == 2 and not any(p.suffix == ".tmp" for p in cached)


def test_explicit_file_with_a_wrong_hash_is_refused(isolated):
    fake = isolated / "cl100k_base.tiktoken"
    fake.write_bytes(b"IQ== 0\n")
    with pytest.raises(ConfigError, match=r"cl100k_base.tiktoken: not a cl100k_base vocabulary .*sha256"):
        vocab.load_encoding("cl100k_base", vocab=str(fake))


def test_vocab_dir_override_is_used(isolated, monkeypatch):
    src = vocab._bpe_openai_dir() / "cl100k_base.tiktoken.gz"
    folder = isolated / "vocabs"
    folder.mkdir()
    (folder / "cl100k_base.tiktoken").write_bytes(gzip.decompress(src.read_bytes()))
    monkeypatch.setenv("COMPRESSBENCH_VOCAB_DIR", str(folder))
    assert vocab.candidates("cl100k_base", None)[1] == folder / "cl100k_base.tiktoken"
    assert len(vocab.load_encoding("cl100k_base").encode_ordinary("hello world")) == 2


def test_a_corrupt_cached_file_is_replaced(isolated):
    vocab.load_encoding("cl100k_base")
    (cached,) = (isolated / "cb-cache" / "tiktoken").iterdir()
    cached.write_bytes(b"garbage")
    import tiktoken.registry

    tiktoken.registry.ENCODINGS.pop("cl100k_base", None)  # force tiktoken to read the file again
    assert len(vocab.load_encoding("cl100k_base").encode_ordinary("hello world")) == 2
    assert vocab.read_verified(cached, vocab.official_hash("cl100k_base")) is not None


def test_missing_vocabulary_says_what_to_do(isolated, monkeypatch):
    monkeypatch.setattr(vocab, "_bpe_openai_dir", lambda: None)
    import tiktoken.registry

    tiktoken.registry.ENCODINGS.pop("r50k_base", None)
    with pytest.raises(ConfigError) as err:
        vocab.load_encoding("r50k_base")
    message = str(err.value)
    assert "not found offline" in message and "bpe-openai" in message
    assert "vocab=FILE" in message and "download=true" in message and "\n" not in message


def test_unknown_encoding_suggests_close_names():
    with pytest.raises(ConfigError, match="did you mean: o200k_base"):
        vocab.load_encoding("o200k_bas")


def test_an_unwritable_cache_is_a_warning_and_the_count_is_right(isolated):
    """COMPRESSBENCH_CACHE_DIR below a file: the verified vocabulary is used uncached, with one warning line."""
    blocker = isolated / "a-file"
    blocker.write_text("not a folder")
    text = ROOT / "fixtures" / "text" / "udhr" / "eng.txt"
    proc = cli("measure", "-t", "tiktoken:cl100k_base", "--json", str(text),
               env={"COMPRESSBENCH_CACHE_DIR": str(blocker), "TMPDIR": str(isolated)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("\n") == 1 and "warning: cannot cache the cl100k_base vocabulary" in proc.stderr
    expected = len(vocab.load_encoding("cl100k_base").encode_ordinary(text.read_text(encoding="utf-8")))
    assert json.loads(proc.stdout)["results"][0]["tokens"] == expected
    assert not [p for p in isolated.iterdir() if p.name.startswith("compressbench-vocab-")]  # temporary, removed
