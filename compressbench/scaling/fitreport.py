"""The fit report: report.md with the numbers, and plots as PNG and SVG (matplotlib, Agg, no display).

Plots: observed against predicted (held-out rows hollow), and the target against
each variable, one colour per group (the --cv column, or the combinations of the
other variables when they take few values), the fit's predictions as lines.

>>> slug("Model Size")
'model_size'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from compressbench.scaling.fitrun import FitOutcome
from compressbench.scaling.validation import fitted

MAX_GROUPS = 10


def slug(name: str) -> str:
    """A file-name-safe version of a column name."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "x"


def _save(fig, out: Path, stem: str) -> list[Path]:
    paths = []
    for ext in ("png", "svg"):
        path = out / f"{stem}.{ext}"
        fig.savefig(path, dpi=120, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
        paths.append(path)
    return paths


def _groups(outcome: FitOutcome, key: str) -> tuple[np.ndarray, str | None]:
    """Group labels for the plot of the target against ``key`` (and what they are)."""
    cv = outcome.fit.get("data", {}).get("cv")
    if cv:
        return outcome.frame[cv].astype(str).to_numpy(), cv
    others = {k: v for k, v in outcome.data.features.items() if k != key}
    if not others:
        return np.full(outcome.data.n, ""), None
    label = lambda k: outcome.labels.get(k, k)  # noqa: E731
    combos = np.array([" · ".join(f"{label(k)}={v[i]:.3g}" for k, v in others.items()) for i in range(outcome.data.n)])
    if np.unique(combos).size <= MAX_GROUPS:
        return combos, ", ".join(label(k) for k in others)
    few = sorted((np.unique(v).size, k) for k, v in others.items() if np.unique(v).size <= MAX_GROUPS)
    if few:
        k = few[0][1]
        return np.array([f"{label(k)}={x:.3g}" for x in others[k]]), label(k)
    return np.full(outcome.data.n, ""), None


def plot_all(outcome: FitOutcome, out: Path) -> list[Path]:
    """Every plot of the report, as PNG and SVG; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    data, target = outcome.data, outcome.fit["columns"]["target"]
    pred = fitted(data, outcome.estimate)
    held = ~outcome.train
    paths: list[Path] = []
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot()
    ax.scatter(pred[~held], data.y[~held], s=14, label="fitted rows")
    if held.any():
        ax.scatter(pred[held], data.y[held], s=24, facecolors="none", edgecolors="C3", label="held out")
    lo, hi = float(min(pred.min(), data.y.min())), float(max(pred.max(), data.y.max()))
    ax.plot([lo, hi], [lo, hi], color="gray", lw=1, ls="--", label="observed = predicted")
    ax.set_xlabel(f"predicted {target}")
    ax.set_ylabel(f"observed {target}")
    ax.set_title(f"{outcome.fit['form']} fit")
    ax.legend(fontsize=8)
    paths += _save(fig, out, "observed_vs_predicted")
    for key, x in data.features.items():
        name = outcome.labels.get(key, key) if data.form != "hypothesis" else key
        groups, what = _groups(outcome, key)
        fig = Figure(figsize=(6.5, 4.5))
        ax = fig.add_subplot()
        for j, g in enumerate(dict.fromkeys(groups.tolist())):
            m = groups == g
            colour = f"C{j % 10}"
            ax.scatter(x[m & ~held], data.y[m & ~held], s=14, color=colour, label=g or "observed")
            if (m & held).any():
                ax.scatter(x[m & held], data.y[m & held], s=24, facecolors="none", edgecolors=colour)
            order = np.argsort(x[m])
            if what is not None:
                ax.plot(x[m][order], pred[m][order], color=colour, lw=1)
            else:
                ax.scatter(x[m], pred[m], s=8, marker="x", color="gray", label="fitted")
        ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel(target)
        ax.set_title(f"{target} against {name}" + (f", by {what}" if what else ""))
        ax.legend(fontsize=7, loc="best")
        paths += _save(fig, out, f"target_vs_{slug(name)}")
    return paths


def _num(v: Any) -> str:
    return "-" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v))


def markdown(outcome: FitOutcome, plots: list[Path]) -> str:
    """report.md's text."""
    fit = outcome.fit
    d, diag = fit["data"], fit["diagnostics"]
    lines = [f"# Fit report: {fit['form']}", "",
             f"Data: `{d['path']}` (sha256 `{fit['data_sha256'][:16]}…`), {d['rows']} rows"
             + (f" after `--where {d['where']}`" if d["where"] else "") + f"; fitted on {diag['n']}.", ""]
    lines += ["| parameter | value | 95% interval |", "|---|---|---|"]
    for k, v in fit["parameters"].items():
        iv = fit["intervals"].get(k)
        lines.append(f"| {k} | {_num(v)} | {'-' if not iv else f'{iv[0]:.6g} – {iv[1]:.6g}'} |")
    for k, v in fit.get("derived", {}).items():
        iv = v["interval"]
        lines.append(f"| {k} (derived) | {_num(v['value'])} | {'-' if not iv else f'{iv[0]:.6g} – {iv[1]:.6g}'} |")
    b = diag["bootstrap"]
    lines += ["", f"Intervals: {b['resamples']} bootstrap resamples over rows (seed {b['seed']}, "
              f"{b['failed']} failed), percentile.", "",
              f"R² = {_num(diag['r2'])}, RMSE = {_num(diag['rmse'])}, n = {diag['n']}.", ""]
    if diag["warnings"]:
        lines += ["Warnings:", *[f"- {w}" for w in diag["warnings"]], ""]
    v = fit.get("validation")
    if v:
        what = f"held out `{v['expr']}`" if v["kind"] == "holdout" else f"leave-one-`{v['column']}`-out"
        lines += [f"Validation ({what}): MAE {_num(v['mae'])}, RMSE {_num(v['rmse'])}, "
                  f"max error {_num(v['max_error'])}, n {v['n']}.", ""]
    corr = diag.get("correlation")
    if corr:
        keys = list(corr)
        lines += ["Parameter correlation (bootstrap):", "", "| | " + " | ".join(keys) + " |",
                  "|---" * (len(keys) + 1) + "|"]
        lines += [f"| {a} | " + " | ".join(_num(None if corr[a][b] is None else round(corr[a][b], 3))
                                           for b in keys) + " |" for a in keys]
        lines.append("")
    lines += [f"![{p.stem}]({p.name})" for p in plots if p.suffix == ".png"]
    return "\n".join(lines) + "\n"


def write_report(outcome: FitOutcome, out: str | Path) -> list[Path]:
    """Write report.md and the plots into ``out``; returns every path written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_all(outcome, out)
    report = out / "report.md"
    report.write_text(markdown(outcome, plots), encoding="utf-8")
    return [report, *plots]
