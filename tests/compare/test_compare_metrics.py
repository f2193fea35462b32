"""`compare --max-drop METRIC=PCT`: every metric's direction, gates on any of them, on real runs."""

from __future__ import annotations

import json

import pytest

from compressbench.cli import main
from compressbench.reports.compare import METRICS, Gates, compare
from compressbench.reports.directions import DIRECTIONS, gateable
from compressbench.reports.summary import read_summary

HIGHER = ("compression", "raw_mb_per_s", "shannon_efficiency", "renyi_efficiency", "vocab_utilisation",
          "input_coverage", "input_frame_share", "input_psnr_db", "input_ssim", "input_energy_share")
LOWER = ("tokens", "token_premium", "errors", "fairness_gini", "bits_per_byte", "continued_word_rate")
ALLOW = ("--allow-tokenizer-change", "hf:*")


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(("key", "higher"), [(k, True) for k in HIGHER] + [(k, False) for k in LOWER])
def test_every_metric_knows_its_direction(key, higher):
    metric = METRICS[key]
    assert metric.higher_is_better is higher
    assert metric.worse_pct(2.0, 1.9) == pytest.approx(5.0 if higher else -5.0)  # fell by 5%
    assert metric.worse_pct(2.0, 2.1) == pytest.approx(-5.0 if higher else 5.0)  # rose by 5%


def test_the_table_is_the_whole_list():
    assert set(DIRECTIONS) == set(HIGHER) | set(LOWER)
    assert "errors" not in gateable() and set(gateable()) == set(DIRECTIONS) - {"errors"}


def _regressions(out: str) -> set[tuple[str, str | None, str]]:
    return {(r["tokenizer"], r["language"], r["metric"]) for r in json.loads(out)["regressions"]}


def test_max_drop_compression_is_the_compression_gate(capsys, base_run, latin_run):
    rc, new_form, _ = cli(capsys, "compare", base_run, latin_run, *ALLOW, "--max-drop", "compression=5",
                          "--max-compression-drop", "off", "--json")
    rc_old, old_form, _ = cli(capsys, "compare", base_run, latin_run, *ALLOW, "--max-compression-drop", "5", "--json")
    assert rc == rc_old == 1
    assert _regressions(new_form) == _regressions(old_form) != set()
    # --max-drop replaces the dedicated gate of the same metric (here: the default 1%)
    rc, out, err = cli(capsys, "compare", base_run, latin_run, *ALLOW, "--max-drop", "compression=100", "--json")
    assert rc == 0, err
    gates = json.loads(out)["gates"]
    assert gates["max_drop"] == {"compression": 100.0}
    assert gates["max_compression_drop"] == 100.0  # the gate that applied, not the overridden default


def test_max_drop_gates_token_premium_per_language(capsys, base_run, latin_run):
    base, new = read_summary(base_run), read_summary(latin_run)
    expected = set()  # computed here from the two summaries: premium up by more than 10%
    for b, n in zip(base["rows"], new["rows"]):
        for lang, value in (b.get("languages") or {}).items():
            before, after = value["token_premium"], n["languages"][lang]["token_premium"]
            if before and (after - before) / before * 100 > 10:
                expected.add((b["tokenizer"], lang, "token_premium"))
    rc, out, err = cli(capsys, "compare", base_run, latin_run, *ALLOW, "--max-compression-drop", "off",
                       "--max-drop", "token_premium=10", "--json")
    assert expected and {(t, lang) for t, lang, _ in expected} >= {("hf:tok.json", "hin")}
    assert rc == 1 and _regressions(out) == expected
    assert "token premium (ratio)" in err and "gate 10%" in err


def _with(summary: dict, values: dict[str, float], languages: dict[str, float] | None = None) -> dict:
    """A real run's summary with ledger or fidelity values set on every row (and language)."""
    summary = json.loads(json.dumps(summary))
    for row in summary["rows"]:
        row.update(values)
        for lang in (row.get("languages") or {}).values():
            lang.update(languages or {})
    return summary


@pytest.mark.parametrize("key", [k for k in gateable() if k not in ("compression", "tokens", "raw_mb_per_s",
                                                                     "token_premium")])
