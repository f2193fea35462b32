"""Comparing two runs: direction-aware changes, gates, regressions, and why two runs cannot be compared.

Every metric knows whether higher is better (compression: yes; tokens: no), so
"worse" always means worse for the user. Every regression beyond a gate is
collected; the caller fails once, after reporting them all.

>>> round(COMPRESSION.worse_pct(4.0, 3.8), 6)  # C fell by 5%: 5% worse
5.0
>>> TOKENS.worse_pct(100, 95)  # 5% fewer tokens: 5% better
-5.0
>>> Gates().limit(COMPRESSION), Gates().limit(THROUGHPUT)
(1.0, None)
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from compressbench.core.errors import ConfigError
from compressbench.reports.directions import DIRECTIONS, gate_notes
from compressbench.reports.results import Absent, SampleIds, differing_samples
from compressbench.reports.schema import Summary
from compressbench.reports.tables import fmt

COMPARE_SCHEMA = "compressbench.compare/1"


@dataclass(frozen=True)
class Metric:
    """A number compared between runs, and which way is better."""

    key: str  # the key in summary rows
    label: str  # short name in tables
    unit: str
    higher_is_better: bool

    @property
    def header(self) -> str:
        return f"{self.label} ({self.unit})"

    def change_pct(self, base: float | None, new: float | None) -> float | None:
        """(new - base) / base in percent; None when either is missing or the base is zero."""
        if base is None or new is None or base == 0:
            return None
        return (new - base) / base * 100.0

    def worse_pct(self, base: float | None, new: float | None) -> float | None:
        """How much worse ``new`` is, in percent of ``base``; negative when it is better."""
        pct = self.change_pct(base, new)
        if pct is None:
            return None
        return -pct if self.higher_is_better else pct


METRICS: dict[str, Metric] = {key: Metric(key, *d) for key, d in DIRECTIONS.items()}  # directions as data
COMPRESSION, TOKENS, THROUGHPUT = METRICS["compression"], METRICS["tokens"], METRICS["raw_mb_per_s"]
PREMIUM, FAILED = METRICS["token_premium"], METRICS["errors"]  # premium: to the reference language

# Per dataset x modality x tokenizer; per language there is no timing, hence no throughput.
ROW_METRICS: tuple[Metric, ...] = (COMPRESSION, TOKENS, THROUGHPUT, FAILED)
LANGUAGE_METRICS: tuple[Metric, ...] = (COMPRESSION, TOKENS, PREMIUM)
# Compared wherever either run reports them (information ledger, input fidelity).
EXTRA_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS.values() if m not in ROW_METRICS + LANGUAGE_METRICS)


@dataclass(frozen=True)
class Gates:
    """How much worse than the baseline a number may get, in percent; None switches a gate off.

    Throughput is off by default because machines are noisy. Tokens are off by
    default because on the same data (the only data compare accepts) a token
    increase of x% is a compression drop of x/(1+x)%, which the compression gate
    already catches. Failed samples may never increase: C over fewer samples is
    not the same measurement.
    """

    max_compression_drop: float | None = 1.0
    max_token_increase: float | None = None
    max_throughput_drop: float | None = None
    # --max-drop METRIC=PCT: any metric, worse in its direction by at most PCT; overrides the gates above
    max_drop: tuple[tuple[str, float], ...] = ()

    def limit(self, metric: Metric) -> float | None:
        """The gate of ``metric`` in percent, or None when it is not gated.

        >>> Gates(max_drop=(("compression", 0.5), ("input_psnr_db", 2.0))).limit(COMPRESSION)
        0.5
        """
        return dict(self.max_drop).get(metric.key, {
            COMPRESSION.key: self.max_compression_drop,
            TOKENS.key: self.max_token_increase,
            THROUGHPUT.key: self.max_throughput_drop,
        }.get(metric.key))

    def describe(self) -> list[str]:
        """One phrase per gate, for report headers."""
        def gate(what: str, v: float | None) -> str:
            return f"{what} not gated" if v is None else f"{what} ≤ {v:g}%"

        fixed = [gate("C drop", self.limit(COMPRESSION)), gate("N increase", self.limit(TOKENS)),
                 gate("throughput drop", self.limit(THROUGHPUT))]
        more = [gate(f"{METRICS[k].label} worse by", v) for k, v in self.max_drop
                if k not in (COMPRESSION.key, TOKENS.key, THROUGHPUT.key)]
        return fixed + more + ["failed samples may not increase"]


@dataclass(frozen=True)
class Key:
    """What one compared row is about."""

    dataset: str
    modality: str
    tokenizer: str
    language: str | None = None

    def label(self) -> str:
        lang = f" [{self.language}]" if self.language else ""
        return f"{self.dataset}/{self.modality}/{self.tokenizer}{lang}"


@dataclass(frozen=True)
class Change:
    """One metric of one row in both runs."""

    metric: Metric
    base: float | None
    new: float | None

    @property
    def pct(self) -> float | None:
        return self.metric.change_pct(self.base, self.new)

    @property
    def worse_pct(self) -> float | None:
        return self.metric.worse_pct(self.base, self.new)


@dataclass(frozen=True)
class Regression:
    """A change beyond its gate."""

    key: Key
    change: Change
    limit: float | None  # percent; None for failed samples (any increase)

    def message(self) -> str:
        c = self.change
        if self.limit is None:
            return f"{self.key.label()}: {c.metric.header} {fmt(c.base)} → {fmt(c.new)} (may not increase)"
        return (f"{self.key.label()}: {c.metric.header} {fmt(c.base)} → {fmt(c.new)} "
                f"({c.worse_pct:.2f}% worse; gate {self.limit:g}%)")

    def to_dict(self) -> dict[str, Any]:
        return {**_key_dict(self.key), "metric": self.change.metric.key, "unit": self.change.metric.unit,
                "baseline": self.change.base, "new": self.change.new, "change_pct": self.change.pct,
                "worse_pct": self.change.worse_pct, "gate_pct": self.limit, "message": self.message()}


@dataclass
class RowDiff:
    """The changes of one dataset x modality x tokenizer (or one language of it)."""

    key: Key
    changes: dict[str, Change]
    regressions: list[Regression] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _key_dict(self.key)
        for key, c in self.changes.items():
            out[key] = {"baseline": c.base, "new": c.new, "change_pct": c.pct, "worse_pct": c.worse_pct}
        out["regression"] = bool(self.regressions)
        return out


@dataclass
class Comparison:
    """NEW against BASELINE: every compared row, the regressions, and notes on what was not compared."""

    baseline: Summary
    new: Summary
    gates: Gates
    rows: list[RowDiff]
    language_rows: list[RowDiff]
    notes: list[str]
    baseline_label: str = "baseline"
    new_label: str = "new"

    @property
    def row_metrics(self) -> tuple[Metric, ...]:
        """The metrics of the per dataset x tokenizer table: the usual ones, then any other either run reports."""
        return ROW_METRICS + tuple(m for m in EXTRA_METRICS if any(m.key in r.changes for r in self.rows))

    @property
    def language_metrics(self) -> tuple[Metric, ...]:
        """The metrics of the per-language table (as :attr:`row_metrics`)."""
        return LANGUAGE_METRICS + tuple(m for m in EXTRA_METRICS if any(m.key in r.changes for r in self.language_rows))

    @property
    def regressions(self) -> list[Regression]:
        return [r for row in self.rows + self.language_rows for r in row.regressions]

    @property
    def exit_code(self) -> int:
        """1 when anything regressed beyond a gate, else 0."""
        return 1 if self.regressions else 0

    def to_dict(self) -> dict[str, Any]:
        gates = {"max_compression_drop": self.gates.limit(COMPRESSION),  # what applied, --max-drop included
                 "max_token_increase": self.gates.limit(TOKENS),
                 "max_throughput_drop": self.gates.limit(THROUGHPUT),
                 **({"max_drop": dict(self.gates.max_drop)} if self.gates.max_drop else {})}
        return {
            "schema": COMPARE_SCHEMA, "comparable": True, "exit_code": self.exit_code,
            "baseline": _side(self.baseline_label, self.baseline), "new": _side(self.new_label, self.new),
            "gates": gates, "regressions": [r.to_dict() for r in self.regressions],
            "rows": [r.to_dict() for r in self.rows], "languages": [r.to_dict() for r in self.language_rows],
            "notes": self.notes,
        }


class Incomparable(ConfigError):
    """The two runs cannot be compared; ``reasons`` says exactly why (each one line)."""

    def __init__(self, reasons: list[str], *, baseline_label: str = "baseline", new_label: str = "new") -> None:
        self.reasons = reasons
        self.baseline_label, self.new_label = baseline_label, new_label
        listed = "; ".join(f"({i}) {r}" for i, r in enumerate(reasons, 1)) if len(reasons) > 1 else reasons[0]
        super().__init__(f"cannot compare {new_label} with baseline {baseline_label}: {listed}")

    def to_dict(self) -> dict[str, Any]:
        return {"schema": COMPARE_SCHEMA, "comparable": False, "exit_code": 2,
                "baseline": {"label": self.baseline_label}, "new": {"label": self.new_label},
                "reasons": self.reasons}


def _key_dict(key: Key) -> dict[str, Any]:
    return {"dataset": key.dataset, "modality": key.modality, "tokenizer": key.tokenizer, "language": key.language}


def _side(label: str, s: Summary) -> dict[str, Any]:
    datasets = {k: {"samples": v["samples"], "content_sha256": v["content_sha256"],
                    "content_hash": v.get("content_hash", "full")} for k, v in s["datasets"].items()}
    return {"label": label, "suite": s["suite"], "provenance": s["provenance"], "datasets": datasets,
            "tokenizers": {k: v["sha256"] for k, v in s["tokenizers"].items()}}


def _short(digest: str) -> str:
    return f"{digest[:12]}…"


def _which_samples(name: str, differing: dict[str, tuple[Absent, Absent]] | None) -> str:
    """Which samples differ (:func:`~compressbench.reports.results.differing_samples`), when both runs'
    results.jsonl are at hand."""
    if differing is None:
        return ""
    only_base, only_new = differing[name]
    if not only_base.count and not only_new.count:
        return "; the same sample names, so the bytes of some file changed"

    def listed(ids: Absent) -> str:
        more = f", … ({ids.count} in all)" if ids.count > len(ids.first) else ""
        return ", ".join(ids.first) + more if ids.count else "none"

    return f"; only in the baseline: {listed(only_base)}; only in the new run: {listed(only_new)}"


def _unproven(name: str, b: dict[str, Any], n: dict[str, Any]) -> str | None:
    """Why the two runs' hashes of a dataset cannot show whether it is the same data (None when they can)."""
    modes = (b.get("content_hash", "full"), n.get("content_hash", "full"))
    if b.get("content_sha256") is None or n.get("content_sha256") is None:
        side = " and ".join(w for w, d in (("baseline", b), ("new run", n)) if d.get("content_sha256") is None)
        return (f"dataset {name!r}: the {side} recorded no content hash (--hash none), so compare cannot prove "
                "both runs measured the same data; compared anyway")
    if modes[0] != modes[1]:
        return (f"dataset {name!r}: hashed with --hash {modes[0]} in the baseline but {modes[1]} in the new run, "
                "so compare cannot prove both runs measured the same data; compared anyway")
    return None


