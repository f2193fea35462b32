"""Which way is better, for every metric `compare` shows and gates: one table, as data.

A key is the metric's key in summary.json rows (or in a row's ``languages``).
"Worse" means lower for a higher-is-better metric and higher for a lower-is-better
one, so a gate such as ``--max-drop input_psnr_db=2`` reads the same for all.

>>> DIRECTIONS["input_psnr_db"].higher_is_better, DIRECTIONS["fairness_gini"].higher_is_better
(True, False)
>>> gate_key("bits_per_byte")
'bits_per_byte'
"""

from __future__ import annotations

from typing import Any, NamedTuple

from compressbench.core.errors import ConfigError


class Direction(NamedTuple):
    """How a metric is shown (short label, unit) and which way is better."""

    label: str
    unit: str
    higher_is_better: bool


DIRECTIONS: dict[str, Direction] = {
    "compression": Direction("C", "bytes/token", True),  # T/N: more raw bytes per token
    "tokens": Direction("N", "tokens", False),
    "raw_mb_per_s": Direction("throughput", "raw MB/s", True),
    "token_premium": Direction("token premium", "ratio", False),  # tokens / the reference language's
    "errors": Direction("failed samples", "count", False),
    # the information ledger: how the vocabulary is used, how fair it is across languages
    "shannon_efficiency": Direction("Shannon efficiency", "ratio", True),  # H1 / log2 |V|
    "renyi_efficiency": Direction("Rényi efficiency", "ratio", True),  # H_alpha / log2 |V|
    "vocab_utilisation": Direction("vocabulary utilisation", "share", True),  # distinct ids / |V|
    "fairness_gini": Direction("fairness Gini", "Gini coefficient", False),  # spread of tokens/byte over languages
    "bits_per_byte": Direction("bits per byte", "bits/byte", False),  # H1 / C
    "continued_word_rate": Direction("continued-word rate", "share", False),  # words split into several tokens
    # what the model's input keeps of the original
    "input_coverage": Direction("input coverage", "share", True),
    "input_frame_share": Direction("frame share", "share", True),
    "input_psnr_db": Direction("input PSNR", "dB", True),
    "input_ssim": Direction("input SSIM", "SSIM", True),
    "input_energy_share": Direction("energy share", "share", True),
}
ALWAYS_GATED = ("errors",)  # failed samples may never increase: no percentage applies


def gateable() -> list[str]:
    """The metrics ``--max-drop METRIC=PCT`` takes."""
    return [k for k in DIRECTIONS if k not in ALWAYS_GATED]


def gate_key(metric: str) -> str:
    """``metric`` when ``--max-drop`` can gate it, else a one-line error listing those it can."""
    if metric not in DIRECTIONS or metric in ALWAYS_GATED:
        why = "failed samples are always gated (any increase fails); " if metric in ALWAYS_GATED else ""
        raise ConfigError(f"--max-drop: unknown metric {metric!r}; {why}known: {', '.join(gateable())}")
    return metric


def _reported(summary: Any, key: str) -> bool:
    """Whether any row of a summary (or any language of one) has a value for ``key``."""
    for row in summary["rows"]:
        if row.get(key) is not None or any(v.get(key) is not None for v in (row.get("languages") or {}).values()):
            return True
    return False


def gate_notes(baseline: Any, new: Any, keys: list[str]) -> list[str]:
    """Notes on gated metrics that only one run reports; a one-line error for one that neither run reports
    (a gate on nothing would pass silently)."""
    notes = []
    for key in keys:
        where = [side for side, s in (("baseline", baseline), ("new run", new)) if _reported(s, key)]
        if not where:
            raise ConfigError(f"--max-drop {key}: neither run reports {key}, so there is nothing to gate; "
                              "gate a metric the runs measure or drop this gate")
        if len(where) == 1:
            notes.append(f"{key} is reported only by the {where[0]}: not gated (--max-drop {key})")
    return notes
