"""Drawing a uniform random sample of a dataset's records (``run --sample``, ``--seed``, ``--precision``).

Every record gets a **key**, a number in [0, 1) from a hash of the seed and the
record's id: the same seed gives every record the same key on every machine, in
every shard and whatever the workers or batch size. A sample is the records
whose key falls below a **threshold**:

- ``--sample P%``: the threshold is P/100, so each record is kept with
  probability P% independently of the others (Bernoulli sampling);
- ``--sample N``: the threshold is just above the N-th smallest key, so the
  sample is exactly the N records with the smallest keys, a simple random
  sample without replacement (N when the dataset has that many).

Keys are known without reading data where the source lists its records
(Parquet row counts from the footer, a zip's directory, loose files from the
folder listing): only units holding a kept record are opened, and only the
kept rows and members are read. A stream (JSONL, CSV, tar) is read once, in
order; with ``--sample N`` the candidates below the running threshold are held
until the stream ends (a reservoir of at most N records).

``--precision`` draws in rounds: each round at least doubles the sample (its
threshold rises), and a round reads only the records between the previous
threshold and the new one. Sharded runs agree because keys do: with ``--sample P%`` each shard
keeps its own records below P/100; with ``--sample N`` each shard keeps the records
of its own units among the N smallest keys it can see (every listed record of the
dataset plus its own streams), and ``merge`` keeps the N smallest over all shards.
``--sample-by unit`` draws whole reading units instead (:mod:`compressbench.data.clusters`).

>>> key(0, "a.jsonl#3") == key(0, "a.jsonl#3") != key(1, "a.jsonl#3")
True
>>> SampleSpec.parse("10%").share, SampleSpec.parse("500").count
(0.1, 500)
>>> SampleSpec.parse("ten")
Traceback (most recent call last):
compressbench.core.errors.ConfigError: --sample 'ten': give a number of records per dataset, at least 1 (e.g. 500), or a share of each dataset above 0% and at most 100% (e.g. 10%)
>>> SampleSpec.parse("1%", precision=1.0).first().label
'1%'
>>> threshold([0.5, 0.1, 0.3, 0.9], 2) == math.nextafter(0.3, 1)
True
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import math
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.core.aggregate import Aggregate
from compressbench.core.confidence import Moments
from compressbench.core.errors import ConfigError
from compressbench.core.sample import Measurement
from compressbench.data.formats import get_format
from compressbench.data.formats.base import Record, Unit

if TYPE_CHECKING:
    from compressbench.data.clusters import UnitDraw

DEFAULT_FIRST_ROUND = 1000  # records in the first round of --precision without --sample
SAMPLE_BY = ("record", "unit")  # what --sample-by draws: records, or whole reading units
PROJECTION_MARGIN = 1.2  # a round projected to reach --precision draws this much more than projected


def key(seed: int, record_id: str) -> float:
    """A record's sampling key in [0, 1): 53 bits of BLAKE2b of the id, keyed by the seed."""
    h = _keyed(seed).copy()
    h.update(record_id.encode("utf-8", "surrogatepass"))  # a lone surrogate (a damaged results.jsonl) too
    return (int.from_bytes(h.digest(), "big") >> 11) * _UNIT


_UNIT = 1.0 / (1 << 53)


@functools.lru_cache(maxsize=16)
def _keyed(seed: int) -> Any:
    return hashlib.blake2b(digest_size=8, key=str(seed).encode())


def threshold(keys: Iterable[float], count: int) -> float:
    """The smallest threshold keeping the ``count`` smallest of ``keys`` (all of them when fewer)."""
    smallest = heapq.nsmallest(count, keys)
    if count <= 0:
        return 0.0
    return 1.0 if len(smallest) < count else math.nextafter(smallest[-1], 1.0)


@dataclass(frozen=True)
class Draw:
    """One round of a sample: records with ``low <= key < high`` are read in it (``count`` or ``share``)."""

    count: int | None = None
    share: float | None = None

    @property
    def label(self) -> str:
        return f"{self.count}" if self.count is not None else f"{100 * (self.share or 0):g}%"


