"""Rate against fidelity along a sweep, and how text tokenizers use their vocabulary: the report's curves.

A sweep (``qwen2vl:max_pixels=200704|401408|1003520``) gives tokenizers of one
family that differ in one option; :func:`sweep_lines` joins them into one line,
ordered by that option, so the report can draw C (and N) against what the
model's input keeps (PSNR, coverage, energy share): a rate–fidelity curve.

>>> info = {f"qwen2vl:max_pixels={v}": {"family": "qwen2vl", "config": {"max_pixels": v, "patch_size": 14}}
...         for v in (401408, 200704)}
>>> [(line.label, line.values) for line in sweep_lines(list(info), info)]
[('qwen2vl: max_pixels', (200704, 401408))]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compressbench.reports.figures import to_svg

# What the model's input keeps of the original, in the order the report draws them (summary keys, with units).
FIDELITY = {"input_psnr_db": "PSNR of the model's input (dB)", "input_coverage": "input coverage (share 0-1)",
            "input_energy_share": "energy below the model's Nyquist (share 0-1)"}
RATES = {"compression": "C = ΣT/ΣN (bytes/token)", "tokens": "N (tokens)"}
EFFICIENCY = {"renyi_efficiency": "Rényi efficiency H_α / log2|V| (ratio)",
              "vocab_utilisation": "vocabulary utilisation (share of |V| used)"}
GINI = "fairness_gini"
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


@dataclass(frozen=True)
class Line:
    """Tokenizers of one family that differ in one option (``option``), in that option's order."""

    family: str
    option: str | None  # None: a tokenizer alone
    tokenizers: tuple[str, ...]
    values: tuple[Any, ...]  # the option's value for each tokenizer
    fixed: str = ""  # the other options that vary in the family, fixed along this line

    @property
    def label(self) -> str:
        if self.option is None:
            return self.tokenizers[0]
        return f"{self.family}: {self.option}" + (f" ({self.fixed})" if self.fixed else "")


def _order(value: Any) -> tuple[int, Any]:
    """Numbers by value, then everything else by its text (None first)."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value))


def _text(value: Any) -> str:
    """A config value as a spec writes it (booleans in lower case)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _family_lines(family: str, names: list[str], configs: dict[str, dict[str, Any]]) -> list[Line]:
    keys = list(dict.fromkeys(k for n in names for k in configs[n]))
    varying = [k for k in keys if len({_key(configs[n].get(k)) for n in names}) > 1]
    if not varying:
        return [Line(family, None, (n,), (None,)) for n in names]
    # the option with the most values is the one swept along a line; the others split the lines
    option = max(varying, key=lambda k: (len({_key(configs[n].get(k)) for n in names}), -keys.index(k)))
    others = [k for k in varying if k != option]
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(", ".join(f"{k}={_text(configs[n].get(k))}" for k in others), []).append(n)
    lines = []
    for fixed, members in groups.items():
        members.sort(key=lambda n: _order(configs[n].get(option)))
        if len(members) == 1:
            lines.append(Line(family, None, (members[0],), (configs[members[0]].get(option),)))
        else:
            lines.append(Line(family, option, tuple(members), tuple(configs[n].get(option) for n in members), fixed))
    return lines


def sweep_lines(names: list[str], tokenizers: dict[str, dict[str, Any]]) -> list[Line]:
    """``names`` (summary tokenizer names) joined into lines: one per swept family, one point for the rest.

    ``tokenizers`` is summary.json's ``tokenizers`` (each with ``family`` and ``config``).
    """
    families: dict[str, list[str]] = {}
    for n in names:
        families.setdefault(str(tokenizers.get(n, {}).get("family", n)), []).append(n)
    configs = {n: dict(tokenizers.get(n, {}).get("config") or {}) for n in names}
    return [line for family, members in families.items() for line in _family_lines(family, members, configs)]


def fidelity_keys(rows: list[dict[str, Any]]) -> list[str]:
    """The fidelity metrics some row of ``rows`` reports, in :data:`FIDELITY` order."""
    return [k for k in FIDELITY if any(r.get(k) is not None for r in rows)]


