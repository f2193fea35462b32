"""A plugin's own counts survive every path: a run, --resume, shards + merge and the Ray engine."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

from tests.conftest import UDHR, cli
from tests.plugins.lines_plugin import install

TIMING = {"seconds", "decode_seconds", "raw_mb_per_s", "tokens_per_s"}
LANGUAGES = ("eng", "fra", "hin", "cmn", "rus", "yor")


def _rows(out):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in json.loads((out / "summary.json").read_text())["rows"]]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """The plugin installed, a suite of six declarations, and a plain run of it."""
    root = tmp_path_factory.mktemp("plugin")
    env = install(root / "site")
    paths = ", ".join(f'"{UDHR / f"{lang}.txt"}"' for lang in LANGUAGES)
    suite = root / "suite.toml"
    suite.write_text(f'name = "plugin-counts"\ntokenizers = ["lines", "bytes"]\n\n[[datasets]]\nname = "udhr"\n'
                     f'modality = "text"\npaths = [{paths}]\nlanguage = "{{stem}}"\n')
    plain = root / "plain"
    proc = cli("run", str(suite), "--out", str(plain), env=env)
    assert proc.returncode == 0, proc.stderr
    return env, suite, plain


def _expected():
    """The counts, computed here from the files (independently of compressbench)."""
    texts = [(UDHR / f"{lang}.txt").read_text(encoding="utf-8") for lang in LANGUAGES]
    blank = sum(sum(1 for line in t.splitlines() if not line.strip()) for t in texts)
    longest = max(len(line) for t in texts for line in t.splitlines())
    tokens = sum(sum(1 for line in t.splitlines() if line.strip()) for t in texts)
    shares = [sum(1 for line in t.splitlines() if line.strip()) / len(t.splitlines()) for t in texts]
    return blank, longest, tokens, sum(shares) / len(shares)


def test_a_plain_run_aggregates_and_documents_the_plugin_counts(setup):
    _, _, plain = setup
    summary = json.loads((plain / "summary.json").read_text())
    row = next(r for r in summary["rows"] if r["tokenizer"] == "lines")
    blank, longest, tokens, share = _expected()
    assert (row["blank_lines"], row["longest_line"], row["tokens"]) == (blank, longest, tokens)
    assert row["full_line_share"] == pytest.approx(share, rel=1e-12)  # a mean over samples, not a sum
    assert summary["units"]["longest_line"] == "characters (the longest line of a sample)"
    assert "`blank_lines`: lines (empty lines, not tokens)" in (plain / "report.md").read_text()


def test_resume_keeps_the_plugin_counts(setup, tmp_path):
    env, suite, plain = setup
    out = tmp_path / "resumed"
    shutil.copytree(plain, out)
    lines = (out / "results.jsonl").read_text().splitlines(keepends=True)
    (out / "results.jsonl").write_text("".join(lines[:5]) + lines[5][:20])  # killed while writing row 6
    for name in ("summary.json", "summary.csv", "report.md"):
        (out / name).unlink()
    proc = cli("run", str(suite), "--resume", "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "summary.json").read_text())["provenance"]["resumed_rows"] == 5
    assert _rows(out) == _rows(plain)


def test_shards_merge_with_the_plugin_counts(setup, tmp_path):
    env, suite, plain = setup
    shards = [tmp_path / f"s{k}" for k in (1, 2)]
    for k, out in enumerate(shards, 1):
        proc = cli("run", str(suite), "--shard", f"{k}/2", "--out", str(out), env=env)
        assert proc.returncode == 0, proc.stderr
    merged = tmp_path / "merged"
    proc = cli("merge", *map(str, shards), "--out", str(merged), env=env)
    assert proc.returncode == 0, proc.stderr
    assert _rows(merged) == _rows(plain)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed: pip install 'compressbench[ray]'")
def test_the_ray_engine_keeps_the_plugin_counts(setup, tmp_path):
    env, suite, plain = setup
    out = tmp_path / "ray"
    proc = cli("run", str(suite), "--engine", "ray", "--workers", "1", "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _rows(out) == _rows(plain)


def test_an_undeclared_count_is_an_error_row_not_a_silent_loss(tmp_path):
    env = install(tmp_path / "site")
    source = tmp_path / "site" / "cblines" / "__init__.py"
    source.write_text(source.read_text().replace('"blank_lines": CountSpec("lines (empty lines, not tokens)"),', ""))
    sample = tmp_path / "s.txt"
    sample.write_text("a\n\nb\n")
    proc = cli("measure", "--tokenizer", "lines", "--json", str(sample), env=env)
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["results"][0]["error"]
    assert "reported count(s) blank_lines that its adapter does not declare" in error
