"""The console script end to end: files written, exit codes, bad input, light start-up."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, UDHR, cli, console_script

SUMMARY_KEYS = {"dataset", "modality", "tokenizer", "samples", "errors", "raw_bytes", "tokens", "compression"}
RESULT_KEYS = {"dataset", "modality", "tokenizer", "sample", "raw_bytes", "input_bytes", "file_bytes", "tokens",
               "compression", "seconds", "error"}


def run_on_a_terminal(*args: str) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """``compressbench ARGS`` with stdout piped and stderr on a 120-column pseudo-terminal; and what it showed there."""
    import fcntl
    import pty
    import struct
    import tempfile
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with tempfile.TemporaryFile("w+") as stdout:
        proc = subprocess.Popen([*console_script(), *args], cwd=ROOT, stdout=stdout, stderr=secondary, text=True)
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        code = proc.wait(timeout=300)
        os.close(primary)
        stdout.seek(0)
        return subprocess.CompletedProcess(proc.args, code, stdout.read(), seen.decode(errors="replace")), seen


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default suite, run once for every test below that reads it (stderr on a terminal: see the last test)."""
    out = tmp_path_factory.mktemp("run") / "out"
    proc, terminal = run_on_a_terminal("run", "--out", str(out))
    return proc, out, terminal


