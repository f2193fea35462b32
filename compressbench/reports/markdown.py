"""report.md: a readable per-modality compression report of one run.

Per modality: the summary table; for text, chars/token, fertility and the
unknown and byte-token rates, and the token premium per language; then
provenance (versions, device, dataset hashes, tokenizer identities) and failures.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from compressbench.core import spread
from compressbench.core.errors import ErrorMessages
from compressbench.core.registry import units
from compressbench.reports.schema import Summary
from compressbench.reports.tables import (SPLIT_COLUMNS, SUMMARY_COLUMNS, TEXT_COLUMNS, fmt, printable, render,
                                         with_interval)

_MAX_ERRORS_LISTED = 50


def _premium_table(rows: list[dict[str, Any]], reference: str) -> str:
    """Languages down, tokenizers across: token premium (and C) for the same content."""
    tokenizers = [r["tokenizer"] for r in rows]
    languages = sorted({lang for r in rows for lang in r["languages"]})
    table = []
    for lang in languages:
        line: dict[str, Any] = {"language": lang}
        for r in rows:
            cell = r["languages"].get(lang, {})
            line[r["tokenizer"]] = f"{fmt(cell.get('token_premium'))} ({fmt(cell.get('compression'))})"
        table.append(line)
    columns = [("language", "language")] + [(t, t) for t in tokenizers]
    return (
        f"Token premium: tokens for a language / tokens for `{reference}` on the same content "
        "(ratio; in brackets C in bytes/token). Above 1 the language pays more tokens.\n\n"
        + render(table, columns, markdown=True)
    )


def _content(info: dict[str, Any]) -> str:
    """The dataset's content hash and how it was taken (--hash)."""
    digest, mode = info.get("content_sha256"), info.get("content_hash", "full")
    if digest is None:
        return "no content hash (--hash none)"
    how = "" if mode == "full" else " (--hash quick: size and first and last 64 KiB of each file)"
    return f"content sha256 `{digest[:16]}…`{how}"


def _drawn(info: dict[str, Any]) -> str:
    """How a sampled dataset's samples were drawn (nothing for an exhaustive run)."""
    if "sample_rounds" not in info:
        return ""
    population = info.get("population_samples")
    of = f" of {population:,}" if population is not None else ""
    rounds = info["sample_rounds"]
    units = (f" in {info['sampled_units']:,} of {info['population_units']:,} whole reading "
             f"unit{'' if info['population_units'] == 1 else 's'}" if "sampled_units" in info else "")
    return (f" drawn at random{of}{units} (--sample {rounds[-1]}"
            + (f", {len(rounds)} rounds" if len(rounds) > 1 else "") + "); C with its 95% confidence interval")


def _modality_section(modality: str, rows: list[dict[str, Any]], summary: Summary) -> list[str]:
    out = [f"## {modality.capitalize()}", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == dataset]
        info = summary["datasets"][dataset]
        table, columns = mine, [c for c in SUMMARY_COLUMNS if c[0] not in ("dataset", "modality")]
        if "sample_rounds" in info:
            table, columns = with_interval(mine, columns)
        out += [f"### Dataset `{dataset}`", "",
                f"{info['samples']} samples{_drawn(info)}; {_content(info)}.", "",
                render(table, columns, markdown=True), ""]
        if modality == "text":
            out += ["Text metrics (ratios of sums over the dataset):", "",
                    render(mine, TEXT_COLUMNS, markdown=True), ""]
        else:
            out += ["Preprocessing vs tokenization: C = (T / input) × (input / N), input being the canonical "
                    "size of what the tokenizer consumed after resampling, resizing, cropping or frame sampling:",
                    "", render(mine, SPLIT_COLUMNS, markdown=True), ""]
        with_languages = [r for r in mine if r.get("languages")]
        if with_languages:
            out += [_premium_table(with_languages, info["reference_language"]), ""]
    return out


_OPTIONAL = (("ledger", "the information ledger (--no-ledger: token-id fields and continued words are empty)"),
             ("fidelity", "input PSNR and SSIM (--no-fidelity or --count-only)"))


def _provenance(summary: Summary) -> list[str]:
    p = summary["provenance"]
    versions = ", ".join(f"{k} {v}" for k, v in p["versions"].items() if v)
    out = ["## Provenance", "",
           f"- run: {p['started_utc']} → {p['finished_utc']} (UTC), device `{p['device']}`, {p['machine']['platform']}",
           f"- suite `{summary['suite']}`" + (f" ({p['suite_origin']})" if p.get("suite_origin") else "")
           + (f" from `{p['suite_source']}`" if p.get("suite_source") else ""),
           f"- versions: {versions}"]
    for warning in p.get("merge_incomplete", []):
        out.append(f"- **partial merge**: {warning}")
    skipped = [what for key, what in _OPTIONAL if p.get(key) is False]
    if skipped:
        out.append(f"- not measured in this run: {'; '.join(skipped)}")
    out += ["", "| tokenizer | identity (sha256) | device |", "|---|---|---|"]
    out += [f"| `{name}` | `{t['sha256'][:16]}…` | {t['device']} |" for name, t in summary["tokenizers"].items()]
    return out + [""]


def _units(keys: set[str], table: dict[str, str]) -> list[str]:
    out = ["## Units", ""]
    out += [f"- `{k}`: {table[k]}" for k in table if k in keys]
    return out + [""]


def _sketched_note(rows: list[dict]) -> str:
    """What the intro says when some rows' percentiles come from the sketch (:mod:`compressbench.core.spread`)."""
    if not any(r.get("compression_percentiles") == spread.SKETCHED for r in rows):
        return ""
    return (f" Where a dataset has more than {spread.EXACT_SAMPLES:,} samples they are read from a DDSketch, within "
            f"{spread.RELATIVE_ACCURACY:.1%} of the value at each rank (`compression_percentiles`).")


def render_report(summary: Summary, errors: Iterable[str]) -> str:
    """The whole report as Markdown; ``errors``: the run's distinct error messages (an :class:`ErrorMessages`
    says whether it holds them all)."""
    rows = summary["rows"]
    out = [f"# compressbench report: {summary['suite']}", "",
           "C = T / N: raw bytes carried by one token (higher compresses more). "
           "Aggregates are ΣT / ΣN over a dataset, not means of per-sample ratios; "
           "p10/p50/p90 show the spread of per-sample C."
           + _sketched_note(rows)
           + (" Samples were drawn at random: the 95% confidence interval beside C says how precisely the "
              "sample gives the whole dataset's C (docs/sampling.md)." if summary["provenance"].get("sampling")
              else ""), ""]
    for modality in dict.fromkeys(r["modality"] for r in rows):
        out += _modality_section(modality, [r for r in rows if r["modality"] == modality], summary)
    errors = ErrorMessages.of(errors)
    if errors:
        out += [f"## Failed samples ({errors.heading()})", ""]
        out += [f"- {printable(e)}" for e in itertools.islice(errors, _MAX_ERRORS_LISTED)]
        if more := errors.more(_MAX_ERRORS_LISTED):
            out.append(f"- {more}")
        out.append("")
    out += _units({k for r in rows for k in r}, {**units(), **summary.get("units", {})})
    out += _provenance(summary)
    return "\n".join(out)
