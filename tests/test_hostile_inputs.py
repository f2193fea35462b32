"""The command line against a hostile user: every bad input is one line and exit 2 (or an error row), no
traceback, nothing overwritten without --force, nothing created before the configuration is known good."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from hypothesis import example, given, settings
from hypothesis import strategies as st

from compressbench.data.discover import unicode_name
from tests.conftest import FIXTURES, UDHR, cli

NOT_UTF8 = b"\xff\xfe not utf-8 \x80\n"


def one_line_error(proc, *words: str) -> str:
    """Exit 2, one line on stderr, no traceback; returns the line."""
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr
    return proc.stderr


def _suite(folder: Path, *, tokenizers: str = '"bytes"', modality: str = "text", paths: str = '"texts"') -> Path:
    path = folder / "suite.toml"
    path.write_text(f"tokenizers = [{tokenizers}]\n[[datasets]]\nname = \"d\"\nmodality = \"{modality}\"\n"
                    f"paths = [{paths}]\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def text_run(tmp_path_factory) -> Path:
    """A small finished run (one shard of one, so that merge takes it)."""
    folder = tmp_path_factory.mktemp("run")
    (folder / "texts").mkdir()
    for lang in ("eng", "fra"):
        shutil.copy(UDHR / f"{lang}.txt", folder / "texts" / f"{lang}.txt")
    proc = cli("run", str(_suite(folder)), "--out", str(folder / "out"), "--shard", "1/1")
    assert proc.returncode == 0, proc.stderr
    return folder / "out"


@pytest.mark.parametrize("option", ["--batch-size 0", "--workers -1", "--timeout 0", "--max-file-bytes -1",
                                    "--workers many"])
def test_bad_numbers_are_one_line_usage_errors(option):
    one_line_error(cli("measure", "-t", "bytes", *option.split(), str(UDHR / "eng.txt")), option.split()[0])


def test_a_suite_that_is_not_utf8(tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_bytes(b'name = "' + NOT_UTF8 + b'"\n')
    one_line_error(cli("run", str(suite), "--out", str(tmp_path / "out")), str(suite), "not valid UTF-8")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("broken", ["summary.json", "results.jsonl"])
def test_run_files_that_are_not_utf8(text_run, tmp_path, broken):
    bad = tmp_path / "bad"
    shutil.copytree(text_run, bad)
    (bad / broken).write_bytes(NOT_UTF8)
    commands = [("report", str(bad)), ("merge", str(bad), "--out", str(tmp_path / "merged"))]
    if broken == "summary.json":
        commands.append(("compare", str(text_run), str(bad)))
        plan = tmp_path / "plan.toml"
        plan.write_text('[data.text]\namount = "1 TB"\n', encoding="utf-8")
        commands.append(("predict", "--summary", str(bad), "--plan", str(plan)))
    else:
        commands.append(("run", str(text_run.parent / "suite.toml"), "--out", str(bad), "--resume",
                         "--shard", "1/1"))
        # compare reads the rows only to name the samples of a dataset whose content differs: not here
        assert cli("compare", str(text_run), str(bad)).returncode == 0
    for argv in commands:
        one_line_error(cli(*argv), f"{bad / broken}", "not valid UTF-8")


@pytest.mark.parametrize("damage", [{"counts": []}, {"ids": "12"}, {"sample": None}])
def test_a_damaged_token_ids_line_is_a_one_line_error(text_run, tmp_path, damage):
    bad = tmp_path / "bad"
    shutil.copytree(text_run, bad)
    lines = (bad / "token_ids.jsonl").read_text(encoding="utf-8").splitlines()
    line = {**json.loads(lines[0]), **damage}
    if damage.get("sample", "") is None:
        del line["sample"]
    (bad / "token_ids.jsonl").write_text("\n".join([json.dumps(line), *lines[1:]]) + "\n", encoding="utf-8")
    merged = tmp_path / "merged"  # an earlier merge, which a failed one with --force must leave as it was
    shutil.copytree(text_run, merged)
    before = {p.name: p.read_bytes() for p in merged.iterdir()}
    for argv in (("merge", str(bad), "--out", str(merged), "--force"),
                 ("run", str(text_run.parent / "suite.toml"), "--out", str(bad), "--resume", "--shard", "1/1")):
        one_line_error(cli(*argv), f"{bad / 'token_ids.jsonl'}:1:", "the file is damaged")
    assert {p.name: p.read_bytes() for p in merged.iterdir()} == before


def test_a_failed_merge_leaves_no_new_folder(text_run, tmp_path):
    """A damaged token_ids.jsonl line is met once --out is made: a folder the merge made goes with it."""
    bad = tmp_path / "bad"
    shutil.copytree(text_run, bad)
    with (bad / "token_ids.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"dataset": "d"}\n')
    one_line_error(cli("merge", str(bad), "--out", str(tmp_path / "new" / "merged")), "the file is damaged")
    assert not (tmp_path / "new").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a device that is always full")
def test_a_merge_on_a_full_disk_is_a_one_line_error(text_run, tmp_path):
    """The merged token_ids.jsonl written where the disk is full (/dev/full): one line naming --out and
    the cause, and an earlier merge there left as it was (the merged results.jsonl written first goes too)."""
    merged = tmp_path / "merged"
    shutil.copytree(text_run, merged)
    before = {p.name: p.read_bytes() for p in merged.iterdir()}
    (merged / ".token_ids.jsonl.merging").symlink_to("/dev/full")
    one_line_error(cli("merge", str(text_run), "--out", str(merged), "--force"), str(merged), "No space left")
    assert {p.name: p.read_bytes() for p in merged.iterdir()} == before


def test_a_merge_that_fails_writing_its_summary_leaves_the_earlier_merge_whole(text_run, tmp_path, monkeypatch,
                                                                                capsys):
    """The disk fills while the summary is written, after the merged rows are complete: the folder keeps
    the earlier merge's rows and summary together (not new rows beside an old summary), and nothing hidden."""
    import errno

    from compressbench.cli import main
    from compressbench.reports import summary

    merged = tmp_path / "merged"
    shutil.copytree(text_run, merged)
    with (merged / "results.jsonl").open("a", encoding="utf-8") as fh:
        fh.write("\n")  # a blank line: this copy differs from what a new merge writes
    before = {p.name: p.read_bytes() for p in merged.iterdir()}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(summary, "write_summary", full)
    assert main(["merge", str(text_run), "--out", str(merged), "--force"]) == 2
    assert "No space left" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in merged.iterdir()} == before
    monkeypatch.undo()
    assert main(["merge", str(text_run), "--out", str(merged), "--force"]) == 0  # and it merges once there is room
    assert (merged / "results.jsonl").read_bytes() != before["results.jsonl"]
    assert sorted(p.name for p in merged.iterdir()) == sorted(before)


