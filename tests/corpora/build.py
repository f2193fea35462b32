"""Small corpora in every format, built from the fixtures with the real libraries, and a way to measure them."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from compressbench.data.suite import Dataset, Suite
from compressbench.runner import run_suite
from tests.conftest import FIXTURES, UDHR

LANGUAGES = ("eng", "fra", "hin", "jpn", "rus", "amh")


def texts() -> dict[str, str]:
    """A few UDHR translations, decoded."""
    return {lang: (UDHR / f"{lang}.txt").read_text(encoding="utf-8") for lang in LANGUAGES}


def photos() -> dict[str, bytes]:
    """The fixture photos (JPEG, PNG, WebP), by file name."""
    return {p.name: p.read_bytes() for p in sorted((FIXTURES / "image").iterdir())}


_OPENERS = {"": open, ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open,
            ".zst": lambda p, mode: zstandard.open(p, mode)}


def write_jsonl(path: Path, rows: list[dict[str, Any]] | list[str]) -> Path:
    """JSON Lines, compressed by the path's extension; a str row is written as it is (a bad line)."""
    suffix = path.suffix if path.suffix in _OPENERS else ""
    with _OPENERS[suffix](path, "wb") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)).encode() + b"\n")
    return path


def write_parquet(path: Path, columns: dict[str, list[Any]], *, row_group_size: int = 2,
                  schema: pa.Schema | None = None) -> Path:
    pq.write_table(pa.table(columns, schema=schema), path, row_group_size=row_group_size)
    return path


def write_delimited(path: Path, rows: list[dict[str, str]], delimiter: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_tar(path: Path, samples: dict[str, dict[str, bytes]]) -> Path:
    """A WebDataset shard: member KEY.EXT for every key and extension (``.tar.gz`` compressed)."""
    with tarfile.open(path, "w:gz" if path.name.endswith(".gz") else "w") as tar:
        for key, members in samples.items():
            for ext, data in members.items():
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


# How text_corpus's files label each record's language: a field of JSONL and Parquet records, a member's stem in
# tar and zip.
TEXT_CORPUS_LABELS = {"a.jsonl.gz": "{field:lang}", "b.parquet": "{field:lang}", "c.tar": "{stem}", "d.zip": "{stem}"}


def text_corpus(folder: Path) -> Path:
    """The UDHR translations in ``folder`` as one corpus in four formats (the names of TEXT_CORPUS_LABELS)."""
    records = [{"lang": lang, "text": text} for lang, text in texts().items()]
    write_jsonl(folder / "a.jsonl.gz", records)
    write_parquet(folder / "b.parquet", {"lang": [r["lang"] for r in records], "text": [r["text"] for r in records]})
    write_tar(folder / "c.tar", {r["lang"]: {"txt": r["text"].encode()} for r in records})
    write_zip(folder / "d.zip", {f"{r['lang']}.txt": r["text"].encode() for r in records})
    return folder


def measure(paths: list[str], modality: str, tokenizers: list, base: Path = Path("."), **keys: Any) -> list[dict]:
    """The result rows of measuring ``paths`` as one dataset (keys: format, field, language)."""
    ds = Dataset(name="d", modality=modality, paths=tuple(paths), base=base, **keys)
    rows: list[dict] = []
    run_suite(Suite(name="t", datasets=(ds,), tokenizers=tuple(t.name for t in tokenizers)),
              tokenizers=tokenizers, emit=rows.append)
    return rows


def tokens_by(rows: list[dict], key: str) -> dict[tuple[str, str], int]:
    """(tokenizer, row[key]) -> N, for the rows that succeeded."""
    return {(r["tokenizer"], r[key]): r["tokens"] for r in rows if r["error"] is None}
