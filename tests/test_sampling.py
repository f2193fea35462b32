"""Sampling (``run --sample``, ``--precision``): the 95% interval of C covers the exhaustive C as often as it says.

The corpus mixes every UDHR language, line by line (tens to hundreds of bytes, C from
about 1 to 4.5 bytes/token with cl100k), with prose paragraphs and 8 KB chunks of
Python code (C about 4): records of very different sizes and ratios, where a naive
interval fails. Per-record (T, N) come once from the real tokenizer; each seed draws
with the project's sampler (the records with the smallest keys) and builds the
interval from the same exact sums a run keeps. Cut into units of ten records (``--sample-by
unit``), each seed draws the units with the smallest keys and the interval stands on the
units' totals.
"""

from __future__ import annotations

import heapq
import random

import pytest

from compressbench.core.confidence import Moments, delta_half_width, ratio_interval
from compressbench.data.sampling import key
from tests.conftest import FIXTURES

SEEDS = 400
DRAWN = 300  # records per sample


def heterogeneous_records() -> list[str]:
    """Every UDHR line in 26 languages, prose paragraphs and 8 KB code chunks, from the fixtures."""
    text = FIXTURES / "text"
    records = [line for p in sorted((text / "udhr").glob("*.txt"))
               for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    records += [b for p in sorted((text / "prose").iterdir()) for b in p.read_text(encoding="utf-8").split("\n\n")
                if b.strip()]
    for p in sorted((text / "code").iterdir()):
        code = p.read_text(encoding="utf-8")
        records += [code[i:i + 8000] for i in range(0, len(code), 8000)]
    return records


@pytest.fixture(scope="module")
def measured(tokenizer):
    records = heterogeneous_records()
    counts = tokenizer("tiktoken:cl100k_base", "cpu").count_texts(records)
    return [(f"corpus.jsonl#{i}", len(r.encode()), c.tokens) for i, (r, c) in enumerate(zip(records, counts))]


def moments(rows: list[tuple[str, int, int]]) -> Moments:
    """The interval's sums, recomputed here in plain Python from the (T, N) pairs."""
    def total(a: int, b: int) -> int:
        return sum(t ** a * n ** b for _, t, n in rows)

    return Moments(len(rows), total(1, 0), total(0, 1), total(2, 0), total(0, 2), total(1, 1),
                   tuple(total(a, 4 - a) for a in (4, 3, 2, 1, 0)))


def test_95_percent_interval_covers_the_exhaustive_compression_95_percent_of_the_time(measured):
    population = len(measured)
    exhaustive = sum(t for _, t, _ in measured) / sum(n for _, _, n in measured)
    sizes = sorted(t for _, t, _ in measured)
    assert population > 2500 and sizes[-1] > 50 * sizes[len(sizes) // 2]  # heterogeneous indeed
    covered = delta_covered = 0
    for seed in range(SEEDS):
        drawn = heapq.nsmallest(DRAWN, measured, key=lambda row: key(seed, row[0]))
        m = moments(drawn)
        low, high = ratio_interval(m, population=population)
        covered += low <= exhaustive <= high
        half = delta_half_width(m, population=population)
        delta_covered += abs(m.ratio() - exhaustive) <= half
    assert 0.93 <= covered / SEEDS <= 0.97, covered / SEEDS
    assert delta_covered < covered  # the symmetric delta-method interval is the one that under-covers here


def test_an_exhaustive_sample_has_an_interval_of_zero_width(measured):
    m = moments(measured)
    assert ratio_interval(m, population=len(measured)) == (m.ratio(), m.ratio())


GROUP = 10  # records per unit, as rows per Parquet row group


def unit_totals(measured: list[tuple[str, int, int]], order: list[int]) -> list[tuple[str, int, int]]:
    """(unit id, ΣT, ΣN) of the records taken in ``order``, GROUP at a time, as row groups of one file."""
    groups = [order[i:i + GROUP] for i in range(0, len(order), GROUP)]
    return [(f"corpus.parquet@{g}", sum(measured[i][1] for i in members), sum(measured[i][2] for i in members))
            for g, members in enumerate(groups)]


def unit_coverage(measured, order: list[int], drawn: int) -> tuple[float, float]:
    """Over SEEDS seeds drawing the ``drawn`` units with the smallest keys: how often the interval over the
    units' totals covers the exhaustive C, and how often the interval over the same records taken as a
    record sample does."""
    units = unit_totals(measured, order)
    exhaustive = sum(t for _, t, _ in measured) / sum(n for _, _, n in measured)
    covered = naive = 0
    for seed in range(SEEDS):
        chosen = heapq.nsmallest(drawn, range(len(units)), key=lambda g: key(seed, units[g][0]))
        low, high = ratio_interval(moments([units[g] for g in chosen]), population=len(units))
        covered += low <= exhaustive <= high
        records = [measured[i] for g in chosen for i in order[g * GROUP:(g + 1) * GROUP]]
        low, high = ratio_interval(moments(records), population=len(measured))
        naive += low <= exhaustive <= high
    return covered / SEEDS, naive / SEEDS


def test_unit_sample_interval_covers_95_percent_with_records_shuffled_into_units(measured):
    order = list(range(len(measured)))
    random.Random(0).shuffle(order)  # units of records of every kind, as a shuffled corpus's row groups
    covered, _ = unit_coverage(measured, order, drawn=40)
    assert 0.93 <= covered <= 0.97, covered


def test_unit_sample_interval_covers_95_percent_where_records_in_a_unit_are_alike(measured):
    """Units of consecutive records (lines of one language, one file's code): the units' totals vary much
    more than ten independent records' would, the interval over them widens accordingly, and the
    interval that takes the same records as a record sample misses the exhaustive C a third of the time."""
    covered, naive = unit_coverage(measured, list(range(len(measured))), drawn=60)
    assert 0.93 <= covered <= 0.97, covered
    assert naive < 0.8, naive
