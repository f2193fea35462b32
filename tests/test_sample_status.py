"""A sample that was not read has a status, never a made-up digest: status words stay out of content hashes."""

from __future__ import annotations

import hashlib

from compressbench.data.suite import parse_suite
from compressbench.runner import RunOptions, run_suite


def _expected_content_hash(pairs: list[tuple[str, str]]) -> str:
    """The documented order-free hash, computed here: sum of sha256("id\\0digest") mod 2^256."""
    total = sum(int.from_bytes(hashlib.sha256(f"{i}\0{d}".encode()).digest(), "big") for i, d in pairs)
    return f"{total % (1 << 256):064x}"


def test_unread_samples_have_no_digest_and_hash_as_empty(tmp_path):
    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    small.write_text("hello world\n")
    big.write_text("x" * 500)
    suite = parse_suite({"tokenizers": ["bytes"], "datasets": [
        {"name": "d", "modality": "text", "paths": ["small.txt", "big.txt", "absent/*.txt"]}]},
        source="inline", base=tmp_path)
    rows: list[dict] = []
    result = run_suite(suite, emit=rows.append, options=RunOptions(max_file_bytes=100))
    by_error = {r["sample"]: r for r in rows}
    assert len(rows) == 3
    read = [r for r in rows if r["error"] is None]
    unread = [r for r in rows if r["error"] is not None]
    assert [r["file_sha256"] for r in read] == [hashlib.sha256(small.read_bytes()).hexdigest()]
    assert len(unread) == 2 and all(r["file_sha256"] is None for r in unread)
    assert any("over the limit" in r["error"] for r in unread) and any("absent" in r["error"] for r in unread)
    pairs = [(sample, r["file_sha256"] or "") for sample, r in by_error.items()]
    assert result.datasets["d"]["content_sha256"] == _expected_content_hash(pairs)
