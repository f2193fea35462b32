"""Sharded runs merge into the unsharded run; a killed run resumes to the same summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.conftest import DEMO, ROOT, cli, console_script

TIMING = {"seconds", "decode_seconds", "raw_mb_per_s", "tokens_per_s"}


def _summary(out):
    """summary.json without the fields that vary from run to run (timing, provenance)."""
    data = json.loads((out / "summary.json").read_text())
    rows = [{k: v for k, v in r.items() if k not in TIMING} for r in data["rows"]]
    return {"rows": rows, "datasets": data["datasets"], "tokenizers": data["tokenizers"]}


@pytest.fixture(scope="module")
def whole(demo_run):
    """The unsharded demo run (shared with the Ray engine's test)."""
    return demo_run


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """The demo suite run as shards 1/3, 2/3 and 3/3 (shared by the merge tests)."""
    root = tmp_path_factory.mktemp("shards")
    outs = []
    for k in (1, 2, 3):
        out = root / f"s{k}"
        proc = cli("run", DEMO, "--shard", f"{k}/3", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    return outs


@pytest.mark.slow
def test_shards_merge_into_the_whole(whole, shards, tmp_path):
    counts = [json.loads((s / "summary.json").read_text())["datasets"]["udhr"]["samples"] for s in shards]
    total = json.loads((whole / "summary.json").read_text())["datasets"]["udhr"]["samples"]
    assert sum(counts) == total and all(c < total for c in counts)  # a real partition
    merged = tmp_path / "merged"
    proc = cli("merge", *map(str, shards), "--out", str(merged))
    assert proc.returncode == 0, proc.stderr
    assert _summary(merged) == _summary(whole)


def test_merge_refuses_what_does_not_belong_together(whole, shards, tmp_path):
    s1 = shards[0]
    proc = cli("merge", str(s1), str(s1), "--out", str(tmp_path / "m"))
    assert proc.returncode == 2 and "appears twice" in proc.stderr
    proc = cli("merge", str(s1), str(whole), "--out", str(tmp_path / "m"))
    assert proc.returncode == 2 and "is not a shard" in proc.stderr
    proc = cli("merge", str(s1), "--out", str(tmp_path / "m"))
    assert proc.returncode == 0 and "shards 2/3, 3/3 are missing" in proc.stderr
    # and the merged run's own files say so, not only the terminal
    provenance = json.loads((tmp_path / "m" / "summary.json").read_text())["provenance"]
    assert "shards 2/3, 3/3 are missing" in provenance["merge_incomplete"][0]
    assert "**partial merge**: shards 2/3, 3/3 are missing" in (tmp_path / "m" / "report.md").read_text()


def test_merge_refuses_a_row_that_two_shards_hold(shards, tmp_path):
    import shutil

    copies = [tmp_path / s.name for s in shards]
    for shard, copy in zip(shards, copies):
        shutil.copytree(shard, copy)
    row = (copies[0] / "results.jsonl").read_text().splitlines()[5]
    with (copies[2] / "results.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(row + "\n")
    proc = cli("merge", *map(str, copies), "--out", str(tmp_path / "m"))
    sample, tokenizer = json.loads(row)["sample"], json.loads(row)["tokenizer"]
    assert proc.returncode == 2
    assert f"{sample} ({tokenizer}) is in both {copies[0]} and {copies[2]}" in proc.stderr
    assert not (tmp_path / "m").exists()



def test_merge_refuses_to_write_into_a_run_it_merges(shards, tmp_path):
    proc = cli("merge", *map(str, shards), "--out", str(shards[0]), "--force")
    assert proc.returncode == 2 and "is one of the runs being merged" in proc.stderr
    assert (shards[0] / "results.jsonl").stat().st_size > 0


def test_bad_shard_spec():
    for spec, message in (("0/4", "between 1 and N"), ("5/4", "between 1 and N"), ("x", "write K/N")):
        proc = cli("run", "--shard", spec, "--out", "/tmp/never-written")
        assert proc.returncode == 2 and message in proc.stderr


@pytest.fixture(scope="module")
def big_suite(tmp_path_factory):
    """Eight copies of the UDHR (208 files): long enough to kill mid-way on any machine."""
    import shutil

    root = tmp_path_factory.mktemp("big")
    for k in range(8):
        shutil.copytree(ROOT / "fixtures" / "text" / "udhr", root / f"copy{k}")
    suite = root / "suite.toml"
    suite.write_text('tokenizers = ["bytes", "tiktoken:cl100k_base", "tiktoken:o200k_base"]\n'
                     '[[datasets]]\nname = "udhr"\nmodality = "text"\npaths = ["copy*"]\nlanguage = "{stem}"\n')
    whole = root / "whole"
    assert cli("run", str(suite), "--out", str(whole)).returncode == 0
    return suite, whole


def test_resume_after_kill_9_gives_the_uninterrupted_summary(big_suite, tmp_path):
    suite, whole = big_suite
    out = tmp_path / "out"
    # batch size 1 so rows stream out steadily; kill -9 once some, not all, are written
    proc = subprocess.Popen([*console_script(), "run", str(suite), "--out", str(out), "--batch-size", "1"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = out / "results.jsonl"
    total = sum(1 for _ in (whole / "results.jsonl").open())
    deadline = time.time() + 120
    while time.time() < deadline:
        if results.exists() and sum(1 for _ in results.open("rb")) > 20:
            break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = sum(1 for _ in results.open("rb"))
    assert 20 <= written < total, "the run was not interrupted mid-way"
    with results.open("ab") as fh:
        fh.write(b'{"dataset": "udhr", "tokeni')  # a half-written last line, as a kill mid-write leaves
    resumed = cli("run", str(suite), "--out", str(out), "--resume", "--batch-size", "1")
    assert resumed.returncode == 0, resumed.stderr
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(rows) == total and len({(r["dataset"], r["tokenizer"], r["sample"]) for r in rows}) == total
    assert _summary(out) == _summary(whole)
    assert json.loads((out / "summary.json").read_text())["provenance"]["resumed_rows"] == written


@pytest.mark.slow
def test_resume_refuses_a_changed_run(whole, tmp_path):
    proc = cli("run", DEMO, "--out", str(whole), "--resume", "--shard", "1/2")
    assert proc.returncode == 2 and "cannot resume" in proc.stderr and "shard" in proc.stderr
    tiny = tmp_path / "suite.toml"  # a suite cheaper to load than the default: the refusal is about --out
    tiny.write_text(f'tokenizers = ["bytes"]\n[[datasets]]\nname = "x"\nmodality = "text"\n'
                    f'paths = ["{ROOT}/fixtures/text/udhr/eng.txt"]\n')
    proc = cli("run", str(tiny), "--out", str(tmp_path / "nothing"), "--resume")
    assert proc.returncode == 2 and "nothing to resume" in proc.stderr
    proc = cli("run", DEMO, "--out", str(whole), "--resume", "--force")
    assert proc.returncode == 2 and "choose one" in proc.stderr
    proc = cli("run", DEMO, "--out", str(whole), "--resume", "--no-fidelity")  # rows with and without PSNR
    assert proc.returncode == 2 and "cannot resume" in proc.stderr and "fidelity" in proc.stderr


@pytest.mark.slow
def test_runs_are_deterministic_apart_from_timing(whole, tmp_path):
    again = tmp_path / "again"
    assert cli("run", DEMO, "--out", str(again)).returncode == 0
    strip = lambda p: [{k: v for k, v in json.loads(line).items() if k not in TIMING}  # noqa: E731
                       for line in (p / "results.jsonl").read_text().splitlines()]
    assert strip(again) == strip(whole)


def test_resume_refuses_a_changed_dataset_definition(tmp_path):
    suite = tmp_path / "suite.toml"
    body = ('tokenizers = ["bytes"]\n[[datasets]]\nname = "udhr"\nmodality = "text"\n'
            f'paths = ["{ROOT}/fixtures/text/udhr/eng.txt"]\nencoding = "{{}}"\n')
    suite.write_text(body.format("utf-8"))
    out = tmp_path / "out"
    assert cli("run", str(suite), "--out", str(out)).returncode == 0
    suite.write_text(body.format("latin-1"))
    proc = cli("run", str(suite), "--out", str(out), "--resume")
    assert proc.returncode == 2 and "cannot resume, the run's datasets changed" in proc.stderr


def test_a_run_from_before_ids_above_the_suite_were_relative_is_not_resumed(tmp_path):
    """A suite naming ``../data``: its ids were absolute paths before, ``../data/…`` now; resuming such a
    run (its run.json without the key that says so) would measure every file again under a new id."""
    import json
    import shutil

    from tests.conftest import UDHR, cli

    (tmp_path / "data").mkdir()
    shutil.copy(UDHR / "eng.txt", tmp_path / "data" / "eng.txt")
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "suite.toml").write_text('tokenizers = ["bytes"]\n[[datasets]]\nname = "d"\n'
                                                   'modality = "text"\npaths = ["../data"]\n', encoding="utf-8")
    out = tmp_path / "out"
    assert cli("run", str(tmp_path / "suite" / "suite.toml"), "--out", str(out)).returncode == 0
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["datasets"]["d"].pop("sample_ids")
    (out / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    proc = cli("run", str(tmp_path / "suite" / "suite.toml"), "--out", str(out), "--resume")
    assert proc.returncode == 2 and "cannot resume, the run's datasets changed" in proc.stderr, proc.stderr


@pytest.mark.parametrize("kept", [0, 10])
def test_resume_refuses_a_token_ids_file_missing_lines_of_written_rows(tmp_path, kept):
    """token_ids.jsonl cut short or emptied by hand (a kill -9 cannot do it: each ids line is flushed before
    its row): resuming would sum a wrong information ledger, so it is refused in one line."""
    from tests.conftest import UDHR, cli

    (tmp_path / "suite.toml").write_text(f'tokenizers = ["bytes", "tiktoken:cl100k_base"]\n[[datasets]]\n'
                                         f'name = "d"\nmodality = "text"\npaths = ["{UDHR}"]\n', encoding="utf-8")
    out = tmp_path / "out"
    assert cli("run", str(tmp_path / "suite.toml"), "--out", str(out)).returncode == 0
    ids = (out / "token_ids.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (out / "token_ids.jsonl").write_text("".join(ids[:kept]), encoding="utf-8")
    proc = cli("run", str(tmp_path / "suite.toml"), "--out", str(out), "--resume")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"holds the token-id counts of {kept} of the {len(ids)} measured text rows" in proc.stderr