def _hash_notes(base: Summary, new: Summary) -> list[str]:
    """A note for each dataset whose content the runs' hashes cannot vouch for (--hash none, or mixed modes)."""
    common = sorted(base["datasets"].keys() & new["datasets"].keys())
    return [note for name in common if (note := _unproven(name, base["datasets"][name], new["datasets"][name]))]


def _content_differs(name: str, b: dict[str, Any], n: dict[str, Any]) -> bool:
    return b["modality"] == n["modality"] and not _unproven(name, b, n) and b["content_sha256"] != n["content_sha256"]


def _dataset_reasons(base: Summary, new: Summary, samples: tuple[SampleIds | None, SampleIds | None]) -> list[str]:
    reasons = []
    common = sorted(base["datasets"].keys() & new["datasets"].keys())
    changed = {name for name in common if _content_differs(name, base["datasets"][name], new["datasets"][name])}
    differing = None  # the samples that differ, read for all changed datasets at once (each file twice)
    if changed and samples[0] is not None and samples[1] is not None:
        differing = differing_samples(changed, samples[0], samples[1])
    for name in common:
        b, n = base["datasets"][name], new["datasets"][name]
        if b["modality"] != n["modality"]:
            reasons.append(f"dataset {name!r} is {b['modality']} in the baseline but {n['modality']} in the new run")
        elif _unproven(name, b, n):
            pass  # a note (_hash_notes), not a reason: the runs may well be of the same data
        elif name in changed:
            reasons.append(
                f"dataset {name!r} has different content (baseline {b['samples']} samples, sha256 "
                f"{_short(b['content_sha256'])}; new {n['samples']} samples, sha256 {_short(n['content_sha256'])})"
                f"{_which_samples(name, differing)}: the runs measured different files; rerun the baseline on the "
                "same data, or rename the dataset if its content changed on purpose")
        elif b.get("reference_language") != n.get("reference_language"):
            reasons.append(f"dataset {name!r}: token premium is relative to {b.get('reference_language')!r} in the "
                           f"baseline but to {n.get('reference_language')!r} in the new run")
    return reasons


