"""The hypothesis meets real data: Li et al. 2024's connected-vision eval losses (Tables 2–3).

Visual tokens = pairs × tokens per image (196 for B/16, 256 for the /14 encoders at 224 px); P = the
LLM's parameters; optionally the encoder's parameters as a further log term. The numbers the tests pin
are the ones docs/scaling.md reports.
"""

from __future__ import annotations

import numpy as np
import pytest

from compressbench.scaling.fitrun import FitRequest, run_fit
from compressbench.scaling.fitting import FitData, estimate
from compressbench.scaling.table import Columns
from compressbench.scaling.validation import errors, fitted, holdout, r2

from tests.scaling.scaling_testkit import LI_CSV

DERIVE = ("visual_tokens = pairs * (image_size // vit_patch) ** 2",)


def _data(frame, terms) -> FitData:
    return FitData("hypothesis", frame["eval_loss"].to_numpy(float), {t: frame[t].to_numpy(float) for t in terms})


def test_visual_tokens_per_image_follow_the_patch_size(li_frame):
    per_image = li_frame["visual_tokens"] / li_frame["pairs"]
    assert set(per_image[li_frame["vit_patch"] == 16]) == {196}
    assert set(per_image[li_frame["vit_patch"] == 14]) == {256}
    assert len(li_frame) == 80 and li_frame["llm_params"].nunique() == 2 and li_frame["vit_params"].nunique() == 4


def test_hypothesis_with_tokens_and_llm_size(li_frame):
    data = _data(li_frame, ["visual_tokens", "llm_params"])
    est = estimate(data)
    p = est.parameters
    # more data and a bigger LLM lower the loss
    assert p["visual_tokens"] < 0 and p["llm_params"] < 0
    assert p["visual_tokens"] == pytest.approx(-0.0653, abs=5e-4)
    assert p["llm_params"] == pytest.approx(-0.1250, abs=5e-4)
    assert r2(data.y, fitted(data, est)) == pytest.approx(0.646, abs=0.005)


def test_encoder_size_as_an_extra_term_explains_most_of_the_rest(li_frame):
    base = _data(li_frame, ["visual_tokens", "llm_params"])
    full = _data(li_frame, ["visual_tokens", "llm_params", "vit_params"])
    est = estimate(full)
    assert est.parameters["vit_params"] == pytest.approx(-0.0460, abs=5e-4)
    assert r2(full.y, fitted(full, est)) == pytest.approx(0.950, abs=0.005)
    assert r2(full.y, fitted(full, est)) > r2(base.y, fitted(base, estimate(base))) + 0.25


@pytest.mark.parametrize("terms, mae, rmse, max_error", [
    (["visual_tokens", "llm_params"], 0.0374, 0.0545, 0.118),
    (["visual_tokens", "llm_params", "vit_params"], 0.0216, 0.0265, 0.0523),
])
def test_extrapolation_from_5m_to_10m_pairs(li_frame, terms, mae, rmse, max_error):
    data = _data(li_frame, terms)
    held = li_frame["pairs"].to_numpy() > 5_000_000
    est, v = holdout(data, held, expr="pairs > 5000000")
    assert v["n"] == 40 and v["train_n"] == 40
    assert v["mae"] == pytest.approx(mae, abs=5e-4)
    assert v["rmse"] == pytest.approx(rmse, abs=5e-4)
    assert v["max_error"] == pytest.approx(max_error, abs=1e-3)
    # The log-linear form has no floor: it extrapolates too low, the observed losses flatten (bias > 0).
    assert v["bias"] > 0


def test_fit_run_on_the_fixture_reports_the_two_level_warning_and_intervals():
    cols = Columns(target="eval_loss", params="llm_params", tokens="visual_tokens", log_terms=("vit_params",))
    out = run_fit(FitRequest(LI_CSV, "hypothesis", cols, derive=DERIVE, bootstrap=200, seed=3))
    fit = out.fit
    assert list(fit["parameters"]) == ["intercept", "visual_tokens", "llm_params", "vit_params"]
    assert set(fit["intervals"]) == set(fit["parameters"])
    for k, (lo, hi) in fit["intervals"].items():
        assert lo < fit["parameters"][k] < hi, k
    assert any("llm_params has only 2 distinct values" in w for w in fit["diagnostics"]["warnings"])
    corr = fit["diagnostics"]["correlation"]
    assert corr["intercept"]["intercept"] == pytest.approx(1.0)


def test_leave_one_encoder_out(li_frame):
    cols = Columns(target="eval_loss", params="llm_params", tokens="visual_tokens", log_terms=("vit_params",))
    out = run_fit(FitRequest(LI_CSV, "hypothesis", cols, derive=DERIVE, cv="vit", bootstrap=0))
    v = out.fit["validation"]
    assert v["kind"] == "cv" and v["n"] == 80 and len(v["groups"]) == 4
    # Leaving out B/16 (the only 196-token, 86M encoder) is the hardest extrapolation.
    worst = max(v["groups"], key=lambda g: g["mae"])
    assert worst["group"] == "CLIP-ViT-B-16-laion2B"
    assert np.isfinite(v["rmse"])


def test_errors_helper():
    assert errors(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == {"mae": 1.0, "rmse": pytest.approx(2 ** 0.5),
                                                                     "max_error": 2.0, "n": 2}
