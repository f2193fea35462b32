"""A resumed run holds a few bytes per earlier row, not the rows: the key set it keeps them in, and the
resume itself (its rows, its ids, its errors) against the uninterrupted run."""

from __future__ import annotations

import json
import tracemalloc

from hypothesis import example, given, settings
from hypothesis import strategies as st

from compressbench.core.keyset import KeySet
from compressbench.results import PriorRows, read_rows
from compressbench.runner import _Work
from tests.conftest import cli

# parts with NUL, surrogates (undecodable file names) and digits that could blur a length prefix
PART = st.text(alphabet=st.sampled_from(["a", "b", "1", ":", "\0", "é", "\udcff"]), max_size=4)


@settings(max_examples=300, deadline=None)
@example([(("1:", "1:x"), b"ab", 1)], [("\0", "x")])  # a length-prefixed key against a plain one
@given(st.lists(st.tuples(st.tuples(PART, PART), st.binary(min_size=2, max_size=2), st.integers(0, 2**10 - 1)),
                max_size=40),
       st.lists(st.tuples(PART, PART), max_size=10))
def test_key_set_answers_as_a_dict_does(added, others):
    keys = KeySet(value_bytes=2, flag_bytes=2)
    values: dict[tuple[str, str], bytes] = {}
    flags: dict[tuple[str, str], int] = {}
    for key, value, bits in added:
        keys.add(key, value, flags=bits)
        values[key] = value  # the last value wins
        flags[key] = flags.get(key, 0) | bits  # flags are OR-ed
    keys.freeze()
    assert len(keys) == len(values)
    positions = set()
    for key in values:
        at = keys.position(key)
        assert at is not None and keys.value(at) == values[key] and keys.flags(at) == flags[key]
        positions.add(at)
    assert positions == set(range(len(values)))
    for key in others:
        assert (key in keys) == (key in values)


def _rows_file(tmp_path, rows: int):
    """A results.jsonl of ``rows`` rows shaped as a real run writes them: one text row, its sample renamed."""
    src = tmp_path / "a.txt"
    src.write_text("one short text to measure\n", encoding="utf-8")
    suite = tmp_path / "suite.toml"
    suite.write_text('tokenizers = ["bytes"]\n[[datasets]]\nname = "d"\nmodality = "text"\npaths = ["a.txt"]\n')
    out = tmp_path / "seed"
    assert cli("run", str(suite), "--out", str(out)).returncode == 0
    row = json.loads((out / "results.jsonl").read_text())
    path = tmp_path / "results.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            fh.write(json.dumps({**row, "sample": f"shard-{i // 1000:05d}.jsonl#{i % 1000}"}) + "\n")
    return path


def _peak(build) -> int:
    tracemalloc.start()
    try:
        kept = build()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del kept
    return peak


def test_resume_keeps_bytes_per_row_not_the_rows(tmp_path):
    n = 20_000
    path = _rows_file(tmp_path, n)
    counted = []
    peak = _peak(lambda: _Work(PriorRows(path), ["bytes"], lambda row: counted.append(1)))
    listed = _peak(lambda: read_rows(path))  # what a resume held before: every row as a dict
    assert len(counted) == n
    print(f"\npeak traced bytes per row: resume {peak / n:.0f}, rows as a list {listed / n:.0f}")
    assert peak < listed / 10
    # kept: 16 (key) + 32 (content-hash term) + 1 (flags) a sample; at the peak also the build buffers,
    # sorted copies of the keys and the sort order (measured: 119 bytes a row)
    assert peak / n < 150


def test_resume_of_a_run_with_bad_records_reports_the_earlier_errors_first(tmp_path):
    data = tmp_path / "d.jsonl"
    lines = [json.dumps({"text": f"record {i} " * 20}) for i in range(40)]
    lines[3], lines[30] = '{"text": 1}', "{not json"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    suite = tmp_path / "suite.toml"
    suite.write_text('tokenizers = ["bytes", "tiktoken:cl100k_base"]\n'
                     '[[datasets]]\nname = "d"\nmodality = "text"\npaths = ["d.jsonl"]\n')
    whole, out = tmp_path / "whole", tmp_path / "out"
    assert cli("run", str(suite), "--out", str(whole), "--batch-size", "4").returncode == 1
    out.mkdir()
    for name in ("run.json", "results.jsonl", "token_ids.jsonl"):  # an interrupted run: its first half
        text = (whole / name).read_bytes()
        kept = text.splitlines(keepends=True)
        (out / name).write_bytes(b"".join(kept[: len(kept) // 2]) if name != "run.json" else text)
    resumed = cli("run", str(suite), "--out", str(out), "--resume", "--batch-size", "4")
    assert resumed.returncode == 1
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.index("d.jsonl#3") < report.index("d.jsonl#30")  # the earlier run's error first
    assert "Failed samples (2)" in report
    rows = read_rows(out / "results.jsonl")
    assert sorted((r["tokenizer"], r["sample"]) for r in rows) == sorted(
        (r["tokenizer"], r["sample"]) for r in read_rows(whole / "results.jsonl"))
    timing = {"seconds", "decode_seconds", "raw_mb_per_s", "tokens_per_s"}
    summary = [{k: v for k, v in r.items() if k not in timing}
               for r in json.loads((out / "summary.json").read_text())["rows"]]
    expected = [{k: v for k, v in r.items() if k not in timing}
                for r in json.loads((whole / "summary.json").read_text())["rows"]]
    assert summary == expected
    datasets = [json.loads((o / "summary.json").read_text())["datasets"] for o in (out, whole)]
    assert datasets[0] == datasets[1] and datasets[0]["d"]["content_sha256"]  # the skipped samples' hash terms


def test_prior_rows_are_the_interrupted_runs_not_the_ones_appended_since(tmp_path):
    """A resumed run appends to the file PriorRows reads again each precision round: those rows are not prior."""
    path = _rows_file(tmp_path, 10)
    with path.open("ab") as fh:
        fh.write(b'{"dataset": "d", "tok')  # a killed run's half line, cut when the resume starts
    prior = PriorRows(path)
    first = list(prior)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({**first[0], "sample": "appended by the resumed run"}) + "\n")
    assert list(prior) == first and len(first) == len(read_rows(path)) - 1
