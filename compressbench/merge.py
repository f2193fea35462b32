"""Joining the outputs of sharded runs (``--shard K/N``) into one run.

The merged summary equals that of the unsharded run (timing fields apart):
aggregates are rebuilt from every shard's results.jsonl, and dataset content
hashes, which are order-free sums, add up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

from compressbench.core.contenthash import ContentHash
from compressbench.core.errors import ConfigError, ErrorMessages
from compressbench.core.ledger import DEFAULT_RENYI_ALPHA, IDS_FILE, add_lines, read_ids
from compressbench.core.sample import Measurement
from compressbench.data.sampling import SmallestKeys, merged_population, merged_sampling
from compressbench.provenance import library_versions, machine, utc_now
from compressbench.reports.summary import read_summary
from compressbench.results import Group, RunResult, Written, iter_rows, row_key


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


def _rows(paths: list[Path]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every shard's rows with the shard they come from, streamed from its results.jsonl."""
    for path in paths:
        for row in iter_rows(path / "results.jsonl"):
            yield path, row


@dataclass
class Merged:
    """A merge of shards: its result, warnings and error messages."""

    result: RunResult
    warnings: list[str]
    errors: ErrorMessages


Emit = Callable[[dict[str, Any]], None]


def _ids(paths: list[Path], written: Written) -> Iterator[dict[str, Any]]:
    """The token-id counts of the ``written`` rows, from the runs' ``token_ids.jsonl`` (shards are disjoint,
    so a line belongs to the one run whose results hold its key)."""
    return written.first_lines(chain.from_iterable(read_ids(p / IDS_FILE) for p in paths))


def _sent(lines: Iterable[dict[str, Any]], emit: Emit | None) -> Iterator[dict[str, Any]]:
    """``lines``, each also given to ``emit`` (when there is one) as it passes."""
    for line in lines:
        if emit is not None:
            emit(line)
        yield line


def _kept(paths: list[Path], keep: SmallestKeys | None) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The shards' rows that the merge keeps (all of them unless ``keep`` says otherwise)."""
    return ((p, r) for p, r in _rows(paths) if keep is None or keep.kept(r["dataset"], r["sample"]))


def _written(rows: Iterable[tuple[Path, dict[str, Any]]], tokenizers: list[str],
             keep: SmallestKeys | None = None) -> Written:
    """The rows noted in a :class:`Written` (and each offered to ``keep``)."""
    written = Written(tokenizers, terms=False)  # the merge sums the shards' hashes, or hashes the kept samples
    for path, row in rows:
        if row["tokenizer"] not in written.bits:
            raise ConfigError(f"cannot merge: {path / 'results.jsonl'} has rows of tokenizer {row['tokenizer']!r}, "
                              "which its summary.json does not list; the run folder is damaged")
        written.add(row)
        if keep is not None:
            keep.offer(row["dataset"], row["sample"])
    written.freeze()
    return written


def _add_up(paths: list[Path], keep: SmallestKeys | None, groups: dict[tuple[str, str, str], Group],
            kept: Written | None, emit: Emit | None) -> tuple[ErrorMessages, dict[str, dict[str, str]]]:
    """Add the kept rows up into their groups (and note them in ``kept``, when only some are kept), each
    given to ``emit`` too. Returns their error messages (unique, in order) and, with ``keep``, each
    dataset's kept samples and their digests (at most N a dataset)."""
    errors = ErrorMessages()
    digests: dict[str, dict[str, str]] = {}
    for row in _sent((row for _, row in _kept(paths, keep)), emit):
        groups[(row["dataset"], row["modality"], row["tokenizer"])].add(Measurement.from_row(row))
        if row.get("error"):
            errors.add(row["error"])
        if kept is not None:
            kept.add(row)
            digests.setdefault(row["dataset"], {})[row["sample"]] = row.get("file_sha256") or ""
    return errors, digests


def _refuse_repeats(written: Written, paths: list[Path]) -> None:
    """A row in two shards (or twice in one) stops the merge, naming both."""
    repeat = written.repeated(row for _, row in _rows(paths))
    if repeat is None:
        return
    key = row_key(repeat)
    where = list(islice((path for path, row in _rows(paths) if row_key(row) == key), 2))
    raise ConfigError(f"cannot merge: {key[2]} ({key[1]}) is in both {where[0]} and {where[-1]}")