def rate_fidelity(rows: list[dict[str, Any]], lines: list[Line], name: str) -> str:
    """One dataset's C and N (columns) against each fidelity metric it has (rows of panels), a line per sweep.

    Each line is drawn with the id ``{name}-{metric}-{rate}-line{i}``, its points in the swept option's order.
    """
    from matplotlib.figure import Figure

    by_tokenizer = {r["tokenizer"]: r for r in rows}
    metrics = fidelity_keys(rows)
    fig = Figure(figsize=(9.0, 3.4 * len(metrics) + 0.6), layout="constrained")
    axes = fig.subplots(len(metrics), len(RATES), squeeze=False)
    for i, metric in enumerate(metrics):
        for j, (rate, rate_label) in enumerate(RATES.items()):
            ax = axes[i][j]
            for k, line in enumerate(lines):
                points = [(by_tokenizer[t].get(metric), by_tokenizer[t].get(rate), v)
                          for t, v in zip(line.tokenizers, line.values) if t in by_tokenizer]
                points = [p for p in points if p[0] is not None and p[1] is not None]
                if not points:
                    continue
                (drawn,) = ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", ms=5, lw=1.4,
                                   color=_PALETTE[k % len(_PALETTE)], label=line.label)
                drawn.set_gid(f"{metric}-{rate}-line{k}")
                if line.option is not None:
                    for x, y, v in points:
                        ax.annotate(_text(v), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=6.5,
                                    color="#444")
            ax.set_xlabel(FIDELITY[metric])
            ax.set_ylabel(rate_label)
            if rate == "tokens":
                ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncols=min(3, len(handles)))
    fig.suptitle("Rate against fidelity: a line per swept family, points in the order of the swept option "
                 "(labelled with its value)", fontsize=10)
    return to_svg(fig, name)


def efficiency_keys(rows: list[dict[str, Any]]) -> list[str]:
    """The efficiency-panel metrics some row reports (Rényi efficiency, utilisation, Gini)."""
    return [k for k in (*EFFICIENCY, GINI) if any(r.get(k) is not None for r in rows)]


def efficiency(rows: list[dict[str, Any]], name: str) -> str:
    """One text dataset's Rényi efficiency and vocabulary utilisation per tokenizer (grouped bars), and the
    Gini coefficient of tokens per byte across its languages per tokenizer (a second panel)."""
    from matplotlib.figure import Figure

    tokenizers = [r["tokenizer"] for r in rows]
    shares = [k for k in EFFICIENCY if any(r.get(k) is not None for r in rows)]
    gini = any(r.get(GINI) is not None for r in rows)
    panels = (["shares"] if shares else []) + (["gini"] if gini else [])
    fig = Figure(figsize=(9.0, (0.32 * len(tokenizers) + 1.4) * len(panels) + 0.4), layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels):
        keys = shares if panel == "shares" else [GINI]
        height = 0.8 / len(keys)
        for m, key in enumerate(keys):
            ys = [y - 0.4 + height * (m + 0.5) for y in range(len(tokenizers))]
            label = EFFICIENCY.get(key, "Gini of tokens per byte across languages (0 = equal)")
            for t, (y, v) in enumerate(zip(ys, [r.get(key) for r in rows])):
                if v is None:
                    continue
                (bar,) = ax.barh(y, v, height=height * 0.9, color=_PALETTE[m if panel == "shares" else 3],
                                 label=label)
                bar.set_gid(f"{key}-bar{t}")  # t: the tokenizer's place in ``rows``
                label = "_"  # one legend entry per metric
                ax.annotate(f"{v:.3g}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
        ax.set_yticks(range(len(tokenizers)), tokenizers, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max([1.0 if panel == "shares" else 0.0] + [r.get(k) or 0 for r in rows for k in keys]) * 1.15)
        ax.set_xlabel("share / ratio (0-1; higher is better)" if panel == "shares"
                      else "Gini coefficient of tokens per byte over languages (0-1; lower is fairer)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle("How each tokenizer uses its vocabulary on this dataset" + (", and how evenly it treats the "
                 "languages" if gini else ""), fontsize=10)
    return to_svg(fig, name)
