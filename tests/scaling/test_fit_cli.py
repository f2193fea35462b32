"""`compressbench fit` and `compressbench optimal` through the real console entry point."""

from __future__ import annotations

import hashlib
import json

import pytest

from compressbench.scaling.allocation import compute_optimal
from compressbench.scaling.laws import PUBLISHED

from tests.scaling.scaling_testkit import LI_CSV, assert_usage_error, cli, synthetic_runs

CONTRACT_KEYS = {"form", "parameters", "intervals", "diagnostics", "validation", "data_sha256"}
LI_ARGS = [LI_CSV, "--form", "hypothesis", "--target", "eval_loss",
           "--derive", "visual_tokens = pairs * (image_size // vit_patch) ** 2",
           "--tokens", "visual_tokens", "--params", "llm_params", "--log-terms", "vit_params"]


def test_hypothesis_fit_with_holdout_writes_fit_json_and_report(tmp_path):
    out, report = tmp_path / "FIT.json", tmp_path / "report"
    proc = cli("fit", *LI_ARGS, "--holdout", "pairs > 5000000", "--bootstrap", "50", "--seed", "7",
               "--out", out, "--report", report)
    assert proc.returncode == 0, proc.stderr
    assert "validation (holdout 'pairs > 5000000')" in proc.stdout
    fit = json.loads(out.read_text())
    assert CONTRACT_KEYS <= set(fit)
    assert fit["form"] == "hypothesis"
    assert list(fit["parameters"]) == ["intercept", "visual_tokens", "llm_params", "vit_params"]
    assert set(fit["intervals"]) == set(fit["parameters"])
    assert all(len(v) == 2 and v[0] < v[1] for v in fit["intervals"].values())
    assert {"r2", "rmse", "n", "warnings"} <= set(fit["diagnostics"])
    assert fit["diagnostics"]["n"] == 40  # fitted on the 40 rows with at most 5M pairs
    assert {"mae", "rmse", "max_error", "n"} <= set(fit["validation"])
    assert fit["validation"]["n"] == 40
    first = fit["validation"]["predictions"][0]  # data row 6: B/16, Vicuna-7B, 6M pairs
    assert first["row"] == 6 and first["observed"] == 2.062 and first["interval"][0] < first["interval"][1]
    assert fit["data_sha256"] == hashlib.sha256(LI_CSV.read_bytes()).hexdigest()
    assert fit["draws"]["resamples"] == 50 and fit["draws"]["seed"] == 7
    names = {p.name for p in report.iterdir()}
    assert "report.md" in names
    for stem in ("observed_vs_predicted", "target_vs_visual_tokens", "target_vs_llm_params", "target_vs_vit_params"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names, stem
    assert (report / "observed_vs_predicted.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (report / "report.md").read_text()
    assert "| vit_params |" in text and "Validation (held out" in text


def test_same_seed_same_intervals_and_no_validation_without_holdout(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        assert cli("fit", *LI_ARGS, "--bootstrap", "30", "--seed", "1", "--out", path).returncode == 0
    fa, fb = json.loads(a.read_text()), json.loads(b.read_text())
    assert fa["intervals"] == fb["intervals"]
    assert "validation" not in fa


@pytest.mark.slow
def test_chinchilla_fit_recovers_hoffmanns_law_and_feeds_optimal(tmp_path):
    csv = tmp_path / "runs.csv"
    synthetic_runs(PUBLISHED["hoffmann2022"], noise=0.005, seed=4).to_csv(csv, index=False)
    out = tmp_path / "FIT.json"
    proc = cli("fit", csv, "--form", "chinchilla", "--target", "loss", "--params", "params", "--flops", "flops",
               "--bootstrap", "20", "--out", out, "--report", tmp_path / "rep")
    assert proc.returncode == 0, proc.stderr
    fit = json.loads(out.read_text())
    assert list(fit["parameters"]) == ["E", "A", "B", "alpha", "beta"]
    law, p = PUBLISHED["hoffmann2022"], fit["parameters"]  # fitted back from 49 runs with 0.5% noise
    assert p["E"] == pytest.approx(law["E"], rel=0.02)
    assert p["alpha"] == pytest.approx(law["alpha"], rel=0.05)
    assert p["beta"] == pytest.approx(law["beta"], rel=0.05)
    assert p["A"] == pytest.approx(law["A"], rel=0.25)
    assert p["B"] == pytest.approx(law["B"], rel=0.25)
    assert fit["diagnostics"]["starts"] == 4500
    assert fit["derived"]["params_exponent"]["interval"] is not None
    opt = cli("optimal", "--fit", out, "--flops", "1e21", "--json")
    assert opt.returncode == 0, opt.stderr
    got = json.loads(opt.stdout)
    want = compute_optimal(fit["parameters"], 1e21)
    assert got["params_opt"] == pytest.approx(want.params)
    assert got["tokens_opt"] == pytest.approx(want.tokens)
    assert got["intervals"]["params_opt"][0] < got["params_opt"] < got["intervals"]["params_opt"][1]


@pytest.mark.parametrize("form, keys", [("loglinear", ["intercept", "slope"]),
                                        ("kaplan", ["N_c", "D_c", "alpha_N", "alpha_D"])])
def test_baseline_forms_with_leave_one_group_out(tmp_path, form, keys):
    csv = tmp_path / "runs.csv"
    runs = synthetic_runs(PUBLISHED["hoffmann2022"], noise=0.005, seed=5)
    runs["size"] = runs["params"].rank(method="dense").astype(int)
    runs.to_csv(csv, index=False)
    out = tmp_path / "FIT.json"
    proc = cli("fit", csv, "--form", form, "--target", "loss", "--params", "params", "--tokens", "tokens",
               "--cv", "size", "--bootstrap", "10", "--out", out)
    assert proc.returncode == 0, proc.stderr
    fit = json.loads(out.read_text())
    assert list(fit["parameters"]) == keys
    v = fit["validation"]
    assert v["kind"] == "cv" and v["n"] == 49 and len(v["groups"]) == 7
    assert {"mae", "rmse", "max_error", "n"} <= set(v)


def test_optimal_with_epochs_published_parameters(tmp_path):
    path = tmp_path / "FIT.json"
    path.write_text(json.dumps({"form": "chinchilla", "parameters": PUBLISHED["epoch2024"]}))
    proc = cli("optimal", "--fit", path, "--flops", "5.76e23", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"params_opt", "tokens_opt", "tokens_per_param", "flops"} <= set(out)
    assert out["params_opt"] == pytest.approx(72e9, rel=0.02)
    assert out["tokens_per_param"] == pytest.approx(18, rel=0.05)
    assert out["flops"] == 5.76e23
    text = cli("optimal", "--fit", path, "--flops", "5.76e23")
    assert text.returncode == 0 and "N_opt" in text.stdout and "7.2" in text.stdout


def test_optimal_needs_a_chinchilla_fit(tmp_path):
    path = tmp_path / "FIT.json"
    path.write_text(json.dumps({"form": "hypothesis", "parameters": {"intercept": 1.0, "x": 2.0}}))
    assert_usage_error(cli("optimal", "--fit", path, "--flops", "1e21"), "needs a chinchilla fit")
    assert_usage_error(cli("optimal", "--fit", tmp_path / "none.json", "--flops", "1e21"), "no such fit file")


@pytest.fixture()
def bad_csvs(tmp_path):
    rows = "N,D,loss\n" + "\n".join(f"{n},{d},{3 - 0.1 * i}" for i, (n, d) in enumerate(
        [(1e8, 1e9), (1e9, 1e10), (1e10, 1e11), (1e8, 1e11), (1e9, 1e9), (1e10, 1e10), (3e8, 3e10)]))
    good = tmp_path / "good.csv"
    good.write_text(rows + "\n")
    zero = tmp_path / "zero.csv"
    zero.write_text(rows.replace("1000000000.0,10000000000.0", "0,10000000000.0", 1) + "\n")
    nan = tmp_path / "nan.csv"
    nan.write_text(rows + "\n1e9,inf,2.5\n")
    return good, zero, nan


@pytest.mark.parametrize("args, words", [
    (["--form", "hypothesis", "--target", "los", "--params", "N"], ["--target 'los'", "did you mean 'loss'"]),
    (["--form", "hypothesis", "--target", "loss", "--log-terms", "N,tokens"], ["--log-terms 'tokens'", "no such column"]),
    (["--form", "chinchila", "--target", "loss"], ["unknown form", "chinchilla"]),
    (["--form", "chinchilla", "--target", "loss", "--params", "N"], ["needs --params (N) and --tokens"]),
    (["--form", "chinchilla", "--target", "loss", "--params", "N", "--tokens", "D", "--where", "N < 2e9"],
     ["5 parameters", "need at least 6"]),
    (["--form", "hypothesis", "--target", "loss", "--params", "N", "--where", "size > 3"],
     ["--where", "not a valid row filter"]),
    (["--form", "hypothesis", "--target", "loss", "--params", "N", "--holdout", "N > 0"], ["selects every row"]),
    (["--form", "kaplan", "--target", "loss", "--params", "N", "--tokens", "D", "--log-terms", "D"],
     ["--log-terms applies to --form hypothesis only"]),
    (["--form", "hypothesis", "--target", "loss", "--params", "N", "--bootstrap", "-1"], ["--bootstrap -1"]),
    (["--form", "hypothesis", "--target", "loss", "--params", "N", "--bootstrap", "5", "--seed", "-1"],
     ["--seed", "must be 0 or more"]),
])
def test_bad_fit_options(bad_csvs, args, words):
    assert_usage_error(cli("fit", bad_csvs[0], *args), *words)


def test_bad_values_in_the_data(bad_csvs, tmp_path):
    _, zero, nan = bad_csvs
    assert_usage_error(cli("fit", zero, "--form", "hypothesis", "--target", "loss", "--params", "N"),
                       "--params 'N'", "not positive", "data row 2")
    assert_usage_error(cli("fit", nan, "--form", "chinchilla", "--target", "loss", "--params", "N", "--tokens", "D"),
                       "--tokens 'D'", "not finite", "data row 8")
    assert_usage_error(cli("fit", tmp_path / "missing.csv", "--form", "hypothesis", "--target", "loss",
                           "--params", "N"), "no such data file")
