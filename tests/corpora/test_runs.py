"""Shards own whole reading units; merge and resume speak of record ids as they do of files."""

from __future__ import annotations

import json

from compressbench.data import reading
from compressbench.data.formats.base import unit_id
from compressbench.data.suite import load_suite
from compressbench.runner import Shard, run_suite
from tests.conftest import cli
from tests.corpora.build import texts, write_jsonl, write_parquet, write_tar
from tests.test_shard_resume import _summary


GROUP = 4  # rows per Parquet row group


def _records():
    return [{"lang": lang, "text": line} for lang, text in texts().items()
            for line in text.splitlines()[:8] if line.strip()]


def _suite(tmp_path):
    records = _records()
    write_jsonl(tmp_path / "udhr.jsonl.gz", records)
    write_tar(tmp_path / "captions.tar", {f"{i:04d}": {"txt": r["text"].encode()} for i, r in enumerate(records)})
    suite = tmp_path / "suite.toml"
    suite.write_text('tokenizers = ["bytes", "tiktoken:cl100k_base"]\n'
                     '[[datasets]]\nname = "lines"\nmodality = "text"\npaths = ["udhr.jsonl.gz"]\n'
                     'language = "{field:lang}"\n'
                     '[[datasets]]\nname = "captions"\nmodality = "text"\npaths = ["captions.tar"]\n'
                     'format = "webdataset"\nfield = "txt"\n')
    return suite, len(records)


def _containers(tmp_path):
    """Many units of every container kind: Parquet row groups, JSONL files, tar shards."""
    records = _records()
    write_parquet(tmp_path / "table.parquet", {"text": [r["text"] for r in records],
                                               "lang": [r["lang"] for r in records]}, row_group_size=GROUP)
    for k in range(4):
        write_jsonl(tmp_path / f"lines-{k}.jsonl.gz", records[k::4])
        write_tar(tmp_path / f"captions-{k}.tar",
                  {f"{i:04d}": {"txt": r["text"].encode()} for i, r in enumerate(records[k::4])})
    suite = tmp_path / "suite.toml"
    suite.write_text('tokenizers = ["bytes", "tiktoken:cl100k_base"]\n'
                     '[[datasets]]\nname = "table"\nmodality = "text"\npaths = ["table.parquet"]\n'
                     'language = "{field:lang}"\n'
                     '[[datasets]]\nname = "lines"\nmodality = "text"\npaths = ["lines-*.jsonl.gz"]\n'
                     '[[datasets]]\nname = "captions"\nmodality = "text"\npaths = ["captions-*.tar"]\n'
                     'format = "webdataset"\nfield = "txt"\n')
    return suite, len(records)


def _unit_of(sample: str) -> str:
    """The reading unit a result row came from: a Parquet row group, else the container file."""
    source, _, index = sample.partition("#")
    if source.endswith(".parquet"):
        return f"{source}@{int(index) // GROUP}"
    return source.partition("::")[0]


def test_shards_own_whole_units_and_merge_into_the_whole(tmp_path):
    suite, count = _containers(tmp_path)
    whole = tmp_path / "whole"
    assert cli("run", str(suite), "--out", str(whole)).returncode == 0
    shards = [tmp_path / f"s{k}" for k in (1, 2, 3)]
    for k, out in enumerate(shards, 1):
        proc = cli("run", str(suite), "--shard", f"{k}/3", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    units = [{_unit_of(json.loads(line)["sample"]) for line in (s / "results.jsonl").open()} for s in shards]
    every = {_unit_of(json.loads(line)["sample"]) for line in (whole / "results.jsonl").open()}
    assert len(every) == count // GROUP + 8 and set().union(*units) == every
    assert all(not (u & v) for u in units for v in units if u is not v)  # each unit in one shard, whole
    assert sum(map(bool, units)) >= 2  # a real split (ids are absolute paths: which shard varies by folder)
    proc = cli("merge", *map(str, shards), "--out", str(tmp_path / "merged"))
    assert proc.returncode == 0, proc.stderr
    assert _summary(tmp_path / "merged") == _summary(whole)
    manifest = json.loads((shards[0] / "run.json").read_text())
    assert manifest["shard"] == "1/3" and manifest["shard_scheme"] == "unit"


def test_each_unit_is_opened_by_one_shard_only(tmp_path, monkeypatch):
    suite, _ = _containers(tmp_path)
    loaded = load_suite(suite)
    opened: list[tuple[int, str]] = []
    read = reading.records
    for k in (1, 2, 3):
        def spy(ds, unit, *, max_bytes, k=k):
            opened.append((k, unit_id(unit)))
            return read(ds, unit, max_bytes=max_bytes)
        monkeypatch.setattr(reading, "records", spy)
        run_suite(loaded, shard=Shard(k, 3))
    ids = [u for _, u in opened]
    assert sorted(ids) == sorted(unit_id(u) for ds in loaded.datasets for u in reading.units(ds))
    assert len({k for k, _ in opened}) >= 2  # a real split


def test_resume_and_merge_refuse_shards_split_by_sample_id(tmp_path):
    suite, _ = _suite(tmp_path)
    out = tmp_path / "old"
    assert cli("run", str(suite), "--shard", "1/2", "--out", str(out)).returncode == 0
    manifest = json.loads((out / "run.json").read_text())
    del manifest["shard_scheme"]  # as an older compressbench wrote it
    (out / "run.json").write_text(json.dumps(manifest))
    proc = cli("run", str(suite), "--shard", "1/2", "--out", str(out), "--resume")
    assert proc.returncode == 2 and "was split by sample id" in proc.stderr
    assert cli("run", str(suite), "--shard", "2/2", "--out", str(tmp_path / "new")).returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    del summary["provenance"]["shard_scheme"]
    (out / "summary.json").write_text(json.dumps(summary))
    proc = cli("merge", str(out), str(tmp_path / "new"), "--out", str(tmp_path / "m"))
    assert proc.returncode == 2 and "cannot merge shards split different ways" in proc.stderr


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
