"""Joining the outputs of sharded runs (``--shard K/N``) into one run.

The merged summary equals that of the unsharded run (timing fields apart):
aggregates are rebuilt from every shard's results.jsonl, and dataset content
hashes, which are order-free sums, add up.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from compressbench.core.contenthash import ContentHash
from compressbench.core.errors import ConfigError
from compressbench.core.ledger import DEFAULT_RENYI_ALPHA, IDS_FILE, add_lines, read_ids
from compressbench.core.sample import Measurement
from compressbench.data.sampling import keep_smallest, merged_population, merged_sampling
from compressbench.provenance import library_versions, machine, utc_now
from compressbench.reports.summary import read_summary
from compressbench.results import Group, RunResult, Written, read_rows, row_key


def _same(runs: list[tuple[Path, dict[str, Any]]], key: str, what: str) -> None:
    first_path, first = runs[0]
    for path, summary in runs[1:]:
        if summary[key] != first[key]:
            raise ConfigError(f"cannot merge {path} with {first_path}: their {what} differ")


def _check_shards(runs: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    """The runs must be distinct shards of one suite; returns warnings (e.g. missing shards)."""
    shards = [s["provenance"].get("shard") for _, s in runs]
    if None in shards and len(runs) > 1:
        unsharded = runs[shards.index(None)][0]
        raise ConfigError(f"cannot merge: {unsharded} is not a shard (it ran without --shard)")
    if len(set(shards)) != len(shards):
        raise ConfigError(f"cannot merge: a shard appears twice ({', '.join(map(str, shards))})")
    schemes = {s["provenance"].get("shard_scheme", "sample id") for _, s in runs}
    if len(schemes) > 1:
        raise ConfigError(f"cannot merge shards split different ways ({', '.join(sorted(schemes))}: some ran with "
                          "an older compressbench); rerun them all with one version")
    counts = {int(s.split("/")[1]) for s in shards if s}
    if len(counts) > 1:
        raise ConfigError(f"cannot merge shards of different splits: {', '.join(map(str, shards))}")
    if counts:
        n = counts.pop()
        missing = sorted(set(range(1, n + 1)) - {int(s.split("/")[0]) for s in shards})
        if missing:
            return [f"shards {', '.join(f'{k}/{n}' for k in missing)} are missing: the merge covers part of the suite"]
    return []


def merged_ids(paths: list[str | Path], rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The token-id counts of the merged rows, streamed from the runs' ``token_ids.jsonl`` (shards are
    disjoint, so a line belongs to the one run whose results hold its key)."""
    written = Written(row["tokenizer"] for row in rows)
    for row in rows:
        written.add(row)
    written.freeze()
    return written.first_lines(chain.from_iterable(read_ids(Path(p) / IDS_FILE) for p in paths))