@dataclass(frozen=True)
class SampleSpec:
    """What ``--sample``, ``--seed`` and ``--precision`` asked for (``count`` or ``share``, or neither
    with ``precision`` alone: rounds then start at :data:`DEFAULT_FIRST_ROUND` records)."""

    count: int | None = None
    share: float | None = None
    seed: int = 0
    precision: float | None = None  # target 95% CI half-width, % of C
    sample_by: str = "record"  # or "unit": whole reading units (compressbench.data.clusters)

    @classmethod
    def parse(cls, text: str | None, *, seed: int = 0, precision: float | None = None,
              sample_by: str = "record") -> "SampleSpec":
        """``N`` (records per dataset) or ``P%`` (a share of each dataset)."""
        if precision is not None and not (0 < precision < 100):
            raise ConfigError(f"--precision {precision:g}: give a percentage of C between 0 and 100, e.g. 1")
        if sample_by not in SAMPLE_BY:
            raise ConfigError(f"--sample-by {sample_by!r}: choose {' or '.join(SAMPLE_BY)}")
        if not -(1 << 63) <= seed < 1 << 63:  # the seed keys a hash, whose key is at most 64 bytes
            raise ConfigError(f"--seed {seed}: give a whole number from {-(1 << 63)} to {(1 << 63) - 1}")
        by = {"seed": seed, "precision": precision, "sample_by": sample_by}
        if text is None:  # --precision alone (by unit, clusters.UnitDraw.first sizes the first round)
            return cls(count=DEFAULT_FIRST_ROUND if precision and sample_by == "record" else None, **by)
        t = text.strip()
        try:
            if t.endswith("%"):
                share = float(t[:-1]) / 100
                if not 0 < share <= 1:
                    raise ValueError
                return cls(share=share, **by)
            count = int(t)
            if count < 1:
                raise ValueError
            return cls(count=count, **by)
        except ValueError:
            raise ConfigError(f"--sample {text!r}: give a number of records per dataset, at least 1 (e.g. 500), "
                              "or a share of each dataset above 0% and at most 100% (e.g. 10%)") from None

    def first(self) -> Draw:
        """The first round (the only one without ``precision``)."""
        if self.count is None and self.share is None:
            return Draw(count=DEFAULT_FIRST_ROUND)
        return Draw(count=self.count, share=self.share)

    @staticmethod
    def next(draw: Draw, drawn: int, needed: float | None) -> Draw:
        """The round after ``draw`` (which drew ``drawn`` records): at least double, or ``needed``
        records (projected from the interval so far) with a 20% margin when that is more.

        >>> SampleSpec.next(Draw(count=1000), 1000, 25000.0), SampleSpec.next(Draw(share=0.1), 500, None)
        (Draw(count=30000, share=None), Draw(count=None, share=0.2))
        """
        grow = growth(drawn, needed)
        if draw.share is not None:
            return Draw(share=min(1.0, draw.share * grow))
        return Draw(count=math.ceil((draw.count or DEFAULT_FIRST_ROUND) * grow))

    def provenance(self) -> dict[str, Any]:
        """How the sample was drawn, for run.json and the summary's provenance."""
        return {"sample": self.label(), "seed": self.seed, "precision": self.precision, "sample_by": self.sample_by}

    def label(self) -> str | None:
        return (f"{self.count}" if self.count is not None else
                f"{100 * self.share:g}%" if self.share is not None else None)


def growth(drawn: int, needed: float | None) -> float:
    """How much the next ``--precision`` round multiplies the sample by: at least 2, or what the interval
    so far projects (``needed``, in the units ``drawn`` counts) with a 20% margin.

    >>> growth(1000, 25000.0), growth(1000, None)
    (30.0, 2.0)
    """
    return max(2.0, PROJECTION_MARGIN * (needed or 0) / max(drawn, 1))


def listed_ids(unit: Unit) -> list[str] | None:
    """The ids of a unit's records when known without reading its data, else None (a stream)."""
    if unit.source.error is not None:
        return [unit.source.id]
    return get_format(unit.format).listed(unit)


def listed_count(unit: Unit) -> int | None:
    """How many records :func:`listed_ids` lists, without building their ids (None for a stream)."""
    if unit.source.error is not None:
        return 1
    return get_format(unit.format).listed_count(unit)


@dataclass
class Population:
    """What a dataset's draw learnt of its size: records listed without reading (all shards' units),
    and records counted while streaming (this run's own stream units)."""

    listed: int = 0
    streamed: int = 0
    has_streams: bool = False

    def info(self, *, sharded: bool) -> dict[str, Any]:
        known = None if (self.has_streams and sharded) else self.listed + self.streamed
        return {"population_samples": known, "listed_samples": self.listed, "streamed_samples": self.streamed,
                "has_streams": self.has_streams}


