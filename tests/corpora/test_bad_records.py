"""Bad records become error rows naming source and index; the others are measured; damage stops only what follows."""

from __future__ import annotations

import io
import zipfile

import pytest

from compressbench.core.errors import ConfigError
from compressbench.data.suite import parse_suite
from tests.conftest import cli
from tests.corpora.build import measure, texts, write_delimited, write_jsonl, write_parquet, write_tar


@pytest.fixture(scope="module")
def bytes_tokenizer(tokenizer):
    return [tokenizer("bytes", "cpu")]


def _outcomes(rows):
    return [(r["sample"].rsplit("#", 1)[-1].rsplit("::", 1)[-1], r["tokens"], r["error"]) for r in rows]


def test_bad_jsonl_lines(tmp_path, bytes_tokenizer):
    path = write_jsonl(tmp_path / "a.jsonl.gz", [{"text": "héllo"}, "{not json", {"body": "x"}, {"text": 42}, "[1, 2]",
                                                 "", {"text": "ok"}])
    rows = measure([str(path)], "text", bytes_tokenizer)
    outcomes = _outcomes(rows)
    assert [(i, n) for i, n, _ in outcomes] == [("0", 6), ("1", None), ("2", None), ("3", None), ("4", None),
                                                 ("5", 2)]  # the blank line is not a record
    errors = [e for _, _, e in outcomes if e]
    assert errors == [f"{path}#1: not a valid JSON line (Expecting property name enclosed in double quotes at column 2)",
                      f"{path}#2: the record has no field 'text' (its fields: body); set the dataset's field",
                      f"{path}#3: field 'text' is int, not a string",
                      f"{path}#4: the line is a JSON list, not an object"]


def test_a_truncated_gzip_keeps_what_came_before(tmp_path, bytes_tokenizer):
    records = [{"text": line} for text in texts().values() for line in text.splitlines() if line.strip()]
    path = write_jsonl(tmp_path / "a.jsonl.gz", records)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    rows = measure([str(path)], "text", bytes_tokenizer)
    assert all(r["error"] is None and r["tokens"] == len(records[i]["text"].encode()) for i, r in enumerate(rows[:-1]))
    assert len(records) // 4 < len(rows) - 1 < len(records)
    last = rows[-1]
    assert last["sample"] == f"{path}#{len(rows) - 1}" and last["error"].startswith(
        f"{path}#{len(rows) - 1}: cannot read record {len(rows) - 1} or any after it (EOFError")


def test_a_truncated_tar_keeps_what_came_before(tmp_path, bytes_tokenizer):
    samples = {f"{i:03d}": {"txt": ("caption %d " % i).encode() * 300} for i in range(10)}
    path = write_tar(tmp_path / "s.tar", samples)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 100])
    rows = measure([str(path)], "text", bytes_tokenizer)
    good = [r for r in rows if r["error"] is None]
    assert 3 <= len(good) < 10 and [r["sample"] for r in good] == [f"{path}::{i:03d}" for i in range(len(good))]
    assert len(rows) == len(good) + 1
    assert rows[-1]["error"].startswith(f"{path}::{len(good):03d}: cannot read the shard from here on after "
                                        f"{path}::{len(good) - 1:03d}")


def test_webdataset_key_without_the_field(tmp_path, tokenizer):
    path = write_tar(tmp_path / "s.tar", {"a": {"txt": b"caption", "json": b"{}"}})
    rows = measure([str(path)], "image", [tokenizer("qwen2vl", "cpu")])
    assert rows[0]["error"] == (f"{path}::a: no member with extension jpg;jpeg;png;webp (it has: txt, json); "
                                "set the dataset's field")


