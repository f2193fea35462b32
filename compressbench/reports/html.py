"""report.html: one self-contained page per run (inline SVG, inline CSS, no script, no network).

Per modality: the summary table; log T against log N per sample with lines of
constant C; the distribution of per-sample C; for text, the token premium per
language; where the run reports them, rate against fidelity along each sweep (media) or
vocabulary use and fairness (text); where C comes from (preprocessing vs tokenization); throughput. Then
provenance, units and failures. Every axis and column carries its unit.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Collection, Iterable
from typing import Any

from compressbench.core.errors import ErrorMessages
from compressbench.core.registry import units
from compressbench.reports import curves, figures
from compressbench.reports.schema import Summary
from compressbench.reports.tables import fmt, printable, render, with_interval

_SUMMARY = [
    ("dataset", "dataset"), ("tokenizer", "tokenizer"), ("samples", "samples (count)"),
    ("errors", "failed (count)"), ("raw_bytes", "T (bytes)"), ("tokens", "N (tokens)"),
    ("compression", "C = ΣT/ΣN (bytes/token)"), ("spread", "per-sample C p10 · p50 · p90 (bytes/token)"),
]
_TEXT = [
    ("dataset", "dataset"), ("tokenizer", "tokenizer"), ("chars_per_token", "chars/token (characters/token)"),
    ("fertility", "fertility (tokens/word)"), ("unk_rate", "unknown-token rate (share 0-1)"),
    ("byte_token_rate", "byte-token rate (share 0-1)"),
]
_SPLIT = [
    ("dataset", "dataset"), ("tokenizer", "tokenizer"), ("raw_bytes", "T (bytes)"),
    ("input_bytes", "input (bytes)"), ("tokens", "N (tokens)"),
    ("preprocessing_factor", "preprocessing T/input (ratio)"),
    ("tokenizer_factor", "tokenizer input/N (bytes/token)"), ("compression", "C = T/N (bytes/token)"),
]
_THROUGHPUT = [
    ("dataset", "dataset"), ("tokenizer", "tokenizer"), ("raw_bytes", "T (bytes)"),
    ("seconds", "tokenize time (s)"), ("decode_seconds", "decode time (s)"),
    ("raw_mb_per_s", "throughput (raw MB/s)"), ("tokens_per_s", "throughput (tokens/s)"),
]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;
padding:0 20px 40px;color:#222}
h1{margin-top:24px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;margin:8px 0 16px;font-size:12.5px}
th,td{border:1px solid #ddd;padding:3px 7px;white-space:nowrap}th{background:#f5f5f5}
figure{margin:12px 0 24px}figure svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:12.5px;margin-top:4px}
.note{background:#fff8e1;border-left:4px solid #f0c000;padding:6px 10px}
code{background:#f3f3f3;padding:0 3px}nav a{margin-right:12px}
"""


_LEFT = {"what", "value", "family", "device", "sha"}


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], css_class: str) -> str:
    table = render(rows, columns, tablefmt="html", left=_LEFT).replace("<table>", f'<table class="{css_class}">', 1)
    return f'<div class="table-wrap">{table}</div>'


def _figure(svg: str, caption: str, css_id: str) -> str:
    return f'<figure class="chart" id="{css_id}">{svg}<figcaption>{html.escape(caption)}</figcaption></figure>'


def _premium_section(modality: str, rows: list[dict[str, Any]], summary: Summary) -> list[str]:
    out = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows if r.get("languages")):
        mine = [r for r in rows if r["dataset"] == dataset and r.get("languages")]
        reference = summary["datasets"][dataset]["reference_language"]
        tokenizers = [r["tokenizer"] for r in mine]
        languages = sorted({lang for r in mine for lang in r["languages"]})
        values = {(lang, r["tokenizer"]): r["languages"].get(lang, {}).get("token_premium")
                  for r in mine for lang in languages}
        # Languages ordered by their mean premium, so the expensive ones stand out at the bottom.
        def mean(lang: str) -> float:
            vs = [v for t in tokenizers if (v := values.get((lang, t))) is not None]
            return sum(vs) / len(vs) if vs else 0.0
        languages.sort(key=lambda lang: (mean(lang), lang))
        svg = figures.premium(languages, tokenizers, values, reference, f"{modality}-{dataset}-premium")
        table_rows = [{"language": lang, **{t: values.get((lang, t)) for t in tokenizers}} for lang in languages]
        columns = [("language", "language (ISO 639-3)")] + [(t, f"{t} (ratio)") for t in tokenizers]
        out += [f"<h3>Token premium per language: dataset <code>{html.escape(dataset)}</code></h3>",
                _figure(svg, f"Tokens for each language divided by tokens for {reference} on the same content "
                        "(ratio). Above 1 the language pays more tokens for the same meaning.",
                        f"{modality}-{dataset}-premium"),
                "<details><summary>The numbers</summary>", _table(table_rows, columns, "premium"), "</details>"]
    return out


