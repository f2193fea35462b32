#!/usr/bin/env python3
"""Build the record-container fixtures under ``fixtures/corpus/`` from the loose fixtures.

Standard library only, no network, byte-for-byte deterministic (gzip and tar
headers carry no time, owner or file name), so ``--check`` can compare.

``corpus/udhr-openings.jsonl.gz``
    JSON Lines, gzip-compressed: the first four lines (title and opening
    paragraphs) of each ``text/udhr/<lang>.txt``, one record per line:
    ``{"lang": "<lang>", "line": <n>, "text": "..."}``.
``corpus/photos-captions.tar``
    A WebDataset shard, LAION style: for each photo in ``image/``, the members
    ``<stem>.<ext>`` (the file, unchanged), ``<stem>.txt`` (a one-sentence
    caption written for it, below) and ``<stem>.json`` (``{"file": ..., "caption": ...}``).

Usage::

    python scripts/make_corpus_fixtures.py           # write
    python scripts/make_corpus_fixtures.py --check   # compare with what is there, write nothing
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import tarfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LINES_PER_LANGUAGE = 4

CAPTIONS = {
    "astronaut_portrait_3x4": "Astronaut Eileen Collins in her orange flight suit, smiling in front of the US flag.",
    "camera_gray": "A black-and-white photo of a man in a dark coat looking through a camera on a tripod.",
    "chelsea": "A tabby cat called Chelsea lying down and looking to the side.",
    "coffee_exif_orientation6": "A cup of coffee with latte art on a saucer, seen from above.",
    "coffee_wide_21x9": "A wide crop of a cup of coffee with a leaf drawn in the milk foam.",
    "hubble_deep_field_1000": "Thousands of distant galaxies against black space in the Hubble Deep Field.",
    "retina_rgba": "A photograph of the back of a human eye, with blood vessels spreading from the optic disc.",
    "rocket": "A Falcon 9 rocket lifting off from its launch pad in a cloud of smoke and fire.",
    "rocket_strip_8x1": "A thin horizontal strip cut from a photo of a rocket launch.",
}


def udhr_openings() -> bytes:
    """The JSONL.gz: the first lines of every UDHR translation, with a language field."""
    lines = []
    for path in sorted((FIXTURES / "text" / "udhr").glob("*.txt")):
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines()[:LINES_PER_LANGUAGE]):
            lines.append(json.dumps({"lang": path.stem, "line": n, "text": text}, ensure_ascii=False))
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))
    return buffer.getvalue()


def _member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def photos_captions() -> bytes:
    """The WebDataset shard: each photo with its caption and a JSON record."""
    photos = sorted((FIXTURES / "image").iterdir())
    missing = sorted({p.stem for p in photos} ^ set(CAPTIONS))
    if missing:
        raise SystemExit(f"captions and photos differ: {', '.join(missing)}; update CAPTIONS")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for photo in photos:
            caption = CAPTIONS[photo.stem]
            _member(tar, photo.name, photo.read_bytes())
            _member(tar, f"{photo.stem}.txt", caption.encode("utf-8"))
            _member(tar, f"{photo.stem}.json", json.dumps({"file": photo.name, "caption": caption}).encode())
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files there; write nothing")
    args = parser.parse_args()
    outputs = {"udhr-openings.jsonl.gz": udhr_openings(), "photos-captions.tar": photos_captions()}
    folder = FIXTURES / "corpus"
    stale = [n for n, data in outputs.items() if not (folder / n).is_file() or (folder / n).read_bytes() != data]
    if args.check:
        for name in stale:
            print(f"differs: fixtures/corpus/{name}", file=sys.stderr)
        return 1 if stale else 0
    folder.mkdir(exist_ok=True)
    for name, data in outputs.items():
        (folder / name).write_bytes(data)
        print(f"wrote fixtures/corpus/{name} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
