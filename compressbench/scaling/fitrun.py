"""One ``compressbench fit``: read, check, fit, bootstrap, diagnose, validate, and shape FIT.json.

>>> from pathlib import Path
>>> from compressbench.scaling.table import Columns
>>> csv = Path(__file__).parents[2] / "fixtures" / "published" / "li2024_connected_vision_eval_loss.csv"
>>> req = FitRequest(csv, "hypothesis", Columns(target="eval_loss", params="llm_params", tokens="pairs"),
...                  bootstrap=0)
>>> out = run_fit(req)
>>> sorted(out.fit["parameters"])
['intercept', 'llm_params', 'pairs']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from compressbench.core.errors import ConfigError
from compressbench.provenance import library_versions, utc_now
from compressbench.scaling.fitfile import SCHEMA, FitJSON
from compressbench.scaling.fitting import Estimate, FitData, estimate, reuse_starts
from compressbench.scaling.laws import derived_quantities
from compressbench.scaling.table import Columns, fit_data, file_sha256, read_table, require_column, select
from compressbench.scaling.uncertainty import (LEVEL, Draws, bootstrap, correlation, derived_draws, intervals,
                                               percentile_interval, prediction_intervals)
from compressbench.scaling.validation import (cross_validate, diagnostics, fitted, holdout,
                                              identifiability_warnings)

BOOTSTRAP_FAILURE_WARN = 0.05  # warn when more than this share of resamples cannot be fitted


@dataclass(frozen=True)
class FitRequest:
    """The options of one fit, as the command line names them."""

    path: Path
    form: str
    columns: Columns
    derive: tuple[str, ...] = ()
    where: str | None = None
    holdout: str | None = None
    cv: str | None = None
    bootstrap: int = 1000
    seed: int = 0


@dataclass
class FitOutcome:
    """FIT.json's content, and what the report needs to draw it."""

    fit: FitJSON
    frame: pd.DataFrame  # the rows after --derive and --where
    data: FitData  # all of those rows
    train: NDArray[np.bool_]  # the rows the reported fit used (all but --holdout's)
    estimate: Estimate
    draws: Draws
    labels: dict[str, str]  # feature key -> what to call it


def feature_labels(cols: Columns) -> dict[str, str]:
    """Readable names of the features (the hypothesis form's are already column names)."""
    d = cols.tokens or (f"{cols.flops} / (6 · {cols.params})" if cols.flops and cols.params else "D")
    c = cols.flops or f"6 · {cols.params} · {cols.tokens}"
    return {"N": cols.params or "N", "D": d, "C": c}


def run_fit(req: FitRequest) -> FitOutcome:
    """Everything ``compressbench fit`` computes (see the module docstring)."""
    if req.bootstrap < 0:
        raise ConfigError(f"--bootstrap {req.bootstrap}: give 0 (no intervals) or a positive number of resamples")
    if req.holdout and req.cv:
        raise ConfigError("give --holdout or --cv, not both")
    frame = read_table(req.path, derive=req.derive, where=req.where)
    data = fit_data(frame, req.form, req.columns)
    labels = feature_labels(req.columns)
    validation = None
    train = np.ones(data.n, dtype=bool)
    if req.holdout:
        held_index = select(frame, req.holdout, "--holdout").index
        held = np.asarray(frame.index.isin(held_index))
        est, validation = holdout(data, held, expr=req.holdout)
        train = ~held
        test = data.subset(held)
        validation["predictions"] = _held_predictions(frame.index[held], test, fitted(test, est))
    else:
        est = estimate(data)
    train_data = data.subset(train)
    draws = (bootstrap(train_data, resamples=req.bootstrap, seed=req.seed, starts=reuse_starts(est))
             if req.bootstrap else Draws(list(est.parameters), np.empty((0, len(est.parameters))), 0, 0, req.seed))
    if req.holdout and validation is not None:
        _add_prediction_intervals(validation, req.form, draws, data.subset(~train))
    if req.cv:
        require_column(frame, req.cv, "--cv")
        validation = cross_validate(data, frame[req.cv].to_numpy(), column=req.cv, starts=reuse_starts(est))
    fit = _fit_json(req, frame, train_data, est, draws, validation, labels)
    return FitOutcome(fit, frame, data, train, est, draws, labels)


def _held_predictions(index, test: FitData, pred: np.ndarray) -> list[dict]:
    return [{"row": int(i) + 1, "observed": float(o), "predicted": float(p)}
            for i, o, p in zip(index, test.y, pred)]


def _add_prediction_intervals(validation: dict, form: str, draws: Draws, test: FitData) -> None:
    band = prediction_intervals(form, draws, test.features)
    for k, row in enumerate(validation["predictions"]):
        row["interval"] = None if band is None else [float(band[0][k]), float(band[1][k])]
    if band is not None:
        y = test.y
        validation["interval_coverage"] = float(np.mean((y >= band[0]) & (y <= band[1])))


def _warnings(req: FitRequest, data: FitData, est: Estimate, draws: Draws, labels: dict[str, str]) -> list[str]:
    out = list(est.warnings)
    out += identifiability_warnings(data, labels)
    if draws.resamples and draws.failed > BOOTSTRAP_FAILURE_WARN * draws.resamples:
        out.append(f"{draws.failed} of {draws.resamples} bootstrap resamples could not be fitted "
                   "(too few distinct levels in a resample); the intervals rest on the rest")
    if req.form == "chinchilla" and min(est.parameters["alpha"], est.parameters["beta"]) <= 0:
        out.append("a fitted exponent is not positive: the law does not fall with that variable over these rows")
    return out


def _fit_json(req: FitRequest, frame: pd.DataFrame, data: FitData, est: Estimate, draws: Draws,
              validation: dict | None, labels: dict[str, str]) -> FitJSON:
    diag = diagnostics(data, est)
    diag["warnings"] = _warnings(req, data, est, draws, labels)
    diag["correlation"] = correlation(draws)
    diag["starts"] = est.starts
    if est.start is not None:
        diag["winning_start"] = [float(v) for v in est.start]
    diag["bootstrap"] = {"resamples": draws.resamples, "failed": draws.failed, "seed": draws.seed, "level": LEVEL,
                         "refit_starts": "the full fit's optimum" if est.x is not None else "n/a (closed form)"}
    derived = {}
    dd = derived_draws(req.form, draws)
    for name, value in derived_quantities(req.form, est.parameters).items():
        band = percentile_interval(dd[name]) if name in dd else None
        derived[name] = {"value": value, "interval": None if band is None else [float(band[0]), float(band[1])]}
    fit: FitJSON = {
        "schema": SCHEMA,
        "form": req.form,
        "parameters": est.parameters,
        "intervals": intervals(draws),
        "derived": derived,
        "diagnostics": diag,
        "data_sha256": file_sha256(Path(req.path)),
        "data": {"path": str(req.path), "rows": int(len(frame)), "fitted_rows": data.n, "derive": list(req.derive),
                 "where": req.where, "holdout": req.holdout, "cv": req.cv},
        "columns": {**req.columns.as_dict(), "terms": list(data.features) if req.form == "hypothesis" else None},
        "draws": {"keys": draws.keys, "values": draws.values, "resamples": draws.resamples,
                  "failed": draws.failed, "seed": draws.seed},
        "provenance": {"versions": library_versions(["numpy", "scipy", "pandas"]), "created_utc": utc_now()},
    }
    if validation is not None:
        fit["validation"] = validation
    return fit
