"""``compressbench run``: measure a suite (default: the fixtures) and write results, summary and report."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from compressbench.cli.common import SUMMARY_FILES, ResultsWriter, add_run_options, finish_run, run_options
from compressbench.cli.outdir import missing_folders, prepare_out_dir, remove_made
from compressbench.core.errors import ConfigError
from compressbench.core.ledger import IDS_FILE

NAME = "run"
ORDER = 10
HELP = "run a benchmark suite (default: the multilingual fixtures) and write results, summary and report"
EXAMPLES = [
    "compressbench run                                 # fixtures/suite.toml here, else the packaged demo",
    "compressbench run my-suite.toml --out runs/today  # your own suite",
    "compressbench run --out runs/x --force            # overwrite a previous run's folder",
    "compressbench run big.toml --out runs/big --resume  # go on after a crash or kill -9",
    "compressbench run big.toml --shard 3/8 --out runs/s3  # one of 8 shards; then compressbench merge",
    "compressbench run images.toml --count-only --hash quick  # N from headers, reading little of each file",
    "compressbench run big.toml --sample 2000 --seed 1  # 2000 random records per dataset, C with a 95% interval",
    "compressbench run big.toml --precision 1        # sample until C is known to within ±1%",
    "compressbench run s3.toml --precision 1 --sample-by unit  # whole row groups/shards: read a small share",
]
MANIFEST = "run.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("suite", nargs="?", help="suite file (TOML); default: fixtures/suite.toml in the current folder, "
                                            "else the small demo suite shipped with compressbench")
    p.add_argument("--out", default="compressbench-out", help="output directory (default: ./compressbench-out)")
    p.add_argument("--force", action="store_true", help="write into a non-empty output directory")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in --out: finished samples are not measured again")
    p.add_argument("--shard", metavar="K/N",
                   help="run only shard K of N (K from 1): the reading units (loose files, Parquet row groups, "
                        "tar, JSONL, CSV or zip files) whose identity hashes to K")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local (default) or ray: Ray Data actors on a cluster (pip install 'compressbench[ray]')")
    p.add_argument("--address", help="with --engine ray: the cluster (e.g. ray://head:10001, or auto); "
                                     "default: a local Ray instance")
    p.add_argument("--sample", metavar="N|P%",
                   help="measure a uniform random sample of each dataset: N records, or P%% of its records; "
                        "summary rows then carry a 95%% confidence interval of C (see docs/sampling.md)")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample: the same seed draws the same sample (default 0)")
    p.add_argument("--precision", type=float, metavar="PCT",
                   help="sample in rounds (each at least doubling the sample) until the 95%% interval of C is within ±PCT%% of C "
                        "for every dataset and tokenizer (or the dataset is exhausted)")
    p.add_argument("--sample-by", choices=("record", "unit"), metavar="record|unit",
                   help="what --sample and --precision draw: records (default; a row group or shard holding one "
                        "is read) or whole reading units (Parquet row groups, tar, JSONL, CSV or zip files, loose "
                        "files), each read once and measured whole, the others never opened; with unit, P%% is a "
                        "share of the units and the interval of C accounts for records alike within a unit")
    add_run_options(p)


def sample_spec(args: argparse.Namespace) -> Any:
    """The SampleSpec of --sample/--seed/--precision (None: every record), checked against the other options."""
    from compressbench.data.sampling import SampleSpec

    if args.sample is None and args.precision is None:
        if args.seed != 0:
            raise ConfigError("--seed chooses a random sample: give it with --sample or --precision")
        if args.sample_by is not None:
            raise ConfigError("--sample-by says how a random sample is drawn: give it with --sample or --precision")
        return None
    if args.precision is not None and args.shard:
        raise ConfigError("--precision decides when to stop from the whole dataset: run it without --shard, "
                          "or give shards a fixed --sample")
    return SampleSpec.parse(args.sample, seed=args.seed, precision=args.precision,
                            sample_by=args.sample_by or "record")


def _manifest(suite: Any, tokenizers: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    """What must not change between a run and its resumption."""
    from compressbench.runner import SHARD_SCHEME

    return {"suite": suite.name, "suite_source": suite.source, "shard": args.shard,
            **({"shard_scheme": SHARD_SCHEME} if args.shard else {}), "count_only": args.count_only,
            "hash": args.hash, "engine": args.engine,
            "max_file_bytes": args.max_file_bytes, "renyi_alpha": args.renyi_alpha,
            "fidelity": not args.no_fidelity, "ledger": not args.no_ledger,
            "tokenizers": {t.name: t.fingerprint() for t in tokenizers},
            **({"sampling": sample_spec(args).provenance()} if sample_spec(args) else {}),
            "datasets": {d.name: {"modality": d.modality, "paths": list(d.paths), "language": d.language,
                                  "reference_language": d.reference_language, "options": d.options,
                                  # only when set, so runs from before these keys existed still resume
                                  **({"format": d.format} if d.format != "auto" else {}),
                                  **({"field": d.field} if d.field is not None else {}),
                                  # ids of files above the suite's folder are ../ paths now (absolute before)
                                  **({"sample_ids": "relative to the suite, ../ included"} if _climbs(d) else {})}
                         for d in suite.datasets}}


def _refuse_out_inside_data(out: Path, suite: Any) -> None:
    """--out inside a folder a dataset reads would have the run's own files measured as samples (by the
    next run, or a resumed one)."""
    from compressbench.data.remote import is_url

    def places(path: Path) -> set[Path]:  # as written, and with links followed
        return {Path(os.path.abspath(path)), path.resolve()}

    def listed(where: Path, folder: Path) -> bool:  # a hidden folder on the way is never listed (data/.cb-out)
        return where.is_relative_to(folder) and not any(p.startswith(".") for p in where.relative_to(folder).parts)

    for ds in suite.datasets:
        for path in (p for p in ds.paths if not is_url(p)):
            folders = [f for f in places(ds.base / Path(path).expanduser()) if f.is_dir()]
            if any(listed(where, folder) for where in places(out) for folder in folders):
                raise ConfigError(f"--out {out} lies inside {path}, a folder dataset {ds.name!r} reads: the run's "
                                  "own files would be measured as samples; choose an --out outside it")


def _climbs(dataset: Any) -> bool:
    """Whether a dataset names files above its suite's folder by a relative path (``../data``).

    >>> from types import SimpleNamespace as D
    >>> _climbs(D(paths=("../data", "x.txt"))), _climbs(D(paths=("data/../x", "/abs", "s3://b/k")))
    (True, False)
    """
    from compressbench.data.remote import is_url

    return any(not is_url(p) and not os.path.isabs(os.path.expanduser(p)) and os.path.normpath(p).startswith("..")
               for p in dataset.paths)


def _check_resumable(out: Path, manifest: dict[str, Any]) -> None:
    path = out / MANIFEST
    if not (out / "results.jsonl").is_file() or not path.is_file():
        raise ConfigError(f"{out}: nothing to resume (no results.jsonl and {MANIFEST}); run without --resume")
    if not (out / IDS_FILE).is_file():
        raise ConfigError(f"{out}: cannot resume, it has no {IDS_FILE} (an older compressbench started it, "
                          "without token-id counts); use another --out or --force to start over")
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: unreadable ({exc}); use another --out or --force to start over") from None
    before.setdefault("hash", "full")  # a run.json written before --hash existed hashed every byte
    before.setdefault("ledger", True)  # and one written before --no-ledger counted token ids
    if isinstance(before.get("sampling"), dict):
        before["sampling"].setdefault("sample_by", "record")  # and one before --sample-by drew records
    if before.get("shard") and before.get("shard_scheme") != manifest.get("shard_scheme"):
        raise ConfigError(f"{out}: cannot resume, its --shard {before['shard']} was split by sample id (an older "
                          "compressbench); shards now own whole reading units. Use another --out or --force "
                          "to start the shard over")
    changed = [k for k in dict.fromkeys([*manifest, "sampling"]) if before.get(k) != manifest.get(k)]
    if changed:
        raise ConfigError(f"{out}: cannot resume, the run's {', '.join(changed)} changed since it started; "
                          "use another --out or --force to start over")


def run(args: argparse.Namespace) -> int:
    from compressbench.data.suite import GIVEN, default_suite, load_suite
    from compressbench.core.ledger import read_ids
    from compressbench.results import PriorRows
    from compressbench.runner import Shard, build_tokenizers, check_coverage, run_suite

    if args.resume and args.force:
        raise ConfigError("--resume continues a run and --force starts it over: choose one")
    if args.engine != "ray" and args.address:
        raise ConfigError("--address is for --engine ray")
    if args.engine == "ray" and args.resume:
        raise ConfigError("--resume works with the local engine; with Ray, split the suite with --shard instead")
    shard = Shard.parse(args.shard) if args.shard else None
    sampling = sample_spec(args)
    suite_path, origin = (args.suite, GIVEN) if args.suite else default_suite()
    suite = load_suite(suite_path)
    # with Ray the devices are the cluster's, not this machine's: validate the specs on the CPU here
    tokenizers = build_tokenizers(suite.tokenizers, device="cpu" if args.engine == "ray" else args.device,
                                  base=suite.base)
    check_coverage(suite, tokenizers)  # every configuration error before --out is created
    manifest = _manifest(suite, tokenizers, args)
    out = Path(args.out)
    _refuse_out_inside_data(out, suite)
    made: list[Path] | None = None  # the folders this run makes (None: --out held something already)
    if args.resume:
        _check_resumable(out, manifest)
    else:
        made = missing_folders(out) if not out.is_dir() or not any(out.iterdir()) else None
        out = prepare_out_dir(out, force=args.force)
        for name in SUMMARY_FILES:  # a forced run stopped early must not leave the last run's summary beside its rows
            (out / name).unlink(missing_ok=True)
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    # the interrupted run's rows and ids, streamed as the run starts (its errors are reported first)
    prior = PriorRows(out / "results.jsonl") if args.resume else None
    prior_ids = read_ids(out / IDS_FILE, repair=True) if args.resume else ()
    writer = ResultsWriter(out / "results.jsonl", append=args.resume, errors=prior.errors if prior else None)
    ids_writer = ResultsWriter(out / IDS_FILE, append=args.resume)
    try:
        if args.engine == "ray":
            from compressbench.engines.ray_data import run_suite_ray

            result = run_suite_ray(suite, device=args.device, emit=writer, options=run_options(args), shard=shard,
                                   address=args.address, emit_ids=ids_writer, sampling=sampling,
                                   tokenizers=tokenizers)
        else:
            result = run_suite(suite, device=args.device, emit=writer, tokenizers=tokenizers,
                               options=run_options(args), shard=shard, prior_rows=prior or (),
                               emit_ids=ids_writer, prior_ids=prior_ids, sampling=sampling)
        result.provenance["suite_origin"] = origin
    except ConfigError:  # found before anything was measured (a bucket it cannot list): take --out back
        writer.close()
        ids_writer.close()
        if made is not None and not (out / "results.jsonl").stat().st_size:
            remove_made([out / name for name in (MANIFEST, "results.jsonl", IDS_FILE)], made)
        raise
    finally:
        writer.close()
        ids_writer.close()
    code = finish_run(out, result, writer.errors)
    _warn_empty_samples(result.datasets, shard is not None)
    return code


def _warn_empty_samples(datasets: dict[str, dict[str, Any]], sharded: bool) -> None:
    """A sampled dataset of which nothing was drawn gets a warning: its summary is empty, not an error."""
    from compressbench.cli.common import warn

    for name, info in datasets.items():
        if "sample_rounds" in info and not info.get("samples") and (info.get("population_samples") or 0) > 0:
            where = "this shard's share of " if sharded else ""
            warn(f"dataset {name!r}: the sample drew nothing from {where}its {info['population_samples']:,} "
                 "records; raise --sample")
