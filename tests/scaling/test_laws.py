"""The forms, the objective's gradient and least squares, on exact data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compressbench.scaling.fitting import (GRID_AXES, FitData, _boundary_warnings, approach3_grid, estimate,
                                           huber_lse_objective, kaplan_objective, least_squares)
from compressbench.scaling.validation import identifiability_warnings
from compressbench.scaling.laws import FORMS, PUBLISHED, chinchilla, derived_quantities, kaplan, predict


def test_chinchilla_matches_the_published_law_by_hand():
    p = PUBLISHED["hoffmann2022"]
    N, D = 70e9, 1.4e12
    assert chinchilla(N, D, **p) == pytest.approx(1.69 + 406.4 / N**0.34 + 410.7 / D**0.28, rel=1e-12)


def test_kaplan_reduces_to_its_limits():
    p = PUBLISHED["kaplan2020"]
    # with infinite data, L = (N_c/N)^alpha_N
    assert kaplan(1e9, 1e40, **p) == pytest.approx((6.4e13 / 1e9) ** 0.076, rel=1e-9)


def test_predict_dispatches_every_form():
    assert set(FORMS) == {"hypothesis", "chinchilla", "kaplan", "loglinear"}
    assert predict("loglinear", {"intercept": 1.0, "slope": -0.5}, {"C": np.e**2}) == pytest.approx(0.0)
    y = predict("hypothesis", {"intercept": 1.0, "a": 2.0}, {"a": np.array([1.0, np.e])})
    np.testing.assert_allclose(y, [1.0, 3.0])


def test_derived_allocation_exponents_sum_to_one():
    q = derived_quantities("chinchilla", PUBLISHED["hoffmann2022"])
    assert q["params_exponent"] + q["tokens_exponent"] == pytest.approx(1.0)
    assert q["params_exponent"] == pytest.approx(0.28 / 0.62)


def test_the_grid_is_approach3s_4500_starts():
    grid = approach3_grid()
    assert grid.shape == (4500, 5)
    assert sorted(set(grid[:, 0])) == [0, 5, 10, 15, 20, 25]  # a
    assert sorted(set(grid[:, 2])) == [-1, -0.5, 0, 0.5, 1]  # e
    assert sorted(set(grid[:, 3])) == [0, 0.5, 1, 1.5, 2]  # alpha


@pytest.mark.parametrize("objective, x", [
    (huber_lse_objective, np.array([6.0, 7.0, 0.6, 0.35, 0.37])),
    (huber_lse_objective, np.array([1.0, 20.0, -0.5, 1.5, 0.2])),
    (kaplan_objective, np.array([0.1, 0.7, 30.0, 29.0])),
])
def test_analytic_gradient_matches_finite_differences(objective, x):
    rng = np.random.default_rng(0)
    lN, lD = rng.uniform(17, 24, 50), rng.uniform(20, 28, 50)
    lL = np.log(rng.uniform(1.8, 3.5, 50))
    _, grad = objective(x, lN, lD, lL)
    eps = 1e-6
    numeric = [(objective(x + eps * e, lN, lD, lL)[0] - objective(x - eps * e, lN, lD, lL)[0]) / (2 * eps)
               for e in np.eye(len(x))]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-9)


def test_huber_is_quadratic_inside_delta_and_linear_outside():
    lN = lD = np.zeros(2)
    x = np.array([-50.0, -50.0, 0.0, 0.0, 0.0])  # prediction = LSE(-50, -50, 0) ≈ 0 = ln 1
    f_small, _ = huber_lse_objective(x, lN, lD, np.log(np.array([1.0005, 1.0005])))
    f_large, _ = huber_lse_objective(x, lN, lD, np.log(np.array([1.5, 1.5])))
    assert f_small == pytest.approx(2 * 0.5 * np.log(1.0005) ** 2, rel=1e-6)
    assert f_large == pytest.approx(2 * 1e-3 * (np.log(1.5) - 0.5e-3), rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(intercept=st.floats(-5, 5), b1=st.floats(-2, 2), b2=st.floats(-2, 2))
def test_least_squares_recovers_exact_log_linear_coefficients(intercept, b1, b2):
    x1 = np.repeat([1e6, 1e7, 1e8, 1e9], 3)
    x2 = np.tile([1e8, 3e9, 1e11], 4)
    y = intercept + b1 * np.log(x1) + b2 * np.log(x2)
    params, sse = least_squares(y, {"x1": x1, "x2": x2})
    assert params["intercept"] == pytest.approx(intercept, abs=1e-7)
    assert params["x1"] == pytest.approx(b1, abs=1e-9)
    assert params["x2"] == pytest.approx(b2, abs=1e-9)
    assert sse == pytest.approx(0.0, abs=1e-12)


def test_loglinear_fits_a_slope_in_log_compute():
    C = np.logspace(18, 24, 7)
    est = estimate(FitData("loglinear", 5.0 - 0.1 * np.log(C), {"C": C}))
    assert est.parameters == pytest.approx({"intercept": 5.0, "slope": -0.1})


def test_boundary_warnings():
    grid = approach3_grid()
    finals = np.full(len(grid), 1.0)
    inside = np.array([6.0, 7.0, 0.5, 0.35, 0.37])
    assert _boundary_warnings(GRID_AXES, grid, finals, 1.0, inside) == []  # interior starts reach the optimum
    on_edge = np.any((grid == grid.min(axis=0)) | (grid == grid.max(axis=0)), axis=1)
    finals[~on_edge] = 2.0  # only starts on the edge reach the lowest loss
    assert "on the start grid's boundary" in _boundary_warnings(GRID_AXES, grid, finals, 1.0, inside)[0]
    outside = np.array([6.0, 7.0, 0.5, 2.7, 0.37])
    assert any("outside the start grid in alpha" in w
               for w in _boundary_warnings(GRID_AXES, grid, np.ones(len(grid)), 1.0, outside))


def test_two_levels_cannot_identify_an_exponent():
    N = np.repeat([1e8, 1e9], 4)
    D = np.tile([1e9, 1e10, 1e11, 1e12], 2)
    data = FitData("chinchilla", np.full(8, 2.5), {"N": N, "D": D})
    (w,) = identifiability_warnings(data, {"N": "params", "D": "tokens"})
    assert w.startswith("params has only 2 distinct value(s): its exponent cannot be identified")
