"""The report's figures, drawn with matplotlib (no pyplot, no global state) and returned as inline SVG.

Every axis names its quantity and unit. Colours follow the tokenizer, the same in
every figure. SVG output is deterministic (fixed hash salt per figure, no date),
and each figure's ids are distinct so several can share one HTML page.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf"]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
_WIDTH = 9.0  # inches; the page scales SVGs down to fit


def colours(tokenizers: list[str]) -> dict[str, str]:
    """One colour per tokenizer, in the order given."""
    return {t: _PALETTE[i % len(_PALETTE)] for i, t in enumerate(tokenizers)}


def to_svg(fig: Any, name: str) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), its ids prefixed by ``name`` to stay unique."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": name, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    ids = set(re.findall(r'id="([^"]+)"', text))

    def prefixed(m: re.Match[str]) -> str:
        return f"{m[1]}{name}-{m[2]}{m[3]}" if m[2] in ids else m[0]

    text = re.sub(r'(id="|#)([^"\)\s#]+)(["\)])', prefixed, text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1)


def _log_scale(axis: Any) -> None:
    """A log axis labelled with plain numbers (no mathtext: it is slow and its glyphs are paths, not text)."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    def plain(value: float, _pos: int) -> str:
        return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(plain))
    axis.set_minor_formatter(FuncFormatter(lambda _v, _p: ""))


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(_WIDTH, height), layout="constrained")
    return fig, fig.add_subplot()


def _dataset_legend(ax: Any, tokenizers: list[str], datasets: list[str], **kwargs: Any) -> None:
    """One legend: colour = tokenizer, marker shape = dataset (not one entry per pair)."""
    from matplotlib.lines import Line2D

    col = colours(tokenizers)
    handles = [Line2D([], [], color=col[t], marker="o", ls="", label=t) for t in tokenizers]
    if len(datasets) > 1:
        handles += [Line2D([], [], color="#555", marker=_MARKERS[i % len(_MARKERS)], ls="", label=f"dataset {ds}")
                    for i, ds in enumerate(datasets)]
    ax.legend(handles=handles, fontsize=7, **kwargs)


