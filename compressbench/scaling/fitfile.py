"""FIT.json: the documented shape of a fitted law, writing it and reading it back.

Contract keys (issue 4): ``form``; ``parameters`` (chinchilla: E, A, B, alpha, beta;
kaplan: N_c, D_c, alpha_N, alpha_D; loglinear: intercept, slope; hypothesis:
``intercept`` and one coefficient per log term keyed by its column name);
``intervals`` (same keys → [low, high], 95% bootstrap percentiles, null without
a bootstrap); ``diagnostics`` (``r2``, ``rmse``, ``n``, ``warnings`` and more);
``validation`` (only with --holdout or --cv: ``mae``, ``rmse``, ``max_error``,
``n``); ``data_sha256`` (sha256 of the data file's bytes). Beside them:
``schema``, ``columns`` (which column played which role, so ``predict`` can map a
plan onto the terms), ``derived`` (quantities with intervals), ``data`` (path,
filters), ``draws`` (the bootstrap's parameter draws, for prediction intervals)
and ``provenance``.

Only ``form`` and ``parameters`` are required to read one back, so a FIT.json
can be written by hand from published numbers:

>>> import json, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "FIT.json"
>>> _ = p.write_text(json.dumps({"form": "chinchilla", "parameters":
...     {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}}))
>>> fit = read_fit(p)
>>> round(float(fit.predict({"N": 70e9, "D": 1.4e12})), 3)
1.937
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from compressbench.core.errors import ConfigError, not_utf8
from compressbench.scaling.laws import FORMS, predict
from compressbench.scaling.uncertainty import Draws, prediction_draws

SCHEMA = "compressbench.fit/1"


class FitJSON(TypedDict, total=False):
    schema: str
    form: str
    parameters: dict[str, float]
    intervals: dict[str, list[float] | None]
    derived: dict[str, dict[str, Any]]
    diagnostics: dict[str, Any]
    validation: dict[str, Any]
    data_sha256: str
    data: dict[str, Any]
    columns: dict[str, Any]
    draws: dict[str, Any]
    provenance: dict[str, Any]


def plain(value: Any) -> Any:
    """JSON-ready: numpy scalars and arrays to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_fit(fit: FitJSON, path: str | Path) -> Path:
    """Write ``fit`` as JSON (creating the folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(fit), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class LoadedFit:
    """A FIT.json read back: predicts at features, with bootstrap draws when it has them."""

    path: Path
    form: str
    parameters: dict[str, float]
    columns: dict[str, Any]
    draws: Draws | None

    @property
    def target(self) -> str:
        return str(self.columns.get("target") or "y")

    def predict(self, features: dict[str, Any]) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(predict(self.form, self.parameters, features), dtype=np.float64)

    def predict_draws(self, features: dict[str, Any]) -> np.ndarray | None:
        """Predictions for every bootstrap draw, shape (draws, points); None without draws."""
        if self.draws is None or self.draws.values.shape[0] < 2:
            return None
        return prediction_draws(self.form, self.draws, features)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_fit(path: str | Path) -> LoadedFit:
    """Read and check a FIT.json; every problem is a one-line ConfigError naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such fit file; write one with `compressbench fit … --out {path}`") from None
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc, "FIT.json") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable FIT.json ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a FIT.json (expected a JSON object)")
    form = data.get("form")
    if form not in FORMS:
        raise ConfigError(f"{path}: unknown or missing form {form!r}; known: {', '.join(FORMS)}")
    params = data.get("parameters")
    if not isinstance(params, dict) or not params:
        raise ConfigError(f"{path}: no 'parameters' object")
    bad = [k for k, v in params.items() if not _number(v)]
    if bad:
        raise ConfigError(f"{path}: parameter(s) {', '.join(bad)} are not finite numbers")
    needed = FORMS[form].parameters or ("intercept",)
    missing = [k for k in needed if k not in params]
    if missing or (form == "hypothesis" and len(params) < 2):
        raise ConfigError(f"{path}: a {form} fit needs parameters {', '.join(needed)}"
                          + (" and at least one log-term coefficient" if form == "hypothesis" else "")
                          + (f"; missing: {', '.join(missing)}" if missing else ""))
    columns = data.get("columns") if isinstance(data.get("columns"), dict) else {}
    return LoadedFit(path, form, {k: float(v) for k, v in params.items()}, columns, _draws(data.get("draws")))


def _draws(raw: Any) -> Draws | None:
    if not isinstance(raw, dict):
        return None
    keys, values = raw.get("keys"), raw.get("values")
    if not isinstance(keys, list) or not isinstance(values, list) or not values:
        return None
    arr = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != len(keys):
        return None
    return Draws(keys, arr, int(raw.get("resamples", len(arr))), int(raw.get("failed", 0)), int(raw.get("seed", 0)))