@dataclass
class DatasetDraw:
    """The sample of one dataset, round by round, for the units this run reads (``mine``)."""

    spec: SampleSpec
    units: list[Unit]  # all the dataset's units, every shard's: listed keys are global
    mine: Callable[[Unit], bool]
    read: Callable[[Unit, Callable[[str], bool] | None], Iterator[Record]]  # a unit's records, kept ids only
    population: Population = field(default_factory=Population)
    low: float = 0.0  # keys below were drawn in earlier rounds
    rounds: list[str] = field(default_factory=list)  # each finished round's draw (N, or P%)
    _listed: dict[Unit, array] | None = None  # listed units' keys, computed once (8 bytes a record)

    @property
    def exhausted(self) -> bool:
        """Whether every record has been drawn."""
        return self.low >= 1.0

    def first(self) -> Draw:
        """The first round."""
        return self.spec.first()

    def next(self, draw: Draw, drawn: int, needed: float | None) -> Draw:
        """The round after ``draw``, which drew ``drawn`` records (:meth:`SampleSpec.next`)."""
        return self.spec.next(draw, drawn, needed)

    def past(self, rows: Iterable[dict[str, Any]]) -> dict[str, Aggregate]:
        """Of ``rows`` (this dataset's, of an interrupted run), those measured beyond the sample so far, added
        up by tokenizer: :meth:`observed` leaves them out, so a resumed run plans the rounds the
        uninterrupted one did."""
        out: dict[str, Aggregate] = {}
        for row in rows:
            if key(self.spec.seed, row["sample"]) >= self.low:
                out.setdefault(row["tokenizer"], Aggregate()).add(Measurement.from_row(row))
        return out

    def observed(self, total: Aggregate, past: Aggregate, *, sharded: bool) -> tuple[Moments, int, int | None]:
        """What the interval so far stands on: the sums of one tokenizer's records drawn so far (``total``
        less ``past``, its share of :meth:`past`), how many were drawn and the population."""
        m, sampled = total.sample_moments() - past.sample_moments(), total.samples - past.samples
        return m, sampled, self.population.info(sharded=sharded)["population_samples"]

    def info(self, *, sharded: bool) -> dict[str, Any]:
        """The dataset's sampling entries of the summary (population and rounds)."""
        return {**self.population.info(sharded=sharded), "sample_rounds": self.rounds}

    def listed(self) -> dict[Unit, array]:
        """The keys of every record of the units that list their records, by unit, in the unit's order
        (ids are listed again when needed, so memory holds 8 bytes per record, not its id)."""
        if self._listed is None:
            self._listed = {}
            for u in self.units:
                ids = listed_ids(u)
                if ids is not None:
                    self._listed[u] = array("d", (key(self.spec.seed, i) for i in ids))
            self.population.listed = sum(map(len, self._listed.values()))
            self.population.has_streams = len(self._listed) < len(self.units)
        return self._listed

    def round(self, draw: Draw) -> Iterator[Record]:
        """The records this run reads in ``draw`` (those not drawn before), in unit order."""
        seed, listed = self.spec.seed, self.listed()
        streams = [u for u in self.units if u not in listed and self.mine(u)]
        held: dict[Unit, list[tuple[float, Record]]] = {}
        self.population.streamed = 0
        if draw.share is not None:
            high = draw.share
        else:
            high = threshold((k for keys in listed.values() for k in keys), draw.count or 0)
            high = self._stream_candidates(streams, draw.count or 0, high, held)
        low, self.low = self.low, high

        def wanted(rid: str) -> bool:
            return low <= key(seed, rid) < high

        for unit in self.units:
            if not self.mine(unit):
                continue
            if unit in listed:
                chosen = self.chosen(unit, low, high)
                if chosen:
                    yield from self.read(unit, chosen.__contains__)
            elif draw.share is not None:
                n = 0
                for record in self.read(unit, None):
                    n += 1
                    if wanted(record.id):
                        yield record
                self.population.streamed += n
            else:
                yield from (r for k, r in held.get(unit, []) if low <= k < high)

    def bounds(self, draw: Draw) -> tuple[float, float]:
        """The key range [low, high) of the records new in ``draw``, found without reading listed units
        (this run's streams are read for their keys only); the draw moves on to it. For engines
        that read elsewhere: records of listed units are :meth:`chosen`, a stream's filtered by key."""
        listed, seed = self.listed(), self.spec.seed
        self.population.streamed = 0

        def stream_keys() -> Iterator[float]:
            for unit in self.units:
                if unit not in listed and self.mine(unit):
                    for record in self.read(unit, None):
                        self.population.streamed += 1
                        yield key(seed, record.id)

        keys = itertools.chain((k for keys in listed.values() for k in keys), stream_keys())
        if draw.share is not None:
            for _ in stream_keys():  # counted, for the population
                pass
            high = draw.share
        else:
            high = threshold(keys, draw.count or 0)
        low, self.low = self.low, high
        return low, high

    def chosen(self, unit: Unit, low: float, high: float) -> set[str] | None:
        """The ids of a listed unit's records with keys in [low, high) (None for a stream)."""
        keys = self.listed().get(unit)
        if keys is None:
            return None
        if not any(low <= k < high for k in keys):
            return set()
        return {i for k, i in zip(keys, listed_ids(unit) or ()) if low <= k < high}

    def _stream_candidates(self, streams: list[Unit], count: int, high: float,
                           held: dict[Unit, list[tuple[float, Record]]]) -> float:
        """Read this run's streams once, holding the records that may be among the ``count`` smallest keys
        (with the listed ones, whose threshold is ``high``); returns the final threshold."""
        if not streams:
            return high
        seed = self.spec.seed
        listed_keys = heapq.nsmallest(count, (k for keys in self.listed().values() for k in keys))
        top = [-k for k in listed_keys]  # a max-heap of the count smallest keys seen
        heapq.heapify(top)
        candidates: list[tuple[float, int, Unit, Record]] = []
        order = 0
        for unit in streams:
            for record in self.read(unit, None):
                self.population.streamed += 1
                k = key(seed, record.id)
                if len(top) < count:
                    heapq.heappush(top, -k)
                elif k < -top[0]:
                    heapq.heapreplace(top, -k)
                else:
                    continue
                if k >= self.low:  # records drawn in earlier rounds are not held again
                    candidates.append((k, order, unit, record))
                    order += 1
                    if len(candidates) > 2 * count:  # prune what fell above the running threshold
                        cut = -top[0]
                        candidates = [c for c in candidates if c[0] <= cut]
        final = 1.0 if len(top) < count else math.nextafter(-top[0], 1.0)
        for k, _, unit, record in sorted(candidates, key=lambda c: c[1]):
            if k < final:
                held.setdefault(unit, []).append((k, record))
        return final