def merge_runs(paths: list[str | Path]) -> tuple[list[dict[str, Any]], RunResult, list[str]]:
    """Rows, merged result and warnings of the runs in ``paths`` (run directories)."""
    if not paths:
        raise ConfigError("merge needs at least one run directory")
    runs = [(Path(p), read_summary(p)) for p in paths]
    _same(runs, "suite", "suites")
    identities = [{k: {f: v for f, v in t.items() if f != "device"} for k, t in s["tokenizers"].items()}
                  for _, s in runs]
    if any(i != identities[0] for i in identities[1:]):
        raise ConfigError("cannot merge: the runs' tokenizer identities (spec, config or vocabulary hash) differ")
    for key in ("modality", "paths", "reference_language"):
        first = {k: v[key] for k, v in runs[0][1]["datasets"].items()}
        for path, s in runs[1:]:
            if {k: v[key] for k, v in s["datasets"].items()} != first:
                raise ConfigError(f"cannot merge {path} with {runs[0][0]}: their datasets differ ({key})")
    modes = {s["provenance"].get("hash", "full") for _, s in runs}
    if len(modes) > 1:
        raise ConfigError(f"cannot merge: the runs hashed their data differently (--hash {', '.join(sorted(modes))}); "
                          "rerun the shards with one --hash")
    alphas = {s["provenance"].get("renyi_alpha", DEFAULT_RENYI_ALPHA) for _, s in runs}
    if len(alphas) > 1:
        listed = ", ".join(map(str, sorted(alphas)))
        raise ConfigError(f"cannot merge: the runs used different --renyi-alpha ({listed}); rerun the shards with one")
    fidelity = {s["provenance"].get("fidelity") for _, s in runs}
    if len(fidelity) > 1:
        raise ConfigError("cannot merge: some runs measured input PSNR/SSIM and others ran with --no-fidelity; "
                          "rerun the shards with one setting")
    ledger = {s["provenance"].get("ledger", True) for _, s in runs}
    if len(ledger) > 1:
        raise ConfigError("cannot merge: some runs counted token ids and others ran with --no-ledger; "
                          "rerun the shards with one setting")
    for path, _ in runs:
        if not (path / IDS_FILE).is_file():
            raise ConfigError(f"cannot merge: {path} has no {IDS_FILE} (an older compressbench ran it, without "
                              "token-id counts); rerun that shard")
    warnings = _check_shards(runs)
    sampling = merged_sampling([s["provenance"] for _, s in runs])
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, str], Path] = {}
    for path, _ in runs:
        for row in read_rows(path / "results.jsonl"):
            key = row_key(row)
            if key in seen:
                raise ConfigError(f"cannot merge: {key[2]} ({key[1]}) is in both {seen[key]} and {path}")
            seen[key] = path
            rows.append(row)
    first = runs[0][1]
    drawn = len(rows)
    if (sampling and sampling["sample"] and not sampling["sample"].endswith("%")  # --sample N: the N smallest keys
            and sampling.get("sample_by", "record") == "record"):  # (whole units: each shard drew its own exactly)
        rows = keep_smallest(rows, sampling["seed"], int(sampling["sample"]))
    groups = {(r["dataset"], r["modality"], r["tokenizer"]): Group() for r in first["rows"]}
    for row in rows:
        groups[(row["dataset"], row["modality"], row["tokenizer"])].add(Measurement.from_row(row))
    add_lines(groups, merged_ids([p for p, _ in runs], rows))
    datasets = {}
    for name, info in first["datasets"].items():
        content = ContentHash()
        for _, s in runs:
            d = s["datasets"][name]
            content = content.merge(ContentHash.from_hex(d["content_sha256"] or "0", d["samples"]))
        if drawn != len(rows):  # shards drew samples that the merged sample leaves out
            content = ContentHash()
            for sample, digest in {r["sample"]: r.get("file_sha256") or "" for r in rows if r["dataset"] == name}.items():
                content.add(sample, digest)
        digest = None if info.get("content_sha256") is None else content.hexdigest()  # --hash none: no hash
        datasets[name] = {**info, "samples": content.count, "content_sha256": digest,
                          **merged_population([s["datasets"][name] for _, s in runs], complete=not warnings)}
    provenance = {
        "versions": library_versions(), "machine": machine(), "device": first["provenance"]["device"],
        "started_utc": min(s["provenance"]["started_utc"] for _, s in runs),
        "finished_utc": utc_now(), "suite_source": first["provenance"].get("suite_source"),
        "count_only": first["provenance"].get("count_only", False), "hash": modes.pop(), "shard": None,
        "renyi_alpha": alphas.pop(), "fidelity": fidelity.pop(), "ledger": ledger.pop(),
        **({"sampling": sampling} if sampling else {}),
        "merged_from": [{"run": str(p), "shard": s["provenance"].get("shard"),
                         "started_utc": s["provenance"]["started_utc"], "machine": s["provenance"]["machine"]}
                        for p, s in runs],
    }
    result = RunResult(suite=first["suite"], groups=groups, datasets=datasets, tokenizers=first["tokenizers"],
                       provenance=provenance)
    return rows, result, warnings
