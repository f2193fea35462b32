"""Shards, merge and resume speak of record ids as they do of files."""

from __future__ import annotations

import json

from compressbench.data.suite import load_suite
from compressbench.runner import run_suite
from tests.conftest import cli
from tests.corpora.build import texts, write_jsonl, write_tar
from tests.test_shard_resume import _summary


def _suite(tmp_path):
    records = [{"lang": lang, "text": line} for lang, text in texts().items()
               for line in text.splitlines()[:8] if line.strip()]
    write_jsonl(tmp_path / "udhr.jsonl.gz", records)
    write_tar(tmp_path / "captions.tar", {f"{i:04d}": {"txt": r["text"].encode()} for i, r in enumerate(records)})
    suite = tmp_path / "suite.toml"
    suite.write_text('tokenizers = ["bytes", "tiktoken:cl100k_base"]\n'
                     '[[datasets]]\nname = "lines"\nmodality = "text"\npaths = ["udhr.jsonl.gz"]\n'
                     'language = "{field:lang}"\n'
                     '[[datasets]]\nname = "captions"\nmodality = "text"\npaths = ["captions.tar"]\n'
                     'format = "webdataset"\nfield = "txt"\n')
    return suite, len(records)


def test_shards_of_records_merge_into_the_whole(tmp_path):
    suite, count = _suite(tmp_path)
    whole = tmp_path / "whole"
    assert cli("run", str(suite), "--out", str(whole)).returncode == 0
    shards = [tmp_path / "s1", tmp_path / "s2"]
    for k, out in enumerate(shards, 1):
        proc = cli("run", str(suite), "--shard", f"{k}/2", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    counts = [json.loads((s / "summary.json").read_text())["datasets"]["lines"]["samples"] for s in shards]
    assert sum(counts) == count and 0 < counts[0] < count  # the records, not the file, are split
    proc = cli("merge", *map(str, shards), "--out", str(tmp_path / "merged"))
    assert proc.returncode == 0, proc.stderr
    assert _summary(tmp_path / "merged") == _summary(whole)


def test_resume_skips_finished_records(tmp_path):
    suite, count = _suite(tmp_path)
    loaded = load_suite(suite)
    rows: list[dict] = []
    whole = run_suite(loaded, emit=rows.append)
    prior = rows[: len(rows) // 3]
    more: list[dict] = []
    resumed = run_suite(loaded, emit=more.append, prior_rows=prior)
    keys = lambda rs: sorted((r["dataset"], r["tokenizer"], r["sample"]) for r in rs)  # noqa: E731
    assert keys(prior + more) == keys(rows) and not set(keys(prior)) & set(keys(more))
    assert resumed.datasets == whole.datasets  # the content hash covers every record, read or resumed
    assert {k: g.total.summary()["tokens"] for k, g in resumed.groups.items()} == \
        {k: g.total.summary()["tokens"] for k, g in whole.groups.items()}
