"""Drawing whole reading units (``run --sample-by unit``): a cluster sample of a dataset.

A uniform sample of records touches nearly every Parquet row group, tar shard or
JSONL file of a corpus, and a row group is read whole as soon as one of its rows
is drawn: at scale a record sample reads the whole corpus. Here the sampler draws
the **units** themselves (the units ``--shard`` assigns: a Parquet row group, a
tar shard, a JSONL, CSV or zip file, a loose file). Each unit gets a key from the
seed and its id (:func:`~compressbench.data.formats.base.unit_id`), as records
do; a drawn unit is read once, whole, in its natural order, and every record of it
is measured; an undrawn unit's data is never read (Parquet footers and zip
directories are, once, to list the units and their record counts).

- ``--sample P%``: the units whose key is below P/100 (each unit is drawn with
  probability P%: a Bernoulli sample of units);
- ``--sample N``: the smallest threshold whose units hold at least N records, by
  the record counts the units list without reading (Parquet footers, zip
  directories, loose files); refused when some unit is a stream (JSONL, CSV, tar),
  whose records are not counted before reading it;
- ``--precision`` alone: the first round holds at least
  :data:`~compressbench.data.sampling.DEFAULT_FIRST_ROUND` records (by listed
  counts) and :data:`FIRST_UNITS` units; each later round raises the threshold by
  the interval's projection of the units needed (at least 2x). A round reads only
  the units between the previous threshold and the new one: nothing is read twice.

Each drawn unit is one observation (T_u, N_u) of the interval of C, with f =
drawn units / all units (:func:`compressbench.core.confidence.cluster_columns`).
Every result row names its unit (``unit``), so resumed, sharded, merged and Ray
runs rebuild the units' totals from the rows.

>>> from compressbench.data.discover import Found
>>> from compressbench.data.sampling import SampleSpec
>>> groups = [Unit(Found("t.parquet", None), "parquet", part=g) for g in range(200)]
>>> draw = UnitDraw(SampleSpec(share=0.1, sample_by="unit", seed=1), groups, lambda u: True, lambda u, k: iter(()))
>>> low, high = draw.bounds(draw.first())
>>> len(draw.drawn(low, high)) == sum(key(1, unit_id(u)) < 0.1 for u in groups)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from compressbench.core.aggregate import Aggregate
from compressbench.core.confidence import Moments
from compressbench.core.errors import ConfigError
from compressbench.core.sample import Sample
from compressbench.data.formats.base import Record, Unit, unit_id
from compressbench.data.sampling import (DEFAULT_FIRST_ROUND, Draw, Population, SampleSpec, growth, key,
                                         listed_count, threshold)

FIRST_UNITS = 30  # units at least in the first round of --precision without --sample


def with_unit(load: Callable[..., Sample], record: Record, *args: Any) -> Sample:
    """``load(record, *args)``, the sample naming its reading unit (its rows then carry ``unit``)."""
    sample = load(record, *args)
    sample.meta = {**sample.meta, "unit": unit_id(record.unit)}
    return sample


def refuse_uncounted(spec: SampleSpec | None, units: Iterable[list[Unit]]) -> None:
    """Before a run reads anything: ``--sample N --sample-by unit`` needs every unit's record count."""
    if spec is None or spec.sample_by != "unit" or spec.count is None:
        return
    for unit in (u for some in units for u in some):
        if listed_count(unit) is None:
            raise _uncounted(spec.count, unit)


def _uncounted(count: int, stream: Unit) -> ConfigError:
    what = ("is a stream (JSONL, CSV, tar) whose records are not counted before reading it"
            if stream.format not in ("parquet", "zip") else
            f"does not list its records (its {'footer' if stream.format == 'parquet' else 'directory'} cannot be "
            "read now)")
    return ConfigError(f"--sample {count} --sample-by unit: {unit_id(stream)} {what}; give a share (--sample P%) "
                       "or --precision instead")