def test_a_three_percent_worsening_fails_a_two_percent_gate(capsys, base_run, tmp_path, key):
    base = read_summary(base_run)
    worse = 0.5 * (0.97 if METRICS[key].higher_is_better else 1.03)
    better = 0.5 * (1.03 if METRICS[key].higher_is_better else 0.97)
    for name, value in (("base", 0.5), ("worse", worse), ("better", better)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(_with(base, {key: value})), encoding="utf-8")
    rc, out, err = cli(capsys, "compare", tmp_path / "base", tmp_path / "worse", "--max-drop", f"{key}=2", "--json")
    regressions = json.loads(out)["regressions"]
    assert rc == 1 and len(regressions) == len(base["rows"]) and {r["metric"] for r in regressions} == {key}
    assert all(r["worse_pct"] == pytest.approx(3.0) for r in regressions)
    assert err.count(f"{METRICS[key].header}") == len(base["rows"])
    for other, gate in (("worse", "4"), ("better", "0")):
        rc, _, err = cli(capsys, "compare", tmp_path / "base", tmp_path / other, "--max-drop", f"{key}={gate}")
        assert rc == 0, err


def test_new_metrics_are_shown_and_gated_per_language(capsys, base_run, tmp_path):
    base = read_summary(base_run)
    for name, util in (("base", 0.20), ("new", 0.18)):
        (tmp_path / name).mkdir()
        summary = _with(base, {"input_psnr_db": 40.0 if name == "base" else 41.0}, {"vocab_utilisation": util})
        (tmp_path / name / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    rc, out, err = cli(capsys, "compare", tmp_path / "base", tmp_path / "new", "--max-drop", "vocab_utilisation=5")
    assert rc == 1
    languages = sum(len(r.get("languages") or {}) for r in base["rows"])
    assert err.count("vocabulary utilisation (share)") == languages and "10.00% worse; gate 5%" in err
    assert "input PSNR (dB): baseline → new (Δ%)" in out and "40.00 → 41.00 (+2.50%)" in out
    assert "vocabulary utilisation worse by ≤ 5%" in out  # the gates line


def test_a_metric_only_one_run_reports_is_noted(capsys, base_run, tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps(_with(read_summary(base_run), {"input_ssim": 0.9})),
                                           encoding="utf-8")
    rc, out, err = cli(capsys, "compare", base_run, tmp_path, "--max-drop", "input_ssim=1")
    assert rc == 0, err
    assert "note: input_ssim is reported only by the new run: not gated (--max-drop input_ssim)" in out


@pytest.mark.parametrize(("value", "message"), [
    ("psnr=1", "--max-drop: unknown metric 'psnr'; known: compression, tokens, raw_mb_per_s"),
    ("errors=1", "failed samples are always gated"),
    ("1", "--max-drop '1': write METRIC=PCT, e.g. --max-drop compression=1"),
    ("input_ssim=x", "--max-drop 'input_ssim=x': expected a percentage"),
    ("input_ssim=-1", "a gate must be a percentage >= 0"),
    ("input_psnr_db=1", "--max-drop input_psnr_db: neither run reports input_psnr_db, so there is nothing to gate"),
])
def test_bad_gates_are_one_line_errors(capsys, base_run, base_run_again, value, message):
    rc, out, err = cli(capsys, "compare", base_run, base_run_again, "--max-drop", value)
    assert rc == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert message in err
    if value == "psnr=1":
        assert all(k in err for k in ("input_psnr_db", "fairness_gini", "continued_word_rate"))


def test_gates_object_takes_max_drop(base_run, latin_run):
    base, new = read_summary(base_run), read_summary(latin_run)
    cmp = compare(base, new, gates=Gates(None, None, None, (("tokens", 5.0),)), allow_tokenizer_change=("*",))
    assert cmp.regressions and {r.change.metric.key for r in cmp.regressions} == {"tokens"}
    assert all(r.change.worse_pct > 5 for r in cmp.regressions)
    assert cmp.gates.describe()[1] == "N increase ≤ 5%"


def test_compare_help_names_max_drop(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    assert "--max-drop METRIC=PCT" in capsys.readouterr().out


