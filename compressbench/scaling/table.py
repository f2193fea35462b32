"""Reading a fit's data table (CSV) and checking it before anything is fitted.

Every problem is a one-line :class:`ConfigError` naming the column, the row and the fix:
missing or misnamed columns (with a "did you mean"), non-numeric, non-finite or
non-positive values where a logarithm is taken, too few rows for the form.

>>> import pandas as pd
>>> df = pd.DataFrame({"N": [1e8, 1e9, 1e10, 1e8], "D": [1e9, 1e10, 1e11, 1e11], "loss": [3.0, 2.5, 2.2, 2.8]})
>>> cols = Columns(target="loss", params="N", tokens="D")
>>> data = fit_data(df, "hypothesis", cols)
>>> list(data.features)
['D', 'N']
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from compressbench.core.errors import ConfigError, first_line, reading
from compressbench.scaling.fitting import FitData
from compressbench.scaling.laws import FORMS

DERIVED_TOKENS = "tokens"  # name of D = FLOPs / (6 N) when --flops is given


@dataclass(frozen=True)
class Columns:
    """Which column plays which role (the command line's --target, --params, --tokens, --flops, --log-terms)."""

    target: str
    params: str | None = None
    tokens: str | None = None
    flops: str | None = None
    log_terms: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["log_terms"] = list(self.log_terms)
        return d


def file_sha256(path: Path) -> str:
    """sha256 of the data file's bytes (recorded in FIT.json as ``data_sha256``)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_table(path: str | Path, *, derive: list[str] | tuple[str, ...] = (), where: str | None = None
               ) -> pd.DataFrame:
    """The CSV as a DataFrame, with ``derive`` columns ("NAME = EXPR") added and ``where`` applied.

    The index keeps the file's data rows (0-based; messages and FIT.json add 1, so data row 1 is the first
    line after the header), also after ``where``.
    """
    path = Path(path)
    with reading(path, "data file", invalid=(ValueError, pd.errors.ParserError)):
        df = pd.read_csv(path)
    if df.empty:
        raise ConfigError(f"{path}: the CSV has no rows")
    for spec in derive:
        name, sep, expr = spec.partition("=")
        name = name.strip()
        if not sep or not name or not expr.strip():
            raise ConfigError(f"--derive {spec!r}: expected NAME = EXPRESSION, e.g. 'tokens = pairs * 256'")
        df[name] = _evaluate(df, expr.strip(), f"--derive {name}")
    if where:
        df = select(df, where, "--where")
        if df.empty:
            raise ConfigError(f"--where {where!r} keeps no rows")
    return df  # the index stays the CSV's data row (0-based), so messages can name rows


def _evaluate(df: pd.DataFrame, expr: str, what: str) -> pd.Series:
    try:
        return df.eval(expr)
    except Exception as exc:  # pandas raises many types for a bad expression
        raise ConfigError(f"{what}: cannot evaluate {expr!r} ({_reason(exc, df)})") from None


def select(df: pd.DataFrame, expr: str, what: str) -> pd.DataFrame:
    """The rows where the pandas query ``expr`` holds, or an error naming the problem."""
    try:
        out = df.query(expr)
    except Exception as exc:
        raise ConfigError(f"{what} {expr!r}: not a valid row filter ({_reason(exc, df)})") from None
    if not isinstance(out, pd.DataFrame):
        raise ConfigError(f"{what} {expr!r}: not a row filter (use a comparison, e.g. 'loss < 3.7')")
    return out


def _reason(exc: Exception, df: pd.DataFrame) -> str:
    text = first_line(exc)
    if "not defined" in text:
        text += f"; columns: {', '.join(map(str, df.columns))}; quote names with spaces in backticks"
    return text


def require_column(df: pd.DataFrame, name: str, option: str) -> None:
    """An error naming ``option``'s column and the close matches when it is not in ``df``."""
    if name in df.columns:
        return
    close = difflib.get_close_matches(name, [str(c) for c in df.columns], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(f"{option} {name!r}: no such column{hint} (columns: {', '.join(map(str, df.columns))})")


def numeric(df: pd.DataFrame, name: str, option: str, *, positive: bool) -> np.ndarray:
    """The column as float64: every value finite, and > 0 when ``positive`` (a logarithm is taken)."""
    require_column(df, name, option)
    values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raw = df[name].iloc[bad[0]]
        raise ConfigError(f"{option} {name!r}: {bad.size} value(s) are not finite numbers "
                          f"(first: {raw!r} in data row {df.index[bad[0]] + 1}); fix or filter them with --where")
    if positive:
        bad = np.flatnonzero(values <= 0)
        if bad.size:
            raise ConfigError(f"{option} {name!r}: {bad.size} value(s) are not positive (first: {values[bad[0]]!r} "
                              f"in data row {df.index[bad[0]] + 1}); its logarithm is taken")
    return values


def check_roles(form: str, cols: Columns) -> None:
    """The options each form needs, and those it cannot use."""
    if form not in FORMS:
        raise ConfigError(f"unknown form {form!r}; known: {', '.join(FORMS)}")
    if cols.tokens and cols.flops:
        raise ConfigError("give --tokens or --flops, not both (--flops derives D = FLOPs / (6 N))")
    if cols.flops and not cols.params and form != "loglinear":
        raise ConfigError("--flops derives D = FLOPs / (6 N): it needs --params too")
    if cols.log_terms and form != "hypothesis":
        raise ConfigError(f"--log-terms applies to --form hypothesis only, not {form}")
    if form in ("chinchilla", "kaplan") and not (cols.params and (cols.tokens or cols.flops)):
        raise ConfigError(f"--form {form} needs --params (N) and --tokens (D) or --flops")
    if form == "loglinear" and not (cols.flops or (cols.params and cols.tokens)):
        raise ConfigError("--form loglinear needs --flops, or --params and --tokens (C = 6 N D)")
    if form == "hypothesis" and not (cols.params or cols.tokens or cols.flops or cols.log_terms):
        raise ConfigError("--form hypothesis needs at least one log term: --tokens, --params or --log-terms")
    names = hypothesis_terms(cols) if form == "hypothesis" else []
    if len(set(names)) != len(names):
        raise ConfigError(f"a column appears twice among the log terms: {', '.join(names)}")
    if "intercept" in names:
        raise ConfigError("a log term may not be called 'intercept' (the name of the constant term)")


def hypothesis_terms(cols: Columns) -> list[str]:
    """The hypothesis form's log terms in order: tokens (or D from FLOPs), params, then --log-terms."""
    terms = [cols.tokens or DERIVED_TOKENS] if (cols.tokens or cols.flops) else []
    return terms + ([cols.params] if cols.params else []) + list(cols.log_terms)


def fit_data(df: pd.DataFrame, form: str, cols: Columns) -> FitData:
    """The checked target and features of ``form`` from ``df``."""
    check_roles(form, cols)
    spec = FORMS[form]
    y = numeric(df, cols.target, "--target", positive=spec.saturating)
    N = numeric(df, cols.params, "--params", positive=True) if cols.params else None
    if cols.flops:
        C = numeric(df, cols.flops, "--flops", positive=True)
        D = C / (6 * N) if N is not None else None
    else:
        D = numeric(df, cols.tokens, "--tokens", positive=True) if cols.tokens else None
        C = 6 * N * D if (N is not None and D is not None) else None
    if form == "hypothesis":
        features = {}
        for name in hypothesis_terms(cols):
            if name == cols.params:
                features[name] = N
            elif name == (cols.tokens or DERIVED_TOKENS) and D is not None:
                features[name] = D
            else:
                features[name] = numeric(df, name, "--log-terms", positive=True)
        n_params = len(features) + 1
    elif form == "loglinear":
        features, n_params = {"C": C}, 2
    else:
        features, n_params = {"N": N, "D": D}, len(spec.parameters)
    if len(y) <= n_params:
        raise ConfigError(f"--form {form} has {n_params} parameters: {len(y)} row(s) cannot fit it "
                          f"(need at least {n_params + 1})")
    return FitData(form, y, features)  # type: ignore[arg-type]
