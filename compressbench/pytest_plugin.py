"""pytest plugin: assert compression in your own tests, against bounds or a committed baseline.

Registered through the ``pytest11`` entry point (``compressbench``), so installing
compressbench makes the ``compression`` fixture available::

    def test_our_tokenizer_on_docs(compression):
        m = compression.measure("hf:tokenizer.json", "docs/")
        m.check(min_compression=3.5)                       # C >= 3.5 bytes/token
        m.check_against("tests/baselines/docs")            # no more than 1% worse than the baseline

    def test_suite(compression):
        compression.run("bench/suite.toml").check_against("tests/baselines/suite", max_token_increase=0.5)

``pytest --compressbench-update-baselines`` writes the current measurements as the
baselines instead of comparing (commit the result). Every violated bound or
regression of a check is reported, then the test fails once. Importing this
module stays light: the measuring machinery loads when the fixture is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

UPDATE_OPTION = "--compressbench-update-baselines"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("compressbench", "compression checks (the `compression` fixture)")
    group.addoption(UPDATE_OPTION, action="store_true", default=False,
                    help="write the measurements as the baselines that check_against() names, instead of comparing")


class Measured:
    """What one measurement found: summary rows (per dataset x tokenizer, with languages) and per-sample rows."""

    def __init__(self, summary: dict[str, Any], samples: list[dict[str, Any]], *, update: bool,
                 node: Any = None) -> None:
        self.summary, self.samples, self._update, self._node = summary, samples, update, node
        for row in summary["rows"]:
            if node is not None:
                node.user_properties.append((f"compression[{row['dataset']}/{row['tokenizer']}]",
                                             row.get("compression")))

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.summary["rows"]

    def row(self, tokenizer: str | None = None, dataset: str | None = None) -> dict[str, Any]:
        """The summary row of one tokenizer (and dataset); either may be left out when there is only one."""
        mine = [r for r in self.rows if tokenizer in (None, r["tokenizer"]) and dataset in (None, r["dataset"])]
        if len(mine) != 1:
            have = ", ".join(f"{r['dataset']}/{r['tokenizer']}" for r in self.rows)
            raise LookupError(f"{len(mine)} rows match tokenizer={tokenizer!r}, dataset={dataset!r}; have: {have}")
        return mine[0]

    @property
    def compression(self) -> float:
        """C = ΣT/ΣN in bytes/token of the only row (use ``row(...)`` when there are several)."""
        return self.row()["compression"]

    @property
    def tokens(self) -> int:
        """N, tokens of the only row."""
        return self.row()["tokens"]

    def check(self, *, min_compression: float | None = None, max_compression: float | None = None,
              max_tokens: int | None = None, max_token_premium: float | None = None) -> "Measured":
        """Fail (once, listing every violation) unless every row is within the bounds and no sample failed."""
        problems = [f"{e}" for e in dict.fromkeys(s["error"] for s in self.samples if s.get("error"))]
        for r in self.rows:
            where, c = f"{r['dataset']}/{r['tokenizer']}", r.get("compression")
            if min_compression is not None and (c is None or c < min_compression):
                problems.append(f"{where}: C = {_num(c)} bytes/token, below the minimum {min_compression:g}")
            if max_compression is not None and (c is None or c > max_compression):
                problems.append(f"{where}: C = {_num(c)} bytes/token, above the maximum {max_compression:g}")
            if max_tokens is not None and r["tokens"] > max_tokens:
                problems.append(f"{where}: N = {r['tokens']:,} tokens, above the maximum {max_tokens:,}")
            for lang, values in (r.get("languages") or {}).items() if max_token_premium is not None else ():
                premium = values.get("token_premium")
                if premium is not None and premium > max_token_premium:
                    problems.append(f"{where} [{lang}]: token premium {premium:.2f}, above the maximum "
                                    f"{max_token_premium:g}")
        if problems:
            pytest.fail(f"{len(problems)} compression check(s) failed:\n  " + "\n  ".join(problems), pytrace=False)
        return self

    def save(self, path: str | Path) -> Path:
        """Write summary.json and results.jsonl into a folder (or to a .json path and beside it)."""
        p = Path(path)
        folder, name = (p.parent, p.name) if p.suffix == ".json" else (p, "summary.json")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(self.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        with (folder / "results.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(s, ensure_ascii=False) + "\n" for s in self.samples)
        return folder / name

    def check_against(self, baseline: str | Path, *, max_compression_drop: float | None = 1.0,
                      max_token_increase: float | None = None, max_throughput_drop: float | None = None,
                      allow_tokenizer_change: Iterable[str] = ()) -> "Measured":
        """Fail unless no row is worse than the baseline beyond the gates (percent; None = off).

        With ``--compressbench-update-baselines`` the measurement becomes the baseline instead.
        """
        from compressbench.core.errors import ConfigError
        from compressbench.reports.compare import Gates, Incomparable, compare
        from compressbench.reports.results import row_sample_ids, run_sample_ids
        from compressbench.reports.summary import read_summary

        if self._update:
            self.save(baseline)
            return self
        try:
            base = read_summary(baseline)
        except ConfigError as exc:
            pytest.fail(f"{exc}; create it with: pytest {UPDATE_OPTION}", pytrace=False)
        gates = Gates(max_compression_drop, max_token_increase, max_throughput_drop)
        try:
            cmp = compare(base, self.summary, gates=gates, allow_tokenizer_change=tuple(allow_tokenizer_change),
                          baseline_label=str(baseline), new_label="this test",
                          samples=(run_sample_ids(baseline), row_sample_ids(self.samples)))
        except Incomparable as exc:
            pytest.fail(str(exc), pytrace=False)
        if cmp.regressions:
            lines = [r.message() for r in cmp.regressions]
            pytest.fail(f"{len(lines)} regression(s) against {baseline} (gates: {'; '.join(gates.describe())}):\n  "
                        + "\n  ".join(lines), pytrace=False)
        return self


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


class CompressionProbe:
    """The ``compression`` fixture: measure tokenizers on files, or run a suite."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self._update = bool(request.config.getoption(UPDATE_OPTION))
        self.rootpath = Path(request.config.rootpath)

    def measure(self, tokenizers: str | Iterable[str], *paths: str | Path, dataset: str = "measure",
                language: str | None = None, reference_language: str = "eng", encoding: str = "utf-8",
                base: str | Path | None = None, device: str = "auto") -> Measured:
        """Measure files, folders or globs (relative to ``base``, default the pytest rootdir) with tokenizers.

        ``language`` labels samples for per-language rows and token premium, e.g. ``"{stem}"``.
        """
        from compressbench.core.registry import get_entry
        from compressbench.core.spec import expand_specs, parse_spec
        from compressbench.data.suite import Dataset, Suite

        specs = tuple(expand_specs((tokenizers,) if isinstance(tokenizers, str) else tuple(tokenizers)))
        if not paths:
            raise ValueError("measure() needs at least one file, folder or glob after the tokenizer(s)")
        root = Path(base) if base is not None else self.rootpath
        modality = get_entry(parse_spec(specs[0]).family).cls.modality
        options = {"encoding": encoding} if modality == "text" else {}
        ds = Dataset(name=dataset, modality=modality, paths=tuple(str(p) for p in paths), base=root,
                     language=language, reference_language=reference_language, options=options)
        return self._run(Suite(name=dataset, datasets=(ds,), tokenizers=specs, base=root, source="pytest"), device)

    def run(self, suite: str | Path, *, device: str = "auto") -> Measured:
        """Run a suite file (relative to the pytest rootdir), as ``compressbench run`` would."""
        from compressbench.data.suite import load_suite

        path = Path(suite)
        return self._run(load_suite(path if path.is_absolute() else self.rootpath / path), device)

    def _run(self, suite: Any, device: str) -> Measured:
        from compressbench.reports.summary import build_summary
        from compressbench.runner import run_suite

        samples: list[dict[str, Any]] = []
        result = run_suite(suite, device=device, emit=samples.append)
        return Measured(dict(build_summary(result)), samples, update=self._update, node=self._request.node)


@pytest.fixture
def compression(request: pytest.FixtureRequest) -> CompressionProbe:
    """Measure tokenizers on files in a test: ``compression.measure(spec, *paths).check(min_compression=...)``."""
    return CompressionProbe(request)