def _tokenizer_reasons(base: Summary, new: Summary, allowed: tuple[str, ...]) -> tuple[list[str], list[str]]:
    reasons, notes = [], []
    for name in sorted(base["tokenizers"].keys() & new["tokenizers"].keys()):
        b, n = base["tokenizers"][name]["sha256"], new["tokenizers"][name]["sha256"]
        if b == n:
            continue
        change = f"tokenizer {name!r}: identity changed (sha256 {_short(b)} → {_short(n)})"
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in allowed):
            notes.append(f"{change}; compared anyway (--allow-tokenizer-change)")
        else:
            reasons.append(f"{change}: the same name now means a different vocabulary or configuration; "
                           f"if that is the change under review, pass --allow-tokenizer-change {name!r}")
    return reasons, notes


def _provenance_notes(base: Summary, new: Summary) -> list[str]:
    notes = []
    bp, np_ = base["provenance"], new["provenance"]
    bv, nv = bp.get("versions", {}), np_.get("versions", {})
    changed = [f"{k} {bv.get(k)} → {nv.get(k)}" for k in dict.fromkeys([*bv, *nv]) if bv.get(k) != nv.get(k)]
    if changed:
        notes.append("versions differ: " + ", ".join(changed))
    if bp.get("device") != np_.get("device"):
        notes.append(f"device differs ({bp.get('device')} → {np_.get('device')}): throughput is not comparable")
    bm, nm = bp.get("machine", {}).get("platform"), np_.get("machine", {}).get("platform")
    if bm != nm:
        notes.append(f"machine differs ({bm} → {nm}): throughput changes reflect the machine as much as the code")
    for key, what in (("renyi_alpha", "Rényi efficiency is not comparable"),
                      ("sampling", "C and its interval come from different samples")):
        if bp.get(key) != np_.get(key):
            notes.append(f"{key} differs ({bp.get(key)} → {np_.get(key)}): {what}")
    ledger = {side: p.get("ledger", True) for side, p in (("baseline", bp), ("new run", np_))}
    if len(set(ledger.values())) > 1:
        off = next(side for side, on in ledger.items() if not on)
        notes.append(f"the {off} ran with --no-ledger: its token-id fields (entropy, efficiencies, vocabulary "
                     "utilisation, bits per byte, continued words) are empty and not compared")
    for what in ("datasets", "tokenizers"):
        for side, mine, other in (("baseline", base, new), ("new run", new, base)):
            only = sorted(mine[what].keys() - other[what].keys())  # type: ignore[literal-required]
            if only:
                notes.append(f"{what} only in the {side}, not compared: {', '.join(only)}")
    return notes


