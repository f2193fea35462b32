"""Building summary.json / summary.csv from a run, and reading them back.

>>> from compressbench.core.aggregate import Aggregate
>>> premium({"eng": {"tokens": 100}, "hin": {"tokens": 250}}, "eng")["hin"]["token_premium"]
2.5
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from compressbench.core import confidence
from compressbench.core.errors import ConfigError, reading
from compressbench.core.ledger import DEFAULT_RENYI_ALPHA, summary_fields
from compressbench.core.metrics import ratio
from compressbench.core.registry import units
from compressbench.reports.schema import SCHEMA, Summary, SummaryRow
from compressbench.results import RunResult
from compressbench.core.jsonlines import json_text

_LANGUAGE_KEYS = ("samples", "errors", "raw_bytes", "tokens", "compression", "chars_per_token",
                  "fertility", "byte_token_rate")


def premium(languages: dict[str, dict[str, Any]], reference: str) -> dict[str, dict[str, Any]]:
    """Add ``token_premium`` (tokens / the reference language's tokens) to each language's row."""
    ref = languages.get(reference, {}).get("tokens")
    for row in languages.values():
        row["token_premium"] = ratio(row["tokens"], ref) if ref else None
    return languages


def build_summary(result: RunResult) -> Summary:
    """The summary of a run: one row per dataset x modality x tokenizer, with provenance."""
    rows: list[SummaryRow] = []
    alpha = result.provenance.get("renyi_alpha", DEFAULT_RENYI_ALPHA)
    ledger = result.provenance.get("ledger", True)  # False: the run skipped the ids (--no-ledger)
    for (dataset, modality, tokenizer), group in result.groups.items():
        row: dict[str, Any] = {"dataset": dataset, "modality": modality, "tokenizer": tokenizer}
        row.update(group.total.summary())
        info = result.datasets[dataset]  # a sampled dataset knows its population; else the run saw all of it
        population = info.get("population_samples") if "sample_rounds" in info else group.total.samples
        if "sampled_units" in info:  # whole units drawn: the interval stands on the units' totals
            row.update(confidence.cluster_columns(group.total.unit_moments(info["sampled_units"]),
                                                  samples=group.total.samples, population=population,
                                                  population_units=info["population_units"]))
        else:
            row.update(confidence.columns(group.total.sample_moments(), samples=group.total.samples,
                                          population=population))
        if group.languages:
            langs = {lang: {k: v for k, v in agg.summary().items() if k in _LANGUAGE_KEYS}
                     for lang, agg in sorted(group.languages.items())}
            row["languages"] = premium(langs, result.datasets[dataset]["reference_language"])
        row.update(summary_fields(group.ids, result.tokenizers.get(tokenizer, {}), alpha, row,
                                  counted=ledger))
        rows.append(row)  # type: ignore[arg-type]
    return Summary(schema=SCHEMA, suite=result.suite, provenance=result.provenance,
                   datasets=result.datasets, tokenizers=result.tokenizers, units=units(), rows=rows)


def csv_columns(rows: list[SummaryRow]) -> list[str]:
    """Columns of summary.csv: the contract keys first, then the rest in first-seen order."""
    columns = ["dataset", "modality", "tokenizer", "samples", "errors", "raw_bytes", "tokens", "compression"]
    for row in rows:
        columns += [k for k in row if k not in columns and k != "languages"]
    return columns


def write_summary(summary: Summary, out: Path) -> None:
    """Write summary.json and summary.csv into ``out``."""
    (out / "summary.json").write_text(json_text(summary, indent=2) + "\n", encoding="utf-8")
    columns = csv_columns(summary["rows"])
    with (out / "summary.csv").open("w", newline="", encoding="utf-8", errors="backslashreplace") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(summary["rows"])


def read_summary(path: str | Path) -> Summary:
    """Read a summary.json, or the one in a run directory."""
    path = Path(path)
    if path.is_dir():
        if not (path / "summary.json").exists() and (path / "results.jsonl").exists():
            raise ConfigError(f"{path}: the run is unfinished (results.jsonl but no summary.json yet); finish it with "
                              f"`compressbench run SUITE --out {path} --resume` (and its --shard, for a shard)")
        path = path / "summary.json"
    with reading(path, "summary", missing="pass a run directory or its summary.json", invalid=(json.JSONDecodeError,)):
        data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ConfigError(f"{path}: not a compressbench summary (expected schema {SCHEMA!r})")
    return data  # type: ignore[return-value]