def dataset_draw(spec: SampleSpec, units: list[Unit], *, mine: Callable[[Unit], bool],
                 read: Callable[[Unit, Callable[[str], bool] | None], Iterator[Record]]) -> DatasetDraw | UnitDraw:
    """The draw of one dataset: of records (:class:`DatasetDraw`) or of whole units
    (:class:`compressbench.data.clusters.UnitDraw`), as ``spec.sample_by`` says."""
    if spec.sample_by == "unit":
        from compressbench.data.clusters import UnitDraw

        return UnitDraw(spec, units, mine, read)
    return DatasetDraw(spec, units, mine, read)


class SmallestKeys:
    """``merge`` of ``--sample N`` shards with streams: per dataset, the ``count`` distinct samples with the
    smallest keys among those offered (each shard may hold more, drawn from what it alone could see),
    kept as the rows stream past: memory holds ``count`` ids a dataset, not the rows.

    >>> keep = SmallestKeys(seed=0, count=2)
    >>> left_out = [keep.offer("d", sample) for sample in ("a", "b", "c", "d", "a")]
    >>> sorted(s for s in "abcd" if keep.kept("d", s)) == sorted(sorted("abcd", key=lambda s: key(0, s))[:2])
    True
    """

    def __init__(self, seed: int, count: int) -> None:
        self.seed, self.count = seed, count
        self._heaps: dict[str, list[tuple[float, str]]] = {}  # per dataset: (-key, sample), the largest key on top
        self._held: dict[str, set[str]] = {}

    def offer(self, dataset: str, sample: str) -> str | None:
        """Keep ``sample`` if its key is among the ``count`` smallest so far; returns the sample this leaves
        out (one held until now, or ``sample`` itself), None when none is left out."""
        held = self._held.setdefault(dataset, set())
        if sample in held:
            return None
        heap, item = self._heaps.setdefault(dataset, []), (-key(self.seed, sample), sample)
        if len(heap) < self.count:
            heapq.heappush(heap, item)
            held.add(sample)
            return None
        if item > heap[0]:  # a smaller key than the largest held
            dropped = heapq.heapreplace(heap, item)[1]
            held.discard(dropped)
            held.add(sample)
            return dropped
        return sample

    def kept(self, dataset: str, sample: str) -> bool:
        return sample in self._held.get(dataset, ())


def merged_sampling(provenances: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The sampling of shards being merged (None: exhaustive); shards sampled differently do not merge."""
    setups = [p.get("sampling") for p in provenances]
    if any(s != setups[0] for s in setups[1:]):
        raise ConfigError("cannot merge: the runs sampled differently (--sample, --seed, --precision or --sample-by "
                          "differ); rerun the shards with one sampling")
    return setups[0]


def merged_population(infos: list[dict[str, Any]], *, complete: bool) -> dict[str, Any]:
    """A sampled dataset's population over merged shards: listed records (every shard lists them all) plus
    each shard's streamed ones; unknown when streams were read and some shard is missing, or (sampling
    whole units) some stream was not drawn. Units drawn add up over the shards."""
    first = infos[0]
    if "sample_rounds" not in first:
        return {}
    streamed = sum(i.get("streamed_samples", 0) for i in infos)
    unread = any(i.get("streams_unread") for i in infos)
    known = (complete or not first.get("has_streams")) and not unread
    units = ({"sampled_units": sum(i["sampled_units"] for i in infos), "streams_unread": unread}
             if "sampled_units" in first else {})
    return {"population_samples": first["listed_samples"] + streamed if known else None,
            "streamed_samples": streamed, **units}
