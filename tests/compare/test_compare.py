"""`compressbench compare` on real runs: gates, directions, exit codes, comparability, outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.compare.runs_helper import ROOT, make_suite, run_to

from compressbench.cli import main
from compressbench.data.suite import Dataset, Suite
from compressbench.reports.compare import COMPRESSION, TOKENS, Gates, Incomparable, compare
from compressbench.reports.summary import read_summary


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_identical_config_passes_with_every_row_compared(capsys, base_run, base_run_again):
    rc, out, err = cli(capsys, "compare", base_run, base_run_again)
    assert rc == 0, err
    assert "no regressions" in out
    # 2 datasets x 3 tokenizers, and 5 languages x 3 tokenizers
    assert "(6 dataset x tokenizer rows, 15 language rows compared)" in out
    assert "+0.00%" in out and err == ""
    sha = read_summary(base_run)["tokenizers"]["hf:tok.json"]["sha256"][:16]
    assert "Provenance:" in out and f"tokenizer hf:tok.json sha256       {sha}…" in out


def test_retrained_tokenizer_is_not_comparable_unless_allowed(capsys, base_run, latin_run):
    rc, out, err = cli(capsys, "compare", base_run, latin_run)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err  # one line, no traceback
    base_sha = read_summary(base_run)["tokenizers"]["hf:tok.json"]["sha256"]
    new_sha = read_summary(latin_run)["tokenizers"]["hf:tok.json"]["sha256"]
    assert f"tokenizer 'hf:tok.json': identity changed (sha256 {base_sha[:12]}… → {new_sha[:12]}…)" in err
    assert "--allow-tokenizer-change 'hf:tok.json'" in err


def test_every_regression_is_reported_then_fails_once(capsys, base_run, latin_run):
    rc, out, err = cli(capsys, "compare", base_run, latin_run, "--allow-tokenizer-change", "hf:*")
    assert rc == 1
    lines = err.strip().splitlines()
    assert lines[0].startswith("compressbench: ") and "regression(s) beyond the gates" in lines[0]
    regressed = lines[1:]
    assert all("hf:tok.json" in line for line in regressed)  # bytes and sp did not change
    for lang in ("eng", "hin", "rus", "cmn"):  # worse: the new vocabulary barely covers these scripts
        assert any(f"udhr/text/hf:tok.json [{lang}]: C (bytes/token)" in line for line in regressed), lang
    assert not any("[fra]" in line for line in regressed)  # French got better: not a regression
    assert "note: tokenizer 'hf:tok.json': identity changed" in out
    assert out.index("REGRESSIONS") < out.index("Per dataset x tokenizer")


def test_directions_a_change_is_never_worse_both_ways(base_run, latin_run):
    base, new = read_summary(base_run), read_summary(latin_run)
    forward = compare(base, new, gates=Gates(0, 0, None), allow_tokenizer_change=("*",))
    backward = compare(new, base, gates=Gates(0, 0, None), allow_tokenizer_change=("*",))
    worse_forward = {(r.key, r.change.metric.key) for r in forward.regressions}
    worse_backward = {(r.key, r.change.metric.key) for r in backward.regressions}
    assert worse_forward and worse_backward and not worse_forward & worse_backward
    fra = next(r for r in forward.language_rows if r.key.language == "fra" and r.key.tokenizer == "hf:tok.json")
    assert fra.changes["compression"].pct > 0 and fra.changes["tokens"].pct < 0  # C up, N down: better
    assert COMPRESSION.worse_pct(*[fra.changes["compression"].base, fra.changes["compression"].new]) < 0
    assert TOKENS.worse_pct(fra.changes["tokens"].base, fra.changes["tokens"].new) < 0


def test_gates_can_be_loosened_and_switched(capsys, base_run, latin_run):
    allow = ("--allow-tokenizer-change", "hf:*")
    rc, _, err = cli(capsys, "compare", base_run, latin_run, *allow, "--max-compression-drop", "off")
    assert rc == 0, err
    rc, _, err = cli(capsys, "compare", base_run, latin_run, *allow, "--max-compression-drop", "off",
                     "--max-token-increase", "5%")
    assert rc == 1 and "N (tokens)" in err and "C (bytes/token)" not in err
    rc, _, err = cli(capsys, "compare", base_run, latin_run, *allow, "--max-compression-drop", "100000")
    assert rc == 0, err


def test_throughput_gate_is_off_by_default(capsys, base_run, tmp_path):
    # The same run on a machine twice as slow: every timing doubled, nothing else changed.
    summary = read_summary(base_run)
    for row in summary["rows"]:
        row["seconds"] *= 2
        row["raw_mb_per_s"] /= 2
        row["tokens_per_s"] /= 2
    (tmp_path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    rc, _, err = cli(capsys, "compare", base_run, tmp_path)
    assert rc == 0, err
    rc, _, err = cli(capsys, "compare", base_run, tmp_path, "--max-throughput-drop", "10")
    assert rc == 1 and err.count("throughput (raw MB/s)") == 6 and "50.00% worse; gate 10%" in err


def test_different_data_is_not_comparable_and_says_which_samples(capsys, base_run, subset_run):
    rc, out, err = cli(capsys, "compare", base_run, subset_run, "--json")
    assert rc == 2
    reasons = json.loads(out)["reasons"]
    assert len(reasons) == 1 and reasons[0].startswith("dataset 'udhr' has different content (baseline 5 samples")
    assert "new 3 samples" in reasons[0]
    assert "only in the baseline: text/udhr/rus.txt, text/udhr/cmn.txt; only in the new run: none" in reasons[0]
    assert reasons[0] in err


def test_nothing_in_common_is_not_comparable(base_run, tmp_path, tokenizer_dirs):
    other = run_to(tmp_path / "other", make_suite(tokenizer_dirs["fixture"], code=False, tokenizers=("bytes",)))
    summary = read_summary(other)
    summary["rows"] = [{**r, "dataset": "udhr2"} for r in summary["rows"]]
    summary["datasets"] = {"udhr2": summary["datasets"]["udhr"]}
    summary["tokenizers"] = {"bytes2": summary["tokenizers"]["bytes"]}
    with pytest.raises(Incomparable, match=r"no dataset x tokenizer in common \(baseline: datasets udhr, code"):
        compare(read_summary(base_run), summary)


def test_more_failed_samples_is_a_regression(capsys, tmp_path, tokenizer_dirs):
    # A Latin-1 file: the baseline declares its encoding, the new run (wrongly) reads it as UTF-8 and fails.
    data = tmp_path / "data"
    data.mkdir()
    (data / "latin1.txt").write_bytes("Déclaration universelle des droits de l'homme".encode("latin-1"))
    runs = []
    for name, options in (("base", {"encoding": "latin-1"}), ("new", {})):
        ds = Dataset(name="legacy", modality="text", paths=("latin1.txt",), base=data, options=options)
        suite = Suite(name="legacy", datasets=(ds,), tokenizers=("bytes",), base=tokenizer_dirs["fixture"])
        runs.append(run_to(tmp_path / name, suite))
    rc, _, err = cli(capsys, "compare", *runs)
    assert rc == 1 and "legacy/text/bytes: failed samples (count) 0 → 1 (may not increase)" in err


def test_markdown_step_summary_and_json(capsys, monkeypatch, tmp_path, base_run, latin_run):
    summary_file = tmp_path / "step-summary.md"
    summary_file.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    allow = ("--allow-tokenizer-change", "hf:*")
    rc, md, _ = cli(capsys, "compare", base_run, latin_run, *allow, "--markdown")
    assert rc == 1
    assert md.startswith("## ❌ compressbench compare: ")
    assert md.index("### ❌ Regressions") < md.index("### Per dataset × tokenizer") < md.index("<summary>Provenance")
    rc, js, _ = cli(capsys, "compare", base_run, latin_run, *allow, "--json")
    data = json.loads(js)
    assert data["schema"] == "compressbench.compare/1" and data["exit_code"] == 1 and data["comparable"]
    assert {r["metric"] for r in data["regressions"]} == {"compression"}
    assert data["gates"] == {"max_compression_drop": 1.0, "max_token_increase": None, "max_throughput_drop": None}
    assert data["new"]["tokenizers"]["hf:tok.json"] != data["baseline"]["tokenizers"]["hf:tok.json"]
    rc, md, err = cli(capsys, "compare", base_run, latin_run, "--markdown")  # not comparable: say why, there too
    assert rc == 2 and md.startswith("## ⚠️ compressbench compare: cannot compare") and "identity changed" in err
    text = summary_file.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")  # appended, never overwritten
    assert text.count("## ❌ compressbench compare") == 2 and text.count("## ⚠️ compressbench compare: cannot") == 1
    assert "identity changed" in text


@pytest.mark.parametrize("args, message", [
    (["compare", "no/such/run", "."], "no/such/run: no such summary; pass a run directory or its summary.json"),
    (["compare", ".", ".", "--max-compression-drop", "-1"], "a gate must be a percentage >= 0"),
    (["compare", ".", ".", "--max-token-increase", "lots"], "expected a percentage"),
])
def test_bad_input_exits_2_without_traceback(args, message):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "compressbench", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_help_lists_examples(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = capsys.readouterr().out
    assert "--max-compression-drop PCT" in out and "examples:" in out and "--allow-tokenizer-change" in out


def test_run_dir_and_summary_file_are_the_same(capsys, base_run, base_run_again):
    rc, out, _ = cli(capsys, "compare", Path(base_run) / "summary.json", base_run_again, "--json")
    assert rc == 0 and json.loads(out)["baseline"]["label"].endswith("summary.json")


def test_two_checkouts_of_a_suite_beside_its_data_compare_as_the_same_data(tmp_path):
    """A suite that says ``paths = ["../data"]``, checked out twice in different places: the ids are
    ``../data/…`` in both (not absolute paths), so the content hashes agree and compare passes."""
    import shutil

    from tests.conftest import UDHR, cli

    for checkout in ("a", "elsewhere/b"):
        data, suite = tmp_path / checkout / "data", tmp_path / checkout / "suite"
        data.mkdir(parents=True)
        suite.mkdir()
        for name in ("eng.txt", "fra.txt"):
            shutil.copy(UDHR / name, data / name)
        (suite / "suite.toml").write_text('tokenizers = ["bytes"]\n[[datasets]]\nname = "d"\nmodality = "text"\n'
                                          'paths = ["../data"]\n', encoding="utf-8")
        proc = cli("run", str(suite / "suite.toml"), "--out", str(tmp_path / checkout / "out"))
        assert proc.returncode == 0, proc.stderr
    rows = (tmp_path / "a" / "out" / "results.jsonl").read_text(encoding="utf-8")
    assert '"sample": "../data/eng.txt"' in rows
    proc = cli("compare", str(tmp_path / "a" / "out"), str(tmp_path / "elsewhere" / "b" / "out"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--markdown"]], ids=["text", "json", "markdown"])
@pytest.mark.parametrize("new, code", [("latin_run", 1), ("base_run_again", 0)], ids=["regression", "pass"])
def test_a_reader_that_stops_early_does_not_change_the_verdict(request, base_run, fmt, new, code):
    """`compare A B | head -1` in CI: the pipe closes before compare has written; it still exits 1 on a
    regression and 0 without, with nothing on stderr (stdout buffered, as when not run by this suite)."""
    from tests.conftest import console_script

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([*console_script(), "compare", str(base_run), str(request.getfixturevalue(new)),
                             "--allow-tokenizer-change", "hf:*", *fmt],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == code, err
    assert "Exception ignored" not in err and "Traceback" not in err


def test_an_unfinished_run_is_named_as_such(capsys, base_run, tmp_path):
    import shutil

    killed = tmp_path / "killed"
    shutil.copytree(base_run, killed)
    for name in ("summary.json", "summary.csv", "report.md"):
        (killed / name).unlink(missing_ok=True)
    rc, out, err = cli(capsys, "compare", base_run, killed)
    assert rc == 2 and err.count("\n") == 1
    assert f"{killed}: the run is unfinished" in err and f"--out {killed} --resume" in err


def test_a_step_summary_that_cannot_be_written_warns_and_keeps_the_verdict(capsys, monkeypatch, base_run,
                                                                           base_run_again, tmp_path):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a folder: cannot be appended to
    rc, out, err = cli(capsys, "compare", base_run, base_run_again)
    assert rc == 0 and "no regressions" in out
    assert f"cannot append the comparison to $GITHUB_STEP_SUMMARY ({tmp_path}: Is a directory)" in err