def check_comparable(baseline: Summary, new: Summary, *, allow_tokenizer_change: tuple[str, ...] = (),
                     baseline_label: str = "baseline", new_label: str = "new",
                     samples: tuple[SampleIds | None, SampleIds | None] = (None, None)) -> list[str]:
    """Raise :class:`Incomparable` with every reason the runs cannot be compared; else return notes.

    ``samples`` (each run's sample ids, when its results.jsonl is at hand) lets a
    content mismatch name the samples that differ.
    """
    reasons = _dataset_reasons(baseline, new, samples)
    tok_reasons, notes = _tokenizer_reasons(baseline, new, allow_tokenizer_change)
    reasons += tok_reasons
    common = {_row_key(r) for r in baseline["rows"]} & {_row_key(r) for r in new["rows"]}
    if not common and not reasons:
        reasons.append(
            f"no dataset x tokenizer in common (baseline: datasets {', '.join(baseline['datasets']) or 'none'}, "
            f"tokenizers {', '.join(baseline['tokenizers']) or 'none'}; new: datasets "
            f"{', '.join(new['datasets']) or 'none'}, tokenizers {', '.join(new['tokenizers']) or 'none'})")
    if reasons:
        raise Incomparable(reasons, baseline_label=baseline_label, new_label=new_label)
    return _hash_notes(baseline, new) + notes + _provenance_notes(baseline, new)