def test_bad_parquet_and_csv_rows(tmp_path, bytes_tokenizer):
    path = write_parquet(tmp_path / "a.parquet", {"text": ["one", None, "three"], "lang": ["eng", "fra", None]})
    rows = measure([str(path)], "text", bytes_tokenizer, language="{field:lang}")
    assert [(r["tokens"], r["language"]) for r in rows] == [(3, "eng"), (None, None), (None, None)]
    assert rows[1]["error"] == f"{path}#1: field 'text' is NoneType, not a string"
    assert rows[2]["error"] == f"{path}#2: field 'lang' for the language label is null, not a string"
    path = write_parquet(tmp_path / "b.parquet", {"body": ["x"]})
    assert measure([str(path)], "text", bytes_tokenizer)[0]["error"].startswith(f"{path}#0: no column 'text'")
    bad = tmp_path / "c.parquet"
    bad.write_bytes(b"PAR1 not really")
    assert measure([str(bad)], "text", bytes_tokenizer)[0]["error"].startswith(f"{bad}: not a readable Parquet file")
    path = write_delimited(tmp_path / "a.csv", [{"lang": "eng", "text": "hello"}], ",")
    path.write_text(path.read_text() + "fra\n")
    rows = measure([str(path)], "text", bytes_tokenizer)
    assert [r["tokens"] for r in rows] == [5, None] and rows[1]["error"].startswith(f"{path}#1: the record has no field")


def test_a_damaged_zip_member_fails_alone(tmp_path, bytes_tokenizer):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("a.txt", "first member")
        archive.writestr("b.txt", "second member")
        archive.writestr("c.txt", "third member")
    data = buffer.getvalue().replace(b"second member", b"secXnd member")  # the stored CRC no longer matches
    path = tmp_path / "z.zip"
    path.write_bytes(data)
    rows = measure([str(path)], "text", bytes_tokenizer)
    assert [(r["sample"], r["tokens"]) for r in rows] == [(f"{path}::a.txt", 12), (f"{path}::b.txt", None),
                                                         (f"{path}::c.txt", 12)]
    assert rows[1]["error"].startswith(f"{path}::b.txt: cannot read (BadZipFile: Bad CRC-32")
    (tmp_path / "y.zip").write_bytes(b"not a zip")
    assert measure([str(tmp_path / "y.zip")], "text", bytes_tokenizer)[0]["error"].startswith(
        f"{tmp_path / 'y.zip'}: not a readable zip archive (BadZipFile")


def test_bad_records_exit_1_and_bad_keys_exit_2(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": texts()["eng"]}, "oops"])
    proc = cli("measure", "-t", "bytes", str(path))
    assert proc.returncode == 1 and f"{path}#1: not a valid JSON line" in proc.stdout
    proc = cli("measure", "-t", "bytes", "--format", "jsnl", str(path))
    assert proc.returncode == 2 and proc.stderr.strip().endswith(
        "unknown format 'jsnl'; did you mean: jsonl? (known: auto, csv, files, hf, jsonl, parquet, tsv, webdataset, zip)")
    assert len(proc.stderr.strip().splitlines()) == 1
    with pytest.raises(ConfigError, match=r"datasets\[0\]: 'field' must name"):
        parse_suite({"tokenizers": ["bytes"], "datasets": [{"name": "d", "modality": "text", "paths": ["x"],
                                                            "field": ";"}]}, source="s", base=tmp_path)


def test_a_loose_file_among_records_labelled_by_field_is_an_error_row(tmp_path, bytes_tokenizer):
    write_parquet(tmp_path / "a.parquet", {"text": ["one"], "lang": ["eng"]})
    (tmp_path / "notes.txt").write_text("loose text", encoding="utf-8")
    rows = measure([str(tmp_path)], "text", bytes_tokenizer, language="{field:lang}")
    by_id = {r["sample"]: r for r in rows}
    assert by_id[f"{tmp_path / 'a.parquet'}#0"]["language"] == "eng"
    loose = by_id[str(tmp_path / "notes.txt")]
    assert loose["tokens"] is None and loose["error"].startswith(
        f"{tmp_path / 'notes.txt'}: a loose file has no field 'lang' for the language label")


def test_a_text_that_is_only_a_byte_order_mark_says_so(tmp_path, bytes_tokenizer):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "\ufeff"}, {"text": "\ufeffok"}])
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf")
    rows = measure([str(path), str(tmp_path / "bom.txt")], "text", bytes_tokenizer)
    assert [r["tokens"] for r in rows] == [None, 2, None]
    assert all("holds only a byte-order mark" in rows[i]["error"] for i in (0, 2))
