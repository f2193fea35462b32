"""Every format counts the same tokens as the same records measured as loose files."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from compressbench.data.discover import Found
from compressbench.data.formats import format_for
from tests.corpora.build import (measure, photos, texts, tokens_by, write_delimited, write_jsonl, write_parquet,
                                 write_tar, write_zip)


@pytest.fixture(scope="module")
def text_tokenizers(tokenizer):
    return [tokenizer("bytes", "cpu"), tokenizer("tiktoken:cl100k_base", "cpu")]


@pytest.fixture(scope="module")
def image_tokenizers(tokenizer):
    return [tokenizer("qwen2vl", "cpu")]


@pytest.fixture(scope="module")
def loose_text(tmp_path_factory, text_tokenizers):
    """N of each UDHR translation measured as a loose file, by (tokenizer, language)."""
    folder = tmp_path_factory.mktemp("loose")
    for lang, text in texts().items():
        (folder / f"{lang}.txt").write_text(text, encoding="utf-8")
    rows = measure([str(folder)], "text", text_tokenizers, language="{stem}")
    assert len(rows) == 2 * len(texts()) and all(r["error"] is None for r in rows)
    return tokens_by(rows, "language")


def _records() -> list[dict[str, str]]:
    return [{"lang": lang, "text": text} for lang, text in texts().items()]


TEXT_CORPORA = {
    "a.jsonl": lambda p: write_jsonl(p, _records()),
    "a.jsonl.gz": lambda p: write_jsonl(p, _records()),
    "a.jsonl.zst": lambda p: write_jsonl(p, _records()),
    "a.jsonl.bz2": lambda p: write_jsonl(p, _records()),
    "a.jsonl.xz": lambda p: write_jsonl(p, _records()),
    "a.parquet": lambda p: write_parquet(p, {"lang": list(texts()), "text": list(texts().values())}),
    "a.csv": lambda p: write_delimited(p, _records(), ","),
    "a.tsv": lambda p: write_delimited(p, _records(), "\t"),
    "a.tar": lambda p: write_tar(p, {f"{i:06d}": {"txt": r["text"].encode(), "json": json.dumps(r).encode()}
                                     for i, r in enumerate(_records())}),
    "a.tar.gz": lambda p: write_tar(p, {f"{i:06d}": {"txt": r["text"].encode(), "json": json.dumps(r).encode()}
                                        for i, r in enumerate(_records())}),
}


@pytest.mark.parametrize("name", sorted(TEXT_CORPORA))
def test_text_records_count_as_loose_files(name, tmp_path, text_tokenizers, loose_text):
    path = TEXT_CORPORA[name](tmp_path / name)
    rows = measure([str(path)], "text", text_tokenizers, language="{field:lang}")
    assert all(r["error"] is None for r in rows), [r["error"] for r in rows if r["error"]]
    assert tokens_by(rows, "language") == loose_text
    separator = "::" if ".tar" in name else "#"
    first = "000000" if ".tar" in name else "0"
    assert rows[0]["sample"] == f"{path}{separator}{first}"


def test_zip_members_are_file_samples(tmp_path, text_tokenizers, loose_text):
    files = {f"udhr/{lang}.txt": text.encode() for lang, text in texts().items()}
    path = write_zip(tmp_path / "udhr.zip", {**files, "__MACOSX/udhr/._eng.txt": b"junk", "udhr/.hidden": b"x"})
    rows = measure([str(path)], "text", text_tokenizers, language="{stem}")
    assert tokens_by(rows, "language") == loose_text
    assert {r["sample"] for r in rows} == {f"{path}::udhr/{lang}.txt" for lang in texts()}


def test_parquet_row_groups_are_reading_units(tmp_path, text_tokenizers, loose_text):
    """Six rows in row groups of two: three units, ids counted across them; only needed columns read."""
    path = write_parquet(tmp_path / "a.parquet", {"lang": list(texts()), "text": list(texts().values()),
                                                  "junk": [b"\0" * 10] * len(texts())})
    units = format_for("auto", path.name).units(Found(path.name, path))
    assert [(u.part, u.first) for u in units] == [(0, 0), (1, 2), (2, 4)]
    rows = measure([path.name], "text", text_tokenizers[:1], base=tmp_path, language="{field:lang}")
    assert [r["sample"] for r in rows] == [f"a.parquet#{i}" for i in range(6)]


@pytest.fixture(scope="module")
def loose_photos(tmp_path_factory, image_tokenizers):
    folder = tmp_path_factory.mktemp("photos")
    for name, data in photos().items():
        (folder / name).write_bytes(data)
    rows = measure([str(folder)], "image", image_tokenizers, language="{stem}")
    assert all(r["error"] is None for r in rows)
    return tokens_by(rows, "language")


def _image_corpus(kind: str, folder: Path) -> tuple[Path, dict]:
    items = photos()
    if kind == "webdataset":  # LAION style: image, caption and metadata per key
        samples = {Path(n).stem: {Path(n).suffix[1:]: d, "txt": b"a caption", "json": b"{}"} for n, d in items.items()}
        return write_tar(folder / "shard-000.tar", samples), {"language": "{stem}"}
    if kind == "zip":
        return write_zip(folder / "photos.zip", items), {"language": "{stem}"}
    stems = [Path(n).stem for n in items]
    if kind == "parquet-struct":  # Hugging Face's Image feature
        image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
        schema = pa.schema([("name", pa.string()), ("image", image)])
        column = [{"bytes": d, "path": n} for n, d in items.items()]
        return write_parquet(folder / "p.parquet", {"name": stems, "image": column}, schema=schema), \
            {"language": "{field:name}"}
    return (write_parquet(folder / "p.parquet", {"name": stems, "jpeg": list(items.values())}),
            {"language": "{field:name}", "field": "jpeg"})


@pytest.mark.parametrize("kind", ["webdataset", "zip", "parquet-struct", "parquet-binary"])
def test_image_records_count_as_loose_files(kind, tmp_path, image_tokenizers, loose_photos):
    path, keys = _image_corpus(kind, tmp_path)
    rows = measure([str(path)], "image", image_tokenizers, **keys)
    assert all(r["error"] is None for r in rows), [r["error"] for r in rows if r["error"]]
    assert tokens_by(rows, "language") == loose_photos


def test_captions_and_images_over_one_webdataset(tmp_path, text_tokenizers):
    """A caption text dataset over the same tar as the images: field txt, one sample per key."""
    path = write_tar(tmp_path / "s.tar", {"0": {"jpg": b"\xff\xd8", "txt": "a red rocket".encode()},
                                          "1": {"png": b"\x89PNG", "txt": "a grey camera".encode()}})
    rows = measure([str(path)], "text", text_tokenizers[:1])
    assert [(r["sample"], r["tokens"]) for r in rows] == [(f"{path}::0", 12), (f"{path}::1", 13)]


def test_a_hugging_face_save_to_disk_folder(tmp_path, text_tokenizers, loose_text):
    """The layout datasets' save_to_disk writes: Arrow IPC streams beside JSON metadata (not data)."""
    import pyarrow.ipc

    folder = tmp_path / "udhr_dataset"
    folder.mkdir()
    table = pa.table({"lang": list(texts()), "text": list(texts().values())})
    for k, part in enumerate((table.slice(0, 4), table.slice(4))):
        with pa.OSFile(str(folder / f"data-0000{k}-of-00002.arrow"), "wb") as sink, \
                pyarrow.ipc.new_stream(sink, table.schema) as writer:
            for batch in part.to_batches(max_chunksize=3):
                writer.write_batch(batch)
    (folder / "state.json").write_text('{"_data_files": []}')
    (folder / "dataset_info.json").write_text("{}")
    rows = measure([str(folder)], "text", text_tokenizers, format="hf", language="{field:lang}")
    assert tokens_by(rows, "language") == loose_text
    assert [r["sample"] for r in rows[:1] + rows[-1:]] == [f"{folder}/data-00000-of-00002.arrow#0",
                                                           f"{folder}/data-00001-of-00002.arrow#1"]
    (folder / "data-00000-of-00002.arrow").unlink()
    (folder / "data-00001-of-00002.arrow").unlink()
    rows = measure([str(folder)], "text", text_tokenizers[:1], format="hf")
    assert [r["error"] for r in rows] == [f"{folder}: no file that format 'hf' reads"]


