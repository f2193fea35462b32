"""Finding and decoding samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from compressbench.core.errors import SampleError
from compressbench.data.discover import discover
from compressbench.data.suite import Dataset
from compressbench.data.text import decode_text


def test_raw_bytes_is_the_utf8_size_without_a_bom():
    text = "naïve 日本\n"
    assert decode_text(b"\xef\xbb\xbf" + text.encode()).raw_bytes == len(text.encode())
    assert decode_text(text.encode("utf-16"), encoding="utf-16").raw_bytes == len(text.encode())


def test_decode_errors():
    with pytest.raises(SampleError, match="empty file"):
        decode_text(b"")
    with pytest.raises(SampleError, match="unknown text encoding 'klingon'"):
        decode_text(b"abc", encoding="klingon")


def test_discover_files_dirs_globs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("x")
    (tmp_path / "a" / ".hidden").write_text("h")
    (tmp_path / "a" / "deep").mkdir()
    (tmp_path / "a" / "deep" / "y.md").write_text("y")
    found = discover(["a", "a/*.txt", "nothing/*.txt", "gone.txt"], base=tmp_path)
    assert [f.id for f in found if f.error is None] == ["a/deep/y.md", "a/x.txt"]  # x.txt once, .hidden skipped
    assert [f.error for f in found if f.error] == ["nothing/*.txt: the pattern matches no file",
                                                   "gone.txt: no such file or directory"]


def test_language_labels():
    ds = Dataset(name="d", modality="text", paths=("x",), language="{stem}")
    assert ds.language_of(Path("udhr/hin.txt")) == "hin"
    assert Dataset(name="d", modality="text", paths=("x",), language="{parent}").language_of(Path("fr/a.txt")) == "fr"
    assert Dataset(name="d", modality="text", paths=("x",)).language_of(Path("a.txt")) is None


def test_symlinked_folders_are_followed_once_and_pipes_are_errors(tmp_path):
    import os

    from compressbench.data.reading import file_record
    from compressbench.data.suite import Dataset
    from compressbench.measure import load_sample

    real = tmp_path / "real"
    real.mkdir()
    (real / "a.txt").write_text("a")
    (real / "loop").symlink_to(real)  # a cycle: must not recurse forever
    (tmp_path / "linked").symlink_to(real)
    os.mkfifo(real / "pipe.txt")
    found = {f.id: file_record(f) for f in discover(["linked"], base=tmp_path)}
    assert set(found) == {"linked/a.txt", "linked/pipe.txt"}
    ds = Dataset(name="d", modality="text", paths=("linked",), base=tmp_path)
    assert "not a regular file" in load_sample(ds, found["linked/pipe.txt"]).error
    assert load_sample(ds, found["linked/a.txt"]).payload == "a"