@dataclass
class UnitDraw:
    """The sample of whole units of one dataset, round by round, for the units this run reads (``mine``)."""

    spec: SampleSpec
    units: list[Unit]  # all the dataset's units, every shard's: record counts and thresholds are global
    mine: Callable[[Unit], bool]
    read: Callable[[Unit, Callable[[str], bool] | None], Iterator[Record]]
    population: Population = field(default_factory=Population)
    low: float = 0.0  # units with keys below were drawn in earlier rounds
    rounds: list[str] = field(default_factory=list)
    _keys: list[float] | None = None  # each unit's key, in ``units`` order
    _sizes: list[int | None] | None = None  # each unit's listed record count (None: a stream)
    _streams: set[str] | None = None  # the ids of the units that are streams

    @property
    def exhausted(self) -> bool:
        """Whether every unit has been drawn."""
        return self.low >= 1.0

    def keys(self) -> list[float]:
        if self._keys is None:
            self._keys = [key(self.spec.seed, unit_id(u)) for u in self.units]
        return self._keys

    def sizes(self) -> list[int | None]:
        """Each unit's record count when listed without reading its data (None for a stream)."""
        if self._sizes is None:
            self._sizes = [listed_count(u) for u in self.units]
            self.population.listed = sum(n for n in self._sizes if n is not None)
            self.population.has_streams = None in self._sizes
        return self._sizes

    def first(self) -> Draw:
        """The first round: ``--sample``'s, else at least :data:`DEFAULT_FIRST_ROUND` records (when the
        units list their counts) and :data:`FIRST_UNITS` units."""
        if self.spec.count is not None or self.spec.share is not None:
            return self.spec.first()
        high = threshold(self.keys(), FIRST_UNITS)
        if None not in self.sizes():
            high = max(high, self._holding(DEFAULT_FIRST_ROUND))
        return Draw(share=high)

    def next(self, draw: Draw, drawn: int, needed: float | None) -> Draw:
        """The round after ``draw``, which drew ``drawn`` units: the threshold times the projected growth
        (``needed`` units with a 20% margin), at least doubled."""
        return Draw(share=min(1.0, self.low * growth(drawn, needed)))

    def bounds(self, draw: Draw) -> tuple[float, float]:
        """The key range [low, high) of the units new in ``draw`` (found without reading any); the draw
        moves on to it."""
        high = draw.share if draw.share is not None else self._holding(draw.count or 0)
        low, self.low = self.low, max(self.low, high)
        return low, self.low

    def drawn(self, low: float, high: float) -> list[Unit]:
        """This run's units with keys in [low, high), in the dataset's order."""
        return [u for u, k in zip(self.units, self.keys()) if low <= k < high and self.mine(u)]

    def round(self, draw: Draw) -> Iterator[Record]:
        """Every record of the units new in ``draw`` that this run reads, unit by unit, each in its order."""
        low, high = self.bounds(draw)
        for unit in self.drawn(low, high):
            for record in self.read(unit, None):
                self.seen(unit_id(unit))
                yield record

    def seen(self, unit: str) -> None:
        """Count a record read from unit ``unit`` (here, or by a Ray actor) when the unit is a stream."""
        if self._streams is None:
            self._streams = {unit_id(u) for u, n in zip(self.units, self.sizes()) if n is None}
        if unit in self._streams:
            self.population.streamed += 1

    @property
    def sampled_units(self) -> int:
        """This run's units drawn so far."""
        return len(self.drawn(0.0, self.low))

    def past(self, rows: Iterable[dict[str, Any]]) -> dict[str, Aggregate]:
        """Nothing: the units an interrupted run measured beyond the sample so far are left out by their
        ``unit`` (:meth:`observed`), so its rows are not read."""
        return {}

    def observed(self, total: Aggregate, past: Aggregate, *, sharded: bool) -> tuple[Moments, int, int]:
        """What the interval so far stands on: one tokenizer's totals of the units drawn so far (units an
        interrupted run measured beyond them left out), how many units were drawn, and all units."""
        drawn, seed = self.sampled_units, self.spec.seed
        return total.unit_moments(drawn, keep=lambda u: key(seed, u) < self.low), drawn, len(self.units)

    def info(self, *, sharded: bool) -> dict[str, Any]:
        """The dataset's sampling entries of the summary: the population (records, when known: every
        unit listed its count, or every stream was read), the units drawn and all units, the rounds."""
        sizes = self.sizes()  # counts the listed records, whether or not a round read any unit
        population = self.population.info(sharded=sharded)
        unread = any(n is None and k >= self.low and self.mine(u) for u, k, n in zip(self.units, self.keys(), sizes))
        if unread:
            population["population_samples"] = None
        return {**population, "sampled_units": self.sampled_units, "population_units": len(self.units),
                "streams_unread": unread, "sample_rounds": self.rounds}

    def _holding(self, count: int) -> float:
        """The smallest threshold whose units hold at least ``count`` records (1.0: all of them)."""
        sizes = self.sizes()
        if None in sizes:
            raise _uncounted(count, self.units[sizes.index(None)])
        held = 0
        for k, n in sorted(zip(self.keys(), sizes)):
            held += n or 0
            if held >= count:
                return math.nextafter(k, 1.0)
        return 1.0