def test_datasets_save_to_disk_counts_as_loose_files(tmp_path, text_tokenizers, loose_text, image_tokenizers,
                                                     loose_photos):
    """Folders written by the real ``datasets`` library (``pip install datasets``): text, and images as its
    ``Image`` feature ({bytes, path} structs), each in two shards, count as the same records as loose files."""
    datasets = pytest.importorskip("datasets", reason="pip install datasets (to write save_to_disk folders)")

    text = tmp_path / "udhr"
    datasets.Dataset.from_dict({"lang": list(texts()), "text": list(texts().values())}).save_to_disk(
        str(text), num_shards=2)
    assert sorted(p.name for p in text.iterdir() if p.suffix == ".arrow") == [
        "data-00000-of-00002.arrow", "data-00001-of-00002.arrow"]
    rows = measure([str(text)], "text", text_tokenizers, format="hf", language="{field:lang}")
    assert all(r["error"] is None for r in rows), [r["error"] for r in rows if r["error"]]
    assert tokens_by(rows, "language") == loose_text
    assert rows[0]["sample"] == f"{text}/data-00000-of-00002.arrow#0"

    images = tmp_path / "photos"
    items = photos()
    table = datasets.Dataset.from_dict({"name": [Path(n).stem for n in items],
                                        "image": [{"bytes": d, "path": n} for n, d in items.items()]})
    table.cast_column("image", datasets.Image()).save_to_disk(str(images), num_shards=2)
    rows = measure([str(images)], "image", image_tokenizers, format="hf", language="{field:name}")
    assert all(r["error"] is None for r in rows), [r["error"] for r in rows if r["error"]]
    assert tokens_by(rows, "language") == loose_photos