def test_a_run_that_fails_writing_its_summary_names_the_file_and_leaves_nothing_hidden(text_run, tmp_path,
                                                                                       monkeypatch, capsys):
    """The summary is written in a hidden folder and moved into place: a full disk there is one line naming
    --out's summary.json (not the hidden folder, gone by then), and a folder a killed run left is removed."""
    import errno

    from compressbench.cli import main
    from compressbench.reports import summary

    out = tmp_path / "out"
    (out / ".summary-killed").mkdir(parents=True)

    def full(rows, folder):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "summary.json"))

    monkeypatch.setattr(summary, "write_summary", full)
    assert main(["run", str(text_run.parent / "suite.toml"), "--out", str(out), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{out / 'summary.json'}: No space left on device" in err, err
    assert not list(out.glob(".summary-*")) and not (out / "summary.json").exists()


def test_a_run_on_a_full_disk_is_a_one_line_error(text_run, tmp_path):
    """results.jsonl written where the disk is full (/dev/full): one line naming the file, the cause and
    what to do next, exit 2 (was a traceback)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").symlink_to("/dev/full")
    line = one_line_error(cli("run", str(text_run.parent / "suite.toml"), "--out", str(out), "--force"),
                          f"{out / 'results.jsonl'}: No space left on device", "--resume")
    assert line.startswith("compressbench: error: ")


def test_report_refuses_to_overwrite_without_force(text_run, tmp_path):
    out = tmp_path / "report.md"
    out.write_text("my notes", encoding="utf-8")
    one_line_error(cli("report", str(text_run), "--out", str(out)), "exists; pass --force")
    assert out.read_text(encoding="utf-8") == "my notes"
    assert cli("report", str(text_run), "--out", str(out), "--force").returncode == 0
    assert out.read_text(encoding="utf-8").startswith("# ")
    one_line_error(cli("report", str(text_run), "--out", str(tmp_path)), "is a directory")


def test_fit_refuses_to_overwrite_without_force(tmp_path):
    csv = FIXTURES / "published" / "li2024_connected_vision_eval_loss.csv"
    args = ["fit", str(csv), "--form", "loglinear", "--target", "eval_loss", "--flops", "pairs", "--bootstrap", "0"]
    fit = tmp_path / "FIT.json"
    fit.write_text("{}", encoding="utf-8")
    one_line_error(cli(*args, "--out", str(fit)), "exists; pass --force")
    assert fit.read_text(encoding="utf-8") == "{}"
    report = tmp_path / "rep"
    report.mkdir()
    (report / "mine.txt").write_text("keep", encoding="utf-8")
    one_line_error(cli(*args, "--report", str(report)), "--report", "not empty; pass --force")
    proc = cli(*args, "--out", str(fit), "--report", str(report), "--force")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(fit.read_text(encoding="utf-8"))["form"] == "loglinear"


def test_a_configuration_error_creates_nothing(tmp_path):
    (tmp_path / "texts").mkdir()
    shutil.copy(UDHR / "eng.txt", tmp_path / "texts" / "eng.txt")
    out = tmp_path / "out"
    suite = _suite(tmp_path, modality="image")
    one_line_error(cli("run", str(suite), "--out", str(out)), "no image tokenizer")
    assert not out.exists()
    proc = cli("run", str(_suite(tmp_path)), "--out", str(out))  # corrected: not refused as "not empty"
    assert proc.returncode == 0, proc.stderr


def test_an_empty_directory_is_an_error_row(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".hidden").write_text("skipped", encoding="utf-8")
    proc = cli("measure", "-t", "bytes", "--json", str(tmp_path / "empty"), str(UDHR / "eng.txt"))
    assert proc.returncode == 1, proc.stderr
    errors = [r["error"] for r in json.loads(proc.stdout)["results"]]
    assert errors[1] is None and "the directory holds no file" in errors[0]


def test_names_with_line_breaks_stay_on_one_line(tmp_path):
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a\nb.txt").write_text("", encoding="utf-8")  # empty: an error row naming it
    (tmp_path / "texts" / "ok.txt").write_text("hello", encoding="utf-8")
    proc = cli("run", str(_suite(tmp_path)), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert "texts/a\\nb.txt: empty file" in proc.stderr and proc.stderr.count("\n") == 2  # the count, the sample
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "- texts/a\\nb.txt: empty file" in report
    table = cli("measure", "-t", "bytes", str(tmp_path / "texts")).stdout.splitlines()
    assert len(table) == 8  # header, rule, 2 samples, blank, header, rule, 1 tokenizer
    assert [r["sample"] for r in map(json.loads, (tmp_path / "out" / "results.jsonl").open())] == [
        "texts/a\nb.txt", "texts/ok.txt"]  # the data keeps the real name


def test_report_of_a_run_where_everything_failed_is_quiet(tmp_path):
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "empty.txt").write_bytes(b"")
    assert cli("run", str(_suite(tmp_path)), "--out", str(tmp_path / "out")).returncode == 1
    for fmt in ("md", "html"):
        proc = cli("report", str(tmp_path / "out"), "--format", fmt)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their permissions")
def test_an_unreadable_directory_is_an_error_row(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("hidden from us", encoding="utf-8")
    locked.chmod(0)
    try:
        proc = cli("measure", "-t", "bytes", "--json", str(locked))
    finally:
        locked.chmod(0o700)
    assert proc.returncode == 1
    assert "cannot read directory (Permission denied)" in json.loads(proc.stdout)["results"][0]["error"]


@pytest.mark.parametrize("value", ["0%", "101%", "0", "-3", "ten", "%"])
def test_a_bad_sample_size_is_a_one_line_error_that_gives_the_range(value, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["bytes"]\n[[datasets]]\nname = "x"\nmodality = "text"\npaths = ["{UDHR / "eng.txt"}"]\n')
    proc = cli("run", str(suite), "--sample", value, "--out", str(tmp_path / "out"))
    one_line_error(proc, f"--sample {value!r}", "at least 1", "at most 100%")
    assert not (tmp_path / "out").exists()


def test_a_file_name_that_is_not_utf8_is_measured_under_an_escaped_id(tmp_path):
    (tmp_path / "texts").mkdir()
    shutil.copy(UDHR / "eng.txt", tmp_path / "texts" / "good.txt")
    (tmp_path / os.fsdecode(b"texts/bad\xff.txt")).write_bytes((UDHR / "fra.txt").read_bytes())
    suite = _suite(tmp_path, tokenizers='"bytes", "tiktoken:cl100k_base"')
    suite.write_text(suite.read_text() + 'language = "{stem}"\n', encoding="utf-8")
    out = tmp_path / "out"
    proc = cli("run", str(suite), "--out", str(out))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {(r["sample"], r["language"]) for r in rows} == {("texts/bad\\xff.txt", "bad\\xff"), ("texts/good.txt", "good")}
    fra = next(r for r in rows if r["sample"] == "texts/bad\\xff.txt" and r["tokenizer"] == "bytes")
    assert fra["raw_bytes"] == (UDHR / "fra.txt").stat().st_size  # the file itself was read
    results = out / "results.jsonl"  # cut after the first row, then resume: the escaped id matches again
    results.write_text(results.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")
    whole = json.loads((out / "summary.json").read_text())["datasets"]
    assert cli("run", str(suite), "--out", str(out), "--resume").returncode == 0
    assert json.loads((out / "summary.json").read_text())["datasets"] == whole


def test_lone_surrogates_in_a_jsonl_record_are_an_error_row_and_an_escaped_label(tmp_path):
    lines = ['{"text": "hello there", "lang": "\\udcff"}', '{"text": "general kenobi", "lang": "en"}',
             '{"text": "lone \\ud800 in text", "lang": "en"}', '{"\\ud800key": "no text field", "lang": "en"}']
    (tmp_path / "texts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    suite = _suite(tmp_path, tokenizers='"bytes", "tiktoken:cl100k_base"', paths='"texts.jsonl"')
    suite.write_text(suite.read_text() + 'language = "{field:lang}"\n', encoding="utf-8")
    out = tmp_path / "out"
    proc = cli("run", str(suite), "--out", str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8 and {r["language"] for r in rows if r["sample"] != "texts.jsonl#3"} == {"\\xff", "en"}
    bad = {r["sample"]: r["error"] for r in rows if r["error"]}
    assert sorted(r["sample"] for r in rows if r["error"]) == ["texts.jsonl#2"] * 2 + ["texts.jsonl#3"] * 2
    assert "lone surrogate ('\\ud800' at character 5)" in bad["texts.jsonl#2"]
    assert "its fields: \\ud800key, lang" in bad["texts.jsonl#3"]  # the key name, escaped
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "texts.jsonl#2" in report and "texts.jsonl#3" in report
    for json_flag in ((), ("--json",)):
        proc = cli("measure", str(tmp_path / "texts.jsonl"), "-t", "bytes", *json_flag)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr


@settings(max_examples=300, deadline=None)
@example("\\xff", "\udcff")  # a real backslash, x, f, f against the byte 0xff
@given(st.text(alphabet=st.sampled_from(["a", "x", "f", "0", "\\", "é", "\udcff", "\udce9", "\ud800"]), max_size=8),
       st.text(alphabet=st.sampled_from(["a", "x", "f", "0", "\\", "é", "\udcff", "\udce9", "\ud800"]), max_size=8))
def test_escaped_names_are_utf8_and_never_collide(a, b):
    for name in (a, b):
        unicode_name(name).encode("utf-8")
    assert (unicode_name(a) == unicode_name(b)) == (a == b)


def test_a_suite_in_a_folder_whose_name_is_not_utf8_runs_and_reports(tmp_path):
    folder = tmp_path / os.fsdecode(b"suite\xff")
    (folder / "texts").mkdir(parents=True)
    shutil.copy(UDHR / "eng.txt", folder / "texts" / "eng.txt")
    out = tmp_path / "out"
    proc = cli("run", str(_suite(folder)), "--out", str(out))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    for fmt in ("md", "html", "csv", "json"):
        proc = cli("report", str(out), "--format", fmt, "--out", str(tmp_path / f"r.{fmt}"))
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    source = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["provenance"]["suite_source"]
    assert os.fsencode(source).endswith(b"suite\xff/suite.toml")  # the path's own bytes, read back


def test_a_report_of_rows_whose_sample_id_holds_a_lone_surrogate(text_run, tmp_path):
    """A hand-edited results.jsonl whose sample id is a lone surrogate (a JSON escape with no pair): the report
    still draws the samples its figures show."""
    edited = tmp_path / "edited"
    shutil.copytree(text_run, edited)
    rows = [json.loads(line) for line in (edited / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[0]["sample"] = "texts/eng\udcff.txt"
    (edited / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    proc = cli("report", str(edited), "--format", "html")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "<svg" in proc.stdout


def test_an_out_folder_inside_the_data_is_refused(tmp_path):
    """Its report, summary and rows would be measured as samples of the dataset that reads the folder."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("hello", encoding="utf-8")
    suite = _suite(tmp_path, paths='"data"')
    one_line_error(cli("run", str(suite), "--out", str(data / "out")), f"--out {data / 'out'} lies inside data",
                   "dataset 'd'")
    assert not (data / "out").exists()
    (tmp_path / "elsewhere").mkdir()
    (data / "link").symlink_to(tmp_path / "elsewhere")  # listing follows it: refused as written
    one_line_error(cli("run", str(suite), "--out", str(data / "link")), "lies inside data")
    # a hidden folder is never listed: the run's files there are not samples
    assert cli("run", str(suite), "--out", str(data / ".cb-out")).returncode == 0


@pytest.mark.parametrize("name", ["x\ny", "tab\there", " "])
def test_a_dataset_name_that_would_break_a_report_is_refused(tmp_path, name):
    (tmp_path / "suite.toml").write_text(f'tokenizers = ["bytes"]\n[[datasets]]\nname = {json.dumps(name)}\n'
                                         'modality = "text"\npaths = ["x"]\n', encoding="utf-8")
    one_line_error(cli("run", str(tmp_path / "suite.toml"), "--out", str(tmp_path / "out")),
                   "must be printable text")