def _row_key(row: dict[str, Any]) -> Key:
    return Key(row["dataset"], row["modality"], row["tokenizer"])


def diff_row(key: Key, base: dict[str, Any], new: dict[str, Any], metrics: tuple[Metric, ...],
             gates: Gates) -> RowDiff:
    """The changes of one row and the regressions among them; beside ``metrics``, every other metric
    either row reports."""
    metrics += tuple(m for m in EXTRA_METRICS if base.get(m.key) is not None or new.get(m.key) is not None)
    diff = RowDiff(key, {m.key: Change(m, base.get(m.key), new.get(m.key)) for m in metrics})
    for change in diff.changes.values():
        if change.metric is FAILED:
            if (change.new or 0) > (change.base or 0):
                diff.regressions.append(Regression(key, change, None))
            continue
        limit, worse = gates.limit(change.metric), change.worse_pct
        if limit is not None and worse is not None and worse > limit:
            diff.regressions.append(Regression(key, change, limit))
    return diff


def compare(baseline: Summary, new: Summary, *, gates: Gates = Gates(), allow_tokenizer_change: tuple[str, ...] = (),
            baseline_label: str = "baseline", new_label: str = "new",
            samples: tuple[SampleIds | None, SampleIds | None] = (None, None)) -> Comparison:
    """Compare NEW with BASELINE row by row (and language by language); raises :class:`Incomparable`."""
    notes = check_comparable(baseline, new, allow_tokenizer_change=allow_tokenizer_change,
                             baseline_label=baseline_label, new_label=new_label, samples=samples)
    notes += gate_notes(baseline, new, [k for k, _ in gates.max_drop])
    base_rows = {_row_key(r): r for r in baseline["rows"]}
    rows, language_rows = [], []
    for new_row in new["rows"]:
        key = _row_key(new_row)
        if key not in base_rows:
            continue
        base_row = base_rows[key]
        rows.append(diff_row(key, base_row, new_row, ROW_METRICS, gates))
        base_langs, new_langs = base_row.get("languages") or {}, new_row.get("languages") or {}
        for lang in sorted(base_langs.keys() & new_langs.keys()):
            lang_key = Key(key.dataset, key.modality, key.tokenizer, lang)
            language_rows.append(diff_row(lang_key, base_langs[lang], new_langs[lang], LANGUAGE_METRICS, gates))
    return Comparison(baseline, new, gates, rows, language_rows, notes, baseline_label, new_label)
