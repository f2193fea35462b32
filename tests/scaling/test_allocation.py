"""The closed-form compute-optimal allocation against a numerical constrained minimum."""

from __future__ import annotations

import pytest

from compressbench.core.errors import ConfigError
from compressbench.scaling.allocation import compute_optimal, numerical_optimum
from compressbench.scaling.laws import PUBLISHED, chinchilla

LAWS = {**{k: PUBLISHED[k] for k in ("hoffmann2022", "epoch2024", "epoch2024_grid")},
        "lopsided": {"E": 1.5, "A": 50.0, "B": 9000.0, "alpha": 0.2, "beta": 0.6}}


@pytest.mark.parametrize("law", LAWS, ids=str)
@pytest.mark.parametrize("flops", [1e18, 1e21, 5.76e23, 1e26])
def test_closed_form_is_the_constrained_minimum(law, flops):
    p = LAWS[law]
    closed, numeric = compute_optimal(p, flops), numerical_optimum(p, flops)
    assert closed.params == pytest.approx(numeric.params, rel=1e-4)
    assert closed.tokens == pytest.approx(numeric.tokens, rel=1e-4)
    assert 6 * closed.params * closed.tokens == pytest.approx(flops, rel=1e-12)
    # and it is a minimum: moving along the constraint costs loss both ways
    for k in (0.8, 1.25):
        n = closed.params * k
        assert chinchilla(n, flops / (6 * n), **p) > closed.loss


def test_epochs_parameters_give_72b_and_18_tokens_per_parameter():
    opt = compute_optimal(PUBLISHED["epoch2024"], 5.76e23)
    assert opt.params == pytest.approx(72e9, rel=0.02)
    assert opt.tokens_per_param == pytest.approx(18, rel=0.05)


def test_needs_positive_exponents_and_budget():
    with pytest.raises(ConfigError, match="alpha"):
        compute_optimal({**PUBLISHED["epoch2024"], "alpha": 0.0}, 1e21)
    with pytest.raises(ConfigError, match="positive"):
        compute_optimal(PUBLISHED["epoch2024"], -1.0)