def _curves_section(modality: str, rows: list[dict[str, Any]], summary: Summary) -> list[str]:
    """Per dataset: rate against fidelity along each sweep (media), or the efficiency panel (text); only for
    the metrics the run reports."""
    out = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == dataset]
        css_id, title = f"{modality}-{dataset}-curves", f"dataset <code>{html.escape(dataset)}</code>"
        if modality != "text" and curves.fidelity_keys(mine):
            lines = curves.sweep_lines([r["tokenizer"] for r in mine], summary["tokenizers"])
            keys = curves.fidelity_keys(mine)
            out += [f"<h3>Rate against fidelity: {title}</h3>",
                    _figure(curves.rate_fidelity(mine, lines, css_id), "C = ΣT/ΣN and N against what the model's "
                            "input keeps of the original (dataset means); tokenizers of one family that differ in "
                            "one option form a line, ordered by that option.", css_id),
                    _table(mine, [("tokenizer", "tokenizer"), ("compression", "C (bytes/token)"),
                                  ("tokens", "N (tokens)")] + [(k, curves.FIDELITY[k]) for k in keys], "fidelity")]
        elif modality == "text" and curves.efficiency_keys(mine):
            keys = curves.efficiency_keys(mine)
            out += [f"<h3>Vocabulary use and fairness: {title}</h3>",
                    _figure(curves.efficiency(mine, css_id), "Rényi efficiency (entropy of the token "
                            "distribution over log2 of the vocabulary size), the share of the vocabulary used, and "
                            "the Gini coefficient of tokens per byte across languages.", css_id),
                    _table(mine, [("tokenizer", "tokenizer")] + [(k, curves.EFFICIENCY.get(
                        k, "Gini of tokens/byte over languages (0-1)")) for k in keys], "efficiency")]
    return out


def _modality_section(modality: str, rows: list[dict[str, Any]], samples: list[dict[str, Any]] | None,
                      summary: Summary, subsampled: Collection[str] = ()) -> str:
    tokenizers = list(dict.fromkeys(r["tokenizer"] for r in rows))
    title = html.escape(modality.capitalize())
    summary_rows = [{**r, "spread": " · ".join(fmt(r.get(f"compression_p{p}")) for p in (10, 50, 90))} for r in rows]
    summary_columns = _SUMMARY
    if any("sample_rounds" in summary["datasets"][r["dataset"]] for r in rows):
        summary_rows, summary_columns = with_interval(summary_rows, _SUMMARY)
    out = [f'<section class="modality" id="modality-{modality}" data-modality="{html.escape(modality)}">',
           f"<h2>{title}</h2>", "<h3>Summary</h3>", _table(summary_rows, summary_columns, "summary")]
    if modality == "text":
        out += ["<p>Text metrics (ratios of sums over the dataset):</p>", _table(rows, _TEXT, "text-metrics")]
    if samples:
        out += [_figure(figures.scaling(samples, tokenizers, f"{modality}-scaling"),
                        "Each point is one sample: raw bytes T against tokens N on log axes. Since "
                        "log T = log C + log N, a tokenizer's samples lie near a line of slope 1 whose offset is "
                        "log C; dashed lines mark constant C in bytes/token.", f"{modality}-scaling"),
                _figure(figures.distribution(samples, rows, tokenizers, f"{modality}-distribution"),
                        "Per-sample C = T/N in bytes/token for each tokenizer (box: quartiles; whiskers: 1.5 IQR); "
                        "the black bar is the dataset's ΣT/ΣN.", f"{modality}-distribution")]
        out += _subsample_note(dict.fromkeys(r["dataset"] for r in rows if r["dataset"] in subsampled), samples, summary)
    else:
        out.append('<p class="note">No per-sample results (results.jsonl) beside this summary: the scatter of '
                   "log T against log N and the distribution of per-sample C are left out.</p>")
    if modality == "text":
        out += _premium_section(modality, rows, summary)
    out += _curves_section(modality, rows, summary)
    out += ["<h3>Where C comes from: preprocessing vs tokenization</h3>",
            _figure(figures.split(rows, tokenizers, f"{modality}-split"),
                    "C = (T / input) × (input / N): the ratio of raw to input bytes is what preprocessing "
                    "(resampling, resizing, cropping, frame sampling) removes; input bytes per token is what the "
                    "tokenizer itself compresses. Text has no preprocessing: its first factor is 1.",
                    f"{modality}-split"),
            _table(rows, _SPLIT, "split"),
            "<h3>Throughput</h3>",
            _figure(figures.throughput(rows, tokenizers, f"{modality}-throughput"),
                    "Raw megabytes (10^6 bytes) tokenized per second of tokenize time on this machine "
                    "(decode excluded).", f"{modality}-throughput"),
            _table(rows, _THROUGHPUT, "throughput"), "</section>"]
    return "\n".join(out)


