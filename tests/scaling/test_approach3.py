"""Approach 3 against Epoch AI's replication; synthetic recovery of Kaplan's law.

Synthetic recovery of Hoffmann's law by Approach 3 runs through the command line in test_fit_cli.py
(one full-grid fit less).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from compressbench.scaling.fitting import FitData, approach3, fit_kaplan, reuse_starts
from compressbench.scaling.laws import PUBLISHED, kaplan
from compressbench.scaling.uncertainty import bootstrap, intervals

EPOCH = PUBLISHED["epoch2024_grid"]  # E 1.817, A 477.8, B 2143.9, alpha 0.3473, beta 0.3672


@pytest.mark.slow
def test_approach3_reproduces_epochs_fit(epoch_fit):
    est, _ = epoch_fit
    p = est.parameters
    # Measured: E 1.81722, A 477.82, B 2143.42, alpha 0.347310, beta 0.367173 (Epoch: 1.817, 477.8, 2143.9, …).
    for key in ("E", "alpha", "beta"):
        assert p[key] == pytest.approx(EPOCH[key], rel=0.01), key
    for key in ("A", "B"):
        assert p[key] == pytest.approx(EPOCH[key], rel=0.10), key
    # And the values Epoch reports for its bootstrapped fit.
    assert p["A"] == pytest.approx(482.0, rel=0.10) and p["B"] == pytest.approx(2085.4, rel=0.10)
    assert est.starts == 4500
    assert est.warnings == []


def test_a_full_grid_fit_takes_seconds(epoch_runs):
    N = epoch_runs["Model Size"].to_numpy(float)
    D = epoch_runs["Training FLOP"].to_numpy(float) / (6 * N)
    t0 = time.perf_counter()
    approach3(N, D, epoch_runs["loss"].to_numpy(float), starts=np.array([[5.0, 5.0, 0.5, 0.5, 0.5]]))
    assert time.perf_counter() - t0 < 1.0  # one start; the grid is 4500 of them (about 8 s on 2 cores)


def test_bootstrap_intervals_match_epochs(epoch_fit):
    est, (N, D, L) = epoch_fit
    data = FitData("chinchilla", L, {"N": N, "D": D})
    draws = bootstrap(data, resamples=80, seed=0, starts=reuse_starts(est))
    iv = intervals(draws)
    assert draws.failed == 0
    # Epoch's 95% intervals: E 1.77–1.87, alpha 0.317–0.373, beta 0.331–0.415 (1000 resamples; 80 here).
    assert 1.70 < iv["E"][0] < 1.817 < iv["E"][1] < 1.93
    assert 0.29 < iv["alpha"][0] < 0.347 < iv["alpha"][1] < 0.40
    assert 0.30 < iv["beta"][0] < 0.367 < iv["beta"][1] < 0.45
    assert iv["A"][1] / iv["A"][0] > 1.5  # wide, not collapsed onto the warm start


def test_recovers_kaplans_law_from_noisy_runs():
    law = PUBLISHED["kaplan2020"]
    rng = np.random.default_rng(2)
    N, D = (a.ravel() for a in np.meshgrid(np.logspace(7, 11, 7), np.logspace(9, 13, 7)))
    L = kaplan(N, D, **law) * np.exp(rng.normal(0, 0.005, N.size))
    p = fit_kaplan(N, D, L).parameters
    assert p["alpha_N"] == pytest.approx(law["alpha_N"], rel=0.05)
    assert p["alpha_D"] == pytest.approx(law["alpha_D"], rel=0.05)
    assert p["N_c"] == pytest.approx(law["N_c"], rel=0.5)
    assert p["D_c"] == pytest.approx(law["D_c"], rel=0.5)