def scaling(samples: list[dict[str, Any]], tokenizers: list[str], name: str) -> str:
    """log T against log N per sample, one colour per tokenizer, with lines of constant C (T = C·N)."""
    fig, ax = _figure(5.5)
    col = colours(tokenizers)
    datasets = list(dict.fromkeys(s["dataset"] for s in samples))
    for t in tokenizers:
        for i, ds in enumerate(datasets):
            pts = [s for s in samples if s["tokenizer"] == t and s["dataset"] == ds]
            if pts:
                ax.scatter([p["tokens"] for p in pts], [p["raw_bytes"] for p in pts], s=22, alpha=0.8,
                           color=col[t], marker=_MARKERS[i % len(_MARKERS)])
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_scale(ax.xaxis)
    _log_scale(ax.yaxis)
    ns = [s["tokens"] for s in samples] or [1]
    ts = [s["raw_bytes"] for s in samples] or [1]
    (x0, x1), (y0, y1) = (min(ns) / 1.5, max(ns) * 1.5), (min(ts) / 1.5, max(ts) * 1.5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    for c in (0.5, 1, 2, 4, 8, 16, 32):
        a, b = max(x0, y0 / c), min(x1, y1 / c)  # the visible stretch of T = c·N
        if a >= b:
            continue
        ax.plot([a, b], [c * a, c * b], color="#999", lw=0.8, ls="--", zorder=0)
        x = math.exp(math.log(a) + 0.8 * (math.log(b) - math.log(a)))
        ax.text(x, c * x, f"C = {c:g} bytes/token", fontsize=7, color="#555", rotation=45,
                transform_rotates_text=True, rotation_mode="anchor", ha="center", va="bottom")
    ax.set_xlabel("N (tokens, log scale)")
    ax.set_ylabel("T (raw bytes, log scale)")
    ax.set_title("log T = log C + log N: each sample lies on the line of its C (dashed: constant C)", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    _dataset_legend(ax, tokenizers, datasets, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return to_svg(fig, name)


def distribution(samples: list[dict[str, Any]], rows: list[dict[str, Any]], tokenizers: list[str],
                 name: str) -> str:
    """Per-sample C per tokenizer: box (p25-p75, whiskers 1.5 IQR), every sample, and ΣT/ΣN per dataset."""
    fig, ax = _figure(0.6 * len(tokenizers) + 1.8)
    col = colours(tokenizers)
    datasets = list(dict.fromkeys(s["dataset"] for s in samples))
    data = [[s["compression"] for s in samples if s["tokenizer"] == t] for t in tokenizers]
    positions = list(range(len(tokenizers)))
    ax.boxplot([d or [math.nan] for d in data], positions=positions, orientation="horizontal", widths=0.55,
               showfliers=False, patch_artist=True, boxprops={"facecolor": "#f2f2f2", "edgecolor": "#666"},
               medianprops={"color": "#333"})
    for y, t in enumerate(tokenizers):
        for i, ds in enumerate(datasets):
            vals = [s["compression"] for s in samples if s["tokenizer"] == t and s["dataset"] == ds]
            offsets = [((k * 0.618) % 1 - 0.5) * 0.4 for k in range(len(vals))]  # deterministic jitter
            ax.scatter(vals, [y + o for o in offsets], s=14, color=col[t], marker=_MARKERS[i % len(_MARKERS)],
                       alpha=0.75, zorder=3)
        for i, ds in enumerate(datasets):
            agg = next((r.get("compression") for r in rows if r["tokenizer"] == t and r["dataset"] == ds), None)
            if agg is not None:
                ax.plot([agg, agg], [y - 0.32, y + 0.32], color="black", lw=1.6, zorder=4)
    ax.set_yticks(positions, tokenizers, fontsize=8)
    ax.invert_yaxis()
    ax.margins(x=0.04)
    ax.set_xlabel("per-sample C = T/N (bytes/token)")
    ax.set_title("Distribution of per-sample C (box: quartiles; marker shape: dataset; black bar: ΣT/ΣN)",
                 fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    if len(datasets) > 1:
        _dataset_legend(ax, [], datasets, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return to_svg(fig, name)


def premium(languages: list[str], tokenizers: list[str], values: dict[tuple[str, str], float | None],
            reference: str, name: str) -> str:
    """Token premium per language (rows) and tokenizer (columns), coloured on a log scale centred on 1."""
    import numpy as np
    from matplotlib.colors import LogNorm

    grid = np.array([[values.get((lang, t)) or np.nan for t in tokenizers] for lang in languages], dtype=float)
    finite = grid[np.isfinite(grid)]
    span = max(float(np.max(np.abs(np.log(finite)))) if finite.size else 1.0, math.log(1.5))
    fig, ax = _figure(0.28 * len(languages) + 2.2)
    image = ax.imshow(grid, cmap="RdBu_r", norm=LogNorm(vmin=math.exp(-span), vmax=math.exp(span)), aspect="auto")
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if abs(math.log(v)) > 0.6 * span else "black")
    ax.set_xticks(range(len(tokenizers)), tokenizers, fontsize=8, rotation=20, ha="right")
    ax.set_yticks(range(len(languages)), languages, fontsize=8)
    ax.set_ylabel("language (ISO 639-3)")
    ax.set_xlabel("tokenizer")
    ax.set_title(f"Token premium: tokens / tokens for {reference} on the same content (ratio; >1 pays more)",
                 fontsize=10)
    bar = fig.colorbar(image, ax=ax, label=f"token premium (ratio to {reference}, log scale)", shrink=0.8)
    _log_scale(bar.ax.yaxis)
    return to_svg(fig, name)


def split(rows: list[dict[str, Any]], tokenizers: list[str], name: str) -> str:
    """C = (T / input) × (input / N) per dataset × tokenizer, as stacked segments on a log axis from 1."""
    fig, ax = _figure(0.32 * len(rows) + 1.8)
    col = colours(tokenizers)
    labels = []
    drawn = False  # the legend labels the first bars drawn; none when every sample failed
    for y, r in enumerate(rows):
        pre, tok, c = r.get("preprocessing_factor"), r.get("tokenizer_factor"), r.get("compression")
        labels.append(f"{r['dataset']} · {r['tokenizer']}")
        if pre is None or tok is None or c is None:
            continue
        ax.barh(y, abs(pre - 1), left=min(1, pre), color="#bbbbbb", hatch="//", edgecolor="#777",
                label=None if drawn else "preprocessing: T / input (ratio)")
        ax.barh(y, abs(c - pre), left=min(pre, c), color=col[r["tokenizer"]], alpha=0.85,
                label=None if drawn else "tokenizer: input / N (bytes/token)")
        drawn = True
        ax.annotate(f"×{pre:.2f} · {tok:.2f} = {c:.2f}", (max(pre, c, 1), y), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7)
    ax.set_xscale("log")
    _log_scale(ax.xaxis)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    lo = min([min(r.get("preprocessing_factor") or 1, r.get("compression") or 1) for r in rows] + [1])
    hi = max([max(r.get("preprocessing_factor") or 1, r.get("compression") or 1) for r in rows] + [1])
    ax.set_xlim(lo / 1.2, hi * 2.2)
    ax.axvline(1, color="#333", lw=0.8)
    ax.set_xlabel("bytes/token (log scale): C = (T / input) × (input / N); a bar starts at 1")
    ax.set_title("Where C comes from: what preprocessing removes (grey) and what the tokenizer compresses",
                 fontsize=10)
    if drawn:
        ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, axis="x", which="both", alpha=0.25)
    return to_svg(fig, name)


def throughput(rows: list[dict[str, Any]], tokenizers: list[str], name: str) -> str:
    """Raw MB/s of tokenize time per dataset × tokenizer (log axis: tokenizers differ by orders of magnitude)."""
    fig, ax = _figure(0.32 * len(rows) + 1.6)
    col = colours(tokenizers)
    labels = []
    for y, r in enumerate(rows):
        labels.append(f"{r['dataset']} · {r['tokenizer']}")
        v = r.get("raw_mb_per_s")
        if v:
            ax.barh(y, v, color=col[r["tokenizer"]], alpha=0.85)
            ax.annotate(f"{v:.3g}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    values = [r["raw_mb_per_s"] for r in rows if r.get("raw_mb_per_s")] or [1.0]
    ax.set_xscale("log")
    _log_scale(ax.xaxis)
    ax.set_xlim(min(values) / 2, max(values) * 3)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("throughput (raw MB/s: 10^6 raw bytes per second of tokenize time, decode excluded; log scale)")
    ax.set_title("Throughput of tokenization", fontsize=10)
    ax.grid(True, axis="x", which="both", alpha=0.25)
    return to_svg(fig, name)