@pytest.mark.slow
def test_default_suite_runs_and_writes_everything(default_run):
    proc, out, _ = default_run
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == {"results.jsonl", "token_ids.jsonl", "summary.json", "summary.csv", "report.md",
                                             "run.json"}
    summary = json.loads((out / "summary.json").read_text())
    assert {r["modality"] for r in summary["rows"]} >= {"text", "image", "audio", "video"}
    tokenizers = {r["tokenizer"] for r in summary["rows"]}
    assert {"bytes", "tiktoken:cl100k_base", "tiktoken:o200k_base"} <= tokenizers
    assert any(t.startswith("hf:") for t in tokenizers)
    for row in summary["rows"]:
        assert SUMMARY_KEYS <= set(row)
        assert row["compression"] == row["raw_bytes"] / row["tokens"]
    assert summary["provenance"]["versions"]["tiktoken"]
    assert all(t["device"] == "cpu" for t in summary["tokenizers"].values() if t["modality"] == "text")
    assert "## Image" in (out / "report.md").read_text() and "T / input" in (out / "report.md").read_text()
    assert len(summary["datasets"]["udhr"]["content_sha256"]) == 64
    assert {"udhr-lines", "captioned", "captions"} <= set(summary["datasets"])  # records in JSONL.gz and a tar
    assert summary["tokenizers"]["tiktoken:o200k_base"]["sha256"].startswith("446a9538")
    assert summary["units"]["compression"].startswith("bytes/token")
    with (out / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(summary["rows"]) and SUMMARY_KEYS <= set(rows[0])
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert all(RESULT_KEYS <= set(r) for r in results)
    numbers = {k for r in results for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    assert numbers <= set(summary["units"]), numbers - set(summary["units"])  # every number in a row has its unit
    assert len(results) == sum(r["samples"] for r in summary["rows"])
    report = (out / "report.md").read_text()
    assert "## Text" in report and "Token premium" in report and "bytes/token" in report
    assert "tiktoken:o200k_base" in proc.stdout  # the summary table is printed


def test_sums_in_summary_match_results(default_run):
    _, out, _ = default_run
    summary = json.loads((out / "summary.json").read_text())
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    for row in summary["rows"]:
        mine = [r for r in results if (r["dataset"], r["tokenizer"]) == (row["dataset"], row["tokenizer"])]
        assert row["raw_bytes"] == sum(r["raw_bytes"] for r in mine)
        assert row["tokens"] == sum(r["tokens"] for r in mine)


def test_token_premium_is_relative_to_english(default_run):
    _, out, _ = default_run
    summary = json.loads((out / "summary.json").read_text())
    row = next(r for r in summary["rows"] if r["dataset"] == "udhr" and r["tokenizer"] == "tiktoken:cl100k_base")
    langs = row["languages"]
    assert len(langs) >= 12 and langs["eng"]["token_premium"] == 1.0
    assert langs["hin"]["token_premium"] == langs["hin"]["tokens"] / langs["eng"]["tokens"] > 3


def test_non_empty_out_dir_needs_force(default_run, tmp_path):
    _, out, _ = default_run
    suite = tmp_path / "suite.toml"  # any suite: the folder is checked, not what would be written there
    suite.write_text(f'tokenizers = ["bytes"]\n[[datasets]]\nname = "x"\nmodality = "text"\npaths = ["{UDHR}"]\n')
    proc = cli("run", str(suite), "--out", str(out))
    assert proc.returncode == 2
    assert "not empty; pass --force" in proc.stderr and "Traceback" not in proc.stderr


def test_measure_table_and_json():
    proc = cli("measure", "--tokenizer", "tiktoken:cl100k_base", "-t", "bytes", str(UDHR / "eng.txt"))
    assert proc.returncode == 0, proc.stderr
    assert "eng.txt" in proc.stdout and "C (bytes/token)" in proc.stdout
    proc = cli("measure", "--tokenizer", "tiktoken:cl100k_base", "--json", str(UDHR / "eng.txt"))
    data = json.loads(proc.stdout)
    assert data["results"][0]["tokens"] == data["summary"][0]["tokens"] > 0


@pytest.fixture
def bad_inputs(tmp_path):
    tmp_path = tmp_path / "inputs"
    tmp_path.mkdir()
    good = tmp_path / "good.txt"
    good.write_text("A perfectly good sentence.\n")
    (tmp_path / "invalid.txt").write_bytes(b"caf\xe9 au lait\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    return tmp_path


def test_bad_samples_are_errors_and_the_rest_is_measured(bad_inputs):
    proc = cli("measure", "-t", "tiktoken:o200k_base", "--json", str(bad_inputs), str(bad_inputs / "missing.txt"))
    assert proc.returncode == 1
    rows = {Path(r["sample"]).name: r for r in json.loads(proc.stdout)["results"]}
    assert rows["good.txt"]["error"] is None and rows["good.txt"]["tokens"] > 0
    assert "not valid utf-8 text: byte 0xe9 at offset 3" in rows["invalid.txt"]["error"]
    assert "empty file" in rows["empty.txt"]["error"]
    assert "cannot read" in rows["dangling.txt"]["error"]
    assert "no such file or directory" in rows["missing.txt"]["error"]
    for row in rows.values():
        assert row["error"] is None or "\n" not in row["error"]


def test_a_named_encoding_decodes_latin1(bad_inputs):
    proc = cli("measure", "-t", "bytes", "--encoding", "latin-1", "--json", str(bad_inputs / "invalid.txt"))
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["results"][0]["raw_bytes"] == len("café au lait\n".encode())


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file(bad_inputs):
    locked = bad_inputs / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    proc = cli("measure", "-t", "bytes", "--json", str(locked))
    assert proc.returncode == 1 and "Permission denied" in proc.stdout


def test_run_with_failures_writes_all_results_and_exits_1(bad_inputs, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["bytes", "tiktoken:cl100k_base"]\n[[datasets]]\nname = "mixed"\n'
                     f'modality = "text"\npaths = ["{bad_inputs}"]\n')
    out = tmp_path / "out"
    proc = cli("run", str(suite), "--out", str(out))
    assert proc.returncode == 1
    assert "failed" in proc.stderr
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(results) == 2 * 4 and sum(r["error"] is None for r in results) == 2
    summary = json.loads((out / "summary.json").read_text())
    assert all(r["errors"] == 3 and r["samples"] == 4 for r in summary["rows"])
    assert "Failed samples" in (out / "report.md").read_text()


@pytest.mark.parametrize("content, message", [
    ("this is = not toml [", "not a readable suite file"),
    ('tokenizers = ["bytes"]\n', "needs at least one [[datasets]]"),
    ('tokenizers = ["bytes"]\n[[datasets]]\nname = "x"\nmodality = "text"\n', "missing required key 'paths'"),
    ('tokenizers = ["bytes"]\n[[datasets]]\nname = "x"\nmodality = "smell"\npaths = ["a"]\n', "unknown modality 'smell'"),
    ('tokenizers = ["bytes"]\nbogus = 1\n[[datasets]]\nname = "x"\nmodality = "text"\npaths = ["a"]\n', "unknown key(s) bogus"),
    ('tokenizers = ["tiktokn:x"]\n[[datasets]]\nname = "x"\nmodality = "text"\npaths = ["a"]\n', "did you mean: tiktoken"),
])
def test_malformed_suite_is_a_one_line_error(tmp_path, content, message):
    suite = tmp_path / "suite.toml"
    suite.write_text(content)
    proc = cli("run", str(suite), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert message in proc.stderr and str(suite) in proc.stderr or "tiktokn" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unknown_tokenizer_exit_2_with_suggestion():
    proc = cli("measure", "-t", "tiktoken:o200k_bse", str(UDHR / "eng.txt"))
    assert proc.returncode == 2 and "did you mean: o200k_base" in proc.stderr
    proc = cli("measure", "-t", "sentencepeice:x.model", str(UDHR / "eng.txt"))
    assert proc.returncode == 2 and "unknown tokenizer 'sentencepeice'" in proc.stderr


def test_missing_suite_file():
    proc = cli("run", "no-such-suite.toml")
    assert proc.returncode == 2 and "no-such-suite.toml: no such suite file" in proc.stderr


def test_list_shows_families_options_and_availability():
    proc = cli("list")
    assert proc.returncode == 0
    for family in ("bytes", "tiktoken", "hf", "sp"):
        assert f"{family}  [text]  available" in proc.stdout
    assert "encoding: str, default 'cl100k_base' (the :argument)" in proc.stdout


def test_help_has_examples_and_python_m_works():
    proc = subprocess.run([sys.executable, "-m", "compressbench", "run", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "examples:" in proc.stdout and "--device" in proc.stdout


TEXT_SUITE = ('tokenizers = ["bytes", "tiktoken:o200k_base", "hf:{root}/fixtures/tokenizers/udhr-bpe.json"]\n'
              '[[datasets]]\nname = "udhr"\nmodality = "text"\npaths = ["{root}/fixtures/text", "{root}/fixtures/corpus/udhr-openings.jsonl.gz"]\n')


@pytest.mark.parametrize("argv", [["--help"], ["run", "{tmp}/text.toml", "--out", "{tmp}/o", "--device", "auto"]])
def test_help_and_text_runs_never_import_torch(tmp_path, argv):
    (tmp_path / "text.toml").write_text(TEXT_SUITE.replace("{root}", str(ROOT)))
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code = (
        "import sys\nfrom compressbench.cli import main\n"
        f"try:\n    code = main({argv!r})\nexcept SystemExit as e:\n    code = e.code\n"
        "heavy = sorted(m for m in ('torch', 'torchaudio', 'timm', 'av') if m in sys.modules)\n"
        "print('HEAVY', heavy, 'EXIT', code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "HEAVY [] EXIT 0" in proc.stdout, proc.stdout[-500:] + proc.stderr[-2000:]


def test_cuda_requested_without_gpu_is_a_clear_error_for_text():
    """Text BPE runs on the CPU whatever --device says; an unknown device is refused."""
    proc = cli("measure", "-t", "bytes", "--device", "tpu", str(UDHR / "eng.txt"))
    assert proc.returncode == 2 and "unknown device 'tpu'" in proc.stderr


@pytest.mark.parametrize("dataset, message", [
    ('language = 5', "'language' must be a string"),
    ('reference_language = ["eng"]', "'reference_language' must be a string"),
    ('encoding = "klingon"', "unknown text encoding 'klingon'"),
])
def test_suite_values_are_checked_when_it_loads(tmp_path, dataset, message):
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["bytes"]\n[[datasets]]\nname = "x"\nmodality = "text"\npaths = ["a"]\n{dataset}\n')
    proc = cli("run", str(suite), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_non_finite_and_non_positive_numbers_are_refused(tmp_path):
    proc = cli("measure", "-t", "codec:frame_rate=nan,codebooks=4", "README.md")
    assert proc.returncode == 2 and "expected a finite number, got 'nan'" in proc.stderr
    proc = cli("measure", "-t", "bytes", "--timeout", "-1", "README.md")
    assert proc.returncode == 2 and "must be a positive number" in proc.stderr


def test_progress_bar_only_on_a_terminal(default_run):
    """stderr on a pseudo-terminal gets tqdm's bar for a run over a second (the default run's stderr is one)."""
    proc, _, seen = default_run
    assert proc.returncode == 0
    assert b"sample" in seen and b"%|" in seen, seen[-500:]