def _provenance(summary: Summary) -> str:
    p = summary["provenance"]
    lines = [{"what": "run (UTC)", "value": f"{p.get('started_utc')} → {p.get('finished_utc')}"},
             {"what": "device", "value": p.get("device")},
             {"what": "machine", "value": p.get("machine", {}).get("platform")},
             {"what": "suite file", "value": p.get("suite_source")}]
    lines += [{"what": f"{k} version", "value": v} for k, v in p.get("versions", {}).items()]
    datasets = [{"dataset": k, "modality": v["modality"], "samples": v["samples"],
                 "sha": v["content_sha256"] or "none (--hash none)"} for k, v in summary["datasets"].items()]
    toks = [{"tokenizer": k, "family": v.get("family"), "device": v.get("device"), "sha": v["sha256"]}
            for k, v in summary["tokenizers"].items()]
    return "\n".join([
        '<section id="provenance"><h2>Provenance</h2>', _table(lines, [("what", ""), ("value", "")], "provenance"),
        _table(datasets, [("dataset", "dataset"), ("modality", "modality"), ("samples", "samples (count)"),
                          ("sha", "content sha256 (hex)")], "datasets"),
        _table(toks, [("tokenizer", "tokenizer"), ("family", "family"), ("device", "device"),
                      ("sha", "identity sha256 (hex)")], "tokenizers"), "</section>"])


def _subsample_note(datasets: Iterable[str], samples: list[dict[str, Any]], summary: Summary) -> list[str]:
    """Which datasets the figures show only some samples of, and how many."""
    listed = [f"{html.escape(d)}: {len({s['sample'] for s in samples if s['dataset'] == d}):,} of "
              f"{summary['datasets'][d]['samples']:,}" for d in datasets]
    if not listed:
        return []
    return ['<p class="note">The two figures above show some samples of these datasets, drawn at random (the '
            f"same under every tokenizer); the tables count every sample. Samples shown: {'; '.join(listed)}.</p>"]


def _failures(errors: Iterable[str]) -> str:
    errors = ErrorMessages.of(errors)
    if not errors:
        return ""
    items = "".join(f"<li>{html.escape(printable(e))}</li>" for e in itertools.islice(errors, 100))
    more = f"<p>{html.escape(more)}</p>" if (more := errors.more(100)) else ""
    return f'<section id="failures"><h2>Failed samples ({errors.heading()})</h2><ul>{items}</ul>{more}</section>'


def render_html(summary: Summary, samples: list[dict[str, Any]] | None, errors: Iterable[str], *,
                subsampled: Collection[str] = ()) -> str:
    """The whole report as one HTML document; ``samples`` are results.jsonl rows (None if absent), of only some
    samples of the datasets in ``subsampled`` (:func:`~compressbench.reports.results.read_results`)."""
    rows = summary["rows"]
    modalities = list(dict.fromkeys(r["modality"] for r in rows))
    ok = [s for s in samples or [] if not s.get("error") and s.get("tokens")]
    sections = [_modality_section(m, [r for r in rows if r["modality"] == m],
                                  [s for s in ok if s["modality"] == m] if samples is not None else None, summary,
                                  subsampled)
                for m in modalities]
    table = {**units(), **summary.get("units", {})}  # the run's own table: plugin counts without the plugin
    unit_items = "".join(f"<li><code>{k}</code>: {html.escape(v)}</li>" for k, v in table.items())
    nav = "".join(f'<a href="#modality-{m}">{html.escape(m)}</a>' for m in modalities)
    title = f"compressbench report: {html.escape(summary['suite'])}"
    return "\n".join([
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{title}</h1>",
        "<p>C = T / N: raw bytes T carried by one token N (bytes/token; higher compresses more). Aggregates are "
        "ΣT / ΣN over a dataset, not means of per-sample ratios; p10/p50/p90 give the spread of per-sample C.</p>",
        f"<nav>{nav}<a href=\"#provenance\">provenance</a><a href=\"#units\">units</a></nav></header>",
        *sections, _failures(errors), _provenance(summary),
        f'<section id="units"><h2>Units</h2><ul>{unit_items}</ul></section>', "</body></html>", ""])
