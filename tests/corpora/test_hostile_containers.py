"""Containers a user's pipeline can damage: cut-short zstd, a stray byte in a CSV, a pipe, an endless line,
a name met twice, an address nothing can list. Each costs its own record at most, and nothing hangs."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import tarfile
import zipfile

import pytest
import zstandard

from compressbench.data.discover import Found
from compressbench.data.formats.base import Unit
from compressbench.data.formats.jsonl import Skipped, lines
from compressbench.data.formats.zip import Zip
from tests.conftest import cli
from tests.corpora.build import measure, texts, write_jsonl


@pytest.fixture(scope="module")
def bytes_tokenizer(tokenizer):
    return [tokenizer("bytes", "cpu")]


def _udhr_records() -> list[dict[str, str]]:
    return [{"text": line} for text in texts().values() for line in text.splitlines() if line.strip()]


def _frames(records: list[dict[str, str]], size: int) -> bytes:
    """JSONL compressed as independent zstd frames of ``size`` uncompressed bytes each (as `zstd` writes
    a file compressed in pieces)."""
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    return b"".join(zstandard.ZstdCompressor().compress(data[i:i + size]) for i in range(0, len(data), size))


@pytest.mark.parametrize("size", [1 << 30, 20_000], ids=["one-frame", "frames"])
def test_a_truncated_zstd_says_so_and_keeps_what_came_before(tmp_path, bytes_tokenizer, size):
    # words of the UDHR drawn at random: 400 KB that do not compress to nothing, so that one frame holds
    # several blocks (of 128 KiB) and a cut leaves the first ones whole
    import random

    words = " ".join(texts().values()).split()
    draw = random.Random(0)
    records = [{"text": " ".join(draw.choices(words, k=60))} for _ in range(900)]
    whole = _frames(records, size)
    (tmp_path / "whole.jsonl.zst").write_bytes(whole)
    rows = measure([str(tmp_path / "whole.jsonl.zst")], "text", bytes_tokenizer)
    assert [r["tokens"] for r in rows] == [len(r["text"].encode()) for r in records]  # every frame read
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    rows = measure([str(path)], "text", bytes_tokenizer)
    *good, last = rows
    assert 0 < len(good) < len(records) and [r["tokens"] for r in good] == [len(r["text"].encode())
                                                                         for r in records[: len(good)]]
    assert last["error"] == (f"{path}#{len(good)}: cannot read record {len(good)} or any after it "
                             "(EOFError: compressed file ended inside a zstd frame (truncated))")


def test_a_stray_byte_in_a_csv_costs_its_row_only(tmp_path, bytes_tokenizer):
    lines_ = [b"text"] + [b"good %d" % i for i in range(3000)] + [b"bad \xff"] + [b"good %d" % i for i in range(3000)]
    path = tmp_path / "a.csv"
    path.write_bytes(b"\n".join(lines_) + b"\n")
    rows = measure([str(path)], "text", bytes_tokenizer)
    assert len(rows) == 6001 and [r["sample"] for r in rows if r["error"]] == [f"{path}#3000"]
    assert rows[3000]["error"] == (f"{path}#3000: not valid utf-8 text (byte 0xff); set the dataset's encoding "
                                   "if the file is not UTF-8")
    assert rows[-1]["tokens"] == len(b"good 2999")


def test_a_csv_in_another_encoding_or_with_a_bom(tmp_path, bytes_tokenizer):
    (tmp_path / "latin.csv").write_bytes("text\ncafé\n".encode("latin-1"))
    (tmp_path / "bom.csv").write_bytes("\ufefftext\r\ncafé\r\n".encode("utf-8"))
    latin = measure([str(tmp_path / "latin.csv")], "text", bytes_tokenizer, options={"encoding": "latin-1"})
    bom = measure([str(tmp_path / "bom.csv")], "text", bytes_tokenizer)
    assert [(r["error"], r["tokens"]) for r in latin + bom] == [(None, len("café".encode()))] * 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_named_like_a_container_is_an_error_row_not_a_hang(tmp_path):
    for name in ("p.jsonl", "p.csv", "p.tar", "p.zip", "p.parquet"):
        os.mkfifo(tmp_path / name)
    proc = cli("measure", "--tokenizer", "bytes", "--json", *(str(p) for p in sorted(tmp_path.iterdir())))
    assert proc.returncode == 1, proc.stderr[-2000:]
    errors = [r["error"] for r in json.loads(proc.stdout)["results"]]
    assert len(errors) == 5 and all("not a regular file" in e for e in errors), errors


def test_lines_reads_each_byte_once_and_passes_over_what_is_too_long():
    data = b"".join(b"x" * n + b"\n" for n in (3, 0, 70_000, 5, 200_000)) + b"tail\r"
    expected = [line.rstrip(b"\r") for line in data.split(b"\n")]
    assert list(lines(io.BytesIO(data), chunk=1000)) == expected
    capped = list(lines(io.BytesIO(data), chunk=1000, max_bytes=65_536))
    assert capped == [b"xxx", b"", 70_000, b"xxxxx", 200_000, b"tail"]
    assert [type(x) for x in capped].count(Skipped) == 2


def test_a_jsonl_line_over_the_limit_is_its_error_row(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "x" * 300_000}, {"text": "after"}])
    proc = cli("measure", "--tokenizer", "bytes", "--json", "--max-file-bytes", "100000", str(path))
    rows = json.loads(proc.stdout)["results"]
    assert proc.returncode == 1 and rows[1]["tokens"] == 5
    size = len(json.dumps({"text": "x" * 300_000}))
    assert rows[0]["error"] == f"{path}#0: the line is {size:,} bytes, over the limit of 100,000 (--max-file-bytes); not read"


def test_a_name_met_twice_is_two_samples_with_distinct_ids(tmp_path, bytes_tokenizer):
    zipped = tmp_path / "dup.zip"
    with zipfile.ZipFile(zipped, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        for name, data in (("x.txt", b"one"), ("x.txt", b"second"), ("x.txt", b"third!"), ("x.txt~2", b"4")):
            archive.writestr(name, data)
    shard = tmp_path / "dup.tar"
    with tarfile.open(shard, "w") as tar:
        for key, data in (("a", b"first a"), ("b", b"b"), ("a", b"a again")):
            info = tarfile.TarInfo(f"{key}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    rows = measure([str(zipped), str(shard)], "text", bytes_tokenizer)
    assert [(r["sample"], r["tokens"]) for r in rows] == [
        (f"{zipped}::x.txt", 3), (f"{zipped}::x.txt~2", 6), (f"{zipped}::x.txt~3", 6), (f"{zipped}::x.txt~2~2", 1),
        (f"{shard}::a", 7), (f"{shard}::b", 1), (f"{shard}::a~2", 7)]
    unit = Unit(Found(str(zipped), zipped), "zip")
    assert Zip().listed(unit) == [r["sample"] for r in rows[:4]]  # what --sample draws from equals what is read


def test_an_address_nothing_can_list_leaves_no_out_folder(tmp_path):
    (tmp_path / "suite.toml").write_text('tokenizers = ["bytes"]\n[[datasets]]\nname = "u"\nmodality = "text"\n'
                                         'paths = ["foo://x/a.jsonl"]\n', encoding="utf-8")
    out = tmp_path / "runs" / "out"
    proc = cli("run", str(tmp_path / "suite.toml"), "--out", str(out))
    assert proc.returncode == 2 and "unknown protocol 'foo'" in proc.stderr and not out.parent.exists()
    if importlib.util.find_spec("s3fs") is None:
        return
    (tmp_path / "suite.toml").write_text('tokenizers = ["bytes"]\n[[datasets]]\nname = "u"\nmodality = "text"\n'
                                         'paths = ["s3://bucket/a.jsonl"]\n', encoding="utf-8")
    closed = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
              "AWS_MAX_ATTEMPTS": "1"}  # a port nothing listens on: the listing fails once --out is made
    proc = cli("run", str(tmp_path / "suite.toml"), "--out", str(out), env=closed)
    assert proc.returncode == 2 and "cannot list" in proc.stderr and not out.parent.exists(), proc.stderr


def test_a_language_field_that_is_not_a_code_is_the_records_error(tmp_path, bytes_tokenizer):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "a", "lang": "eng"}, {"text": "b", "lang": ["eng"]},
                                              {"text": "c", "lang": True}, {"text": "d", "lang": None},
                                              {"text": "e", "lang": 7}, {"text": "f"}])
    rows = measure([str(path)], "text", bytes_tokenizer, language="{field:lang}")
    assert [r["language"] for r in rows if r["error"] is None] == ["eng", "7"]
    assert [r["error"].split(": ", 1)[1] for r in rows if r["error"]] == [
        "field 'lang' for the language label is list, not a string",
        "field 'lang' for the language label is bool, not a string",
        "field 'lang' for the language label is null, not a string",
        "the record has no field 'lang' for the language label"]


@pytest.mark.parametrize("label", ["{fild:lang}", "{field:lang", "{stem}}", "{Stem}"])
def test_a_misspelt_language_placeholder_is_refused(tmp_path, label):
    from compressbench.core.errors import ConfigError
    from compressbench.data.suite import parse_suite

    with pytest.raises(ConfigError, match="has a brace that is not a placeholder"):
        parse_suite({"tokenizers": ["bytes"], "datasets": [{"name": "d", "modality": "text", "paths": ["x"],
                                                            "language": label}]}, source="s.toml", base=tmp_path)


def test_a_parquet_file_without_row_groups_is_empty_not_an_error(tmp_path, bytes_tokenizer):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.ParquetWriter(tmp_path / "empty.parquet", pa.schema([("text", pa.string())])).close()
    assert measure([str(tmp_path / "empty.parquet")], "text", bytes_tokenizer) == []


def test_an_empty_field_says_so_not_empty_file(tmp_path, bytes_tokenizer):
    path = tmp_path / "a.csv"
    path.write_text("text,lang\nhello,eng\n,fra\n", encoding="utf-8")
    rows = measure([str(path)], "text", bytes_tokenizer)
    assert rows[1]["error"] == f"{path}#1: the record's field is empty (0 bytes): nothing to measure"
    assert rows[0]["tokens"] == 5


def test_an_unknown_protocol_is_refused_before_anything_is_read(tmp_path, bytes_tokenizer):
    """The check `run` makes before it creates --out (the file system of each URL; nothing listed)."""
    from compressbench.core.errors import ConfigError
    from compressbench.data.suite import parse_suite
    from compressbench.runner import check_coverage

    suite = parse_suite({"tokenizers": ["bytes"], "datasets": [{"name": "d", "modality": "text",
                                                                "paths": ["a.jsonl", "foo://x/b.jsonl"]}]},
                        source="s.toml", base=tmp_path)
    with pytest.raises(ConfigError, match="foo://x/b.jsonl: unknown protocol 'foo'"):
        check_coverage(suite, bytes_tokenizer)


@pytest.mark.parametrize("fmt", ["files", "zip"])
def test_a_field_label_over_a_format_of_files_is_refused(tmp_path, fmt):
    from compressbench.core.errors import ConfigError
    from compressbench.data.suite import parse_suite

    with pytest.raises(ConfigError, match=f"format '{fmt}' holds files, which have none"):
        parse_suite({"tokenizers": ["bytes"], "datasets": [{"name": "d", "modality": "text", "paths": ["x"],
                                                            "format": fmt, "language": "{field:lang}"}]},
                    source="s.toml", base=tmp_path)