def merge_runs(paths: list[str | Path]) -> "MergePlan":
    """The runs in ``paths`` (run directories) checked for a merge, which :meth:`MergePlan.write` then
    makes. Each shard's results.jsonl is read twice in all, streamed (here, to note which rows it holds;
    then to add them up and pass them on), its token_ids.jsonl once, and memory holds about 50 bytes a
    sample (:class:`~compressbench.results.Written`), not the rows."""
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
    paths = [p for p, _ in runs]
    names = list(runs[0][1]["tokenizers"])
    keep = None
    if (sampling and sampling["sample"] and not sampling["sample"].endswith("%")  # --sample N: the N smallest keys
            and sampling.get("sample_by", "record") == "record"):  # (whole units: each shard drew its own exactly)
        keep = SmallestKeys(sampling["seed"], int(sampling["sample"]))
    written = _written(_rows(paths), names, keep)
    _refuse_repeats(written, paths)
    settings = {"hash": modes.pop(), "renyi_alpha": alphas.pop(), "fidelity": fidelity.pop(), "ledger": ledger.pop()}
    return MergePlan(runs, warnings, settings, sampling, keep, written)


@dataclass
class MergePlan:
    """Runs found mergeable (every check passed, each shard's rows read once); :meth:`write` merges them."""

    runs: list[tuple[Path, dict[str, Any]]]
    warnings: list[str]
    settings: dict[str, Any]  # hash, renyi_alpha, fidelity, ledger: one value over all the runs
    sampling: dict[str, Any] | None
    keep: SmallestKeys | None  # --sample N shards with streams: the rows kept
    written: Written  # every row of every shard

    def write(self, emit: Emit | None = None, emit_ids: Emit | None = None) -> Merged:
        """Add the kept rows and their token-id counts up, each shard's files read once more, streamed;
        ``emit`` receives each merged row and ``emit_ids`` each merged ``token_ids.jsonl`` line as they pass."""
        runs, written, keep = self.runs, self.written, self.keep
        first = runs[0][1]
        paths = [p for p, _ in runs]
        groups = {(r["dataset"], r["modality"], r["tokenizer"]): Group() for r in first["rows"]}
        chosen = None if keep is None else Written(list(first["tokenizers"]), terms=False)  # the rows --sample N keeps
        errors, digests = _add_up(paths, keep, groups, chosen, emit)
        if chosen is not None:
            chosen.freeze()
        kept = written if chosen is None else chosen
        add_lines(groups, _sent(_ids(paths, kept), emit_ids))
        datasets = {}
        for name, info in first["datasets"].items():
            content = ContentHash()
            for _, s in runs:
                d = s["datasets"][name]
                content = content.merge(ContentHash.from_hex(d["content_sha256"] or "0", d["samples"]))
            if kept.rows != written.rows:  # shards drew samples that the merged sample leaves out
                content = ContentHash()
                for sample, digest in digests.get(name, {}).items():
                    content.add(sample, digest)
            digest = None if info.get("content_sha256") is None else content.hexdigest()  # --hash none: no hash
            datasets[name] = {**info, "samples": content.count, "content_sha256": digest,
                              **merged_population([s["datasets"][name] for _, s in runs], complete=not self.warnings)}
        provenance = {
            "versions": library_versions(), "machine": machine(), "device": first["provenance"]["device"],
            "started_utc": min(s["provenance"]["started_utc"] for _, s in runs),
            "finished_utc": utc_now(), "suite_source": first["provenance"].get("suite_source"),
            "count_only": first["provenance"].get("count_only", False), **self.settings, "shard": None,
            **({"sampling": self.sampling} if self.sampling else {}),
            "merged_from": [{"run": str(p), "shard": s["provenance"].get("shard"),
                             "started_utc": s["provenance"]["started_utc"], "machine": s["provenance"]["machine"]}
                            for p, s in runs],
            **({"merge_incomplete": self.warnings} if self.warnings else {}),  # shards missing: part of the suite
        }
        result = RunResult(suite=first["suite"], groups=groups, datasets=datasets, tokenizers=first["tokenizers"],
                           provenance=provenance)
        return Merged(result=result, warnings=self.warnings, errors=errors)
