"""The information ledger: what the token ids of a dataset say beyond C = T / N.

A tokenizer that yields token ids reports, per sample, how often each id occurs
(a sparse count, :func:`count_ids`). A run adds these up per dataset x tokenizer
and per language (:class:`IdCounts`) and keeps every sample's counts in
``token_ids.jsonl`` beside results.jsonl, one line per results row, so that
``--resume``, ``merge`` and the Ray engine rebuild exactly the counts of one run.
From the counts come the unigram entropy and the efficiencies of Zouhar et al.
(2023), vocabulary use, bits per byte, and the fairness across languages of
Petrov et al. (2023) as a Gini coefficient (:func:`ledger_fields`).

>>> counts = {7: 2, 9: 2}
>>> entropy_bits(counts), renyi_entropy_bits(counts, 2.5)
(1.0, 1.0)
>>> round(gini([1.0, 1.0, 1.0, 4.0]), 4)
0.3214
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from compressbench.core.jsonlines import read_lines
from compressbench.core.metrics import ratio

DEFAULT_RENYI_ALPHA = 2.5  # Zouhar et al. (2023): the order that best predicts downstream quality
IDS_FILE = "token_ids.jsonl"  # a run's per-sample token-id counts, beside results.jsonl

IdMap = Mapping[int, int]


class SparseCounts(Mapping[int, int]):
    """How often each token id occurs in one sample, read as a mapping id -> count: the ids ascending and
    their counts as two numpy arrays, so that counting, adding up and writing them out never makes a
    Python object per id (:func:`count_ids` builds one; any mapping converts with :meth:`of`).

    >>> c = SparseCounts.of({9: 2, 7: 1})
    >>> c, c[9], list(c), c == {7: 1, 9: 2}
    ({7: 1, 9: 2}, 2, [7, 9], True)
    """

    __slots__ = ("ids", "counts")

    def __init__(self, ids: Any, counts: Any) -> None:
        self.ids, self.counts = ids, counts  # numpy int64 arrays of one length, ids ascending and distinct

    @classmethod
    def of(cls, counts: IdMap) -> "SparseCounts":
        """``counts`` as a :class:`SparseCounts` (itself if it is one)."""
        import numpy as np

        if isinstance(counts, SparseCounts):
            return counts
        ordered = sorted(counts.items())
        return cls(np.array([t for t, _ in ordered], dtype=np.int64), np.array([n for _, n in ordered], dtype=np.int64))

    def __getitem__(self, token: int) -> int:
        at = int(self.ids.searchsorted(token))
        if at < len(self.ids) and self.ids[at] == token:
            return int(self.counts[at])
        raise KeyError(token)

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids.tolist())

    def __len__(self) -> int:
        return len(self.ids)

    def items(self) -> list[tuple[int, int]]:  # type: ignore[override]
        return list(zip(self.ids.tolist(), self.counts.tolist()))

    def values(self) -> list[int]:  # type: ignore[override]
        return self.counts.tolist()

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return SparseCounts, (self.ids, self.counts)


def count_ids(ids: Any) -> SparseCounts:
    """How often each token id occurs in ``ids`` (a sequence of ints or a numpy array).

    >>> count_ids([5, 3, 5])
    {3: 1, 5: 2}
    """
    import numpy as np  # not at import: the command line's --help stays light

    values, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
    return SparseCounts(values, counts)


def add_counts(total: dict[int, int], counts: IdMap) -> None:
    """Add ``counts`` into ``total`` in place."""
    get = total.get
    for token, n in counts.items():
        total[token] = get(token, 0) + n


FOLD_ENTRIES = 1 << 20  # id counts an IdCounts holds in arrays before it adds them into its dicts
ARRAY_ENTRIES = 16  # what a sample's two small arrays cost in memory besides their entries (~240 bytes), in entries


class _Sum:
    """A sum of id counts: the samples' arrays are kept as they come and added into one dict
    (in numpy, a sort and an unbuffered add, then a Python step per distinct id) by :meth:`fold`, which the
    :class:`IdCounts` holding it calls once its sums hold ``FOLD_ENTRIES`` entries, or when the sum is read."""

    __slots__ = ("folded", "ids", "counts")

    def __init__(self, folded: dict[int, int] | None = None) -> None:
        self.folded = {} if folded is None else folded
        self.ids: list[Any] = []
        self.counts: list[Any] = []

    def add(self, counts: SparseCounts) -> None:
        self.ids.append(counts.ids)
        self.counts.append(counts.counts)

    def fold(self) -> dict[int, int]:
        """The sum as a dict (the arrays held so far added in)."""
        if self.ids:
            import numpy as np

            ids, counts = np.concatenate(self.ids), np.concatenate(self.counts)
            self.ids, self.counts = [], []
            distinct, where = np.unique(ids, return_inverse=True)
            sums = np.zeros(len(distinct), dtype=np.int64)
            np.add.at(sums, where, counts)  # exact in int64, whatever the counts
            add_counts(self.folded, SparseCounts(distinct, sums))
        return self.folded


class IdCounts:
    """The token-id counts of one dataset x tokenizer: over all its samples (``total``), and per language
    (``languages``), both read as dicts id -> count.

    >>> counts = IdCounts()
    >>> counts.add(count_ids([5, 3, 5]), "eng"); counts.add({3: 2}, None)
    >>> counts.total, counts.languages, counts.samples
    ({3: 3, 5: 2}, {'eng': {3: 1, 5: 2}}, 2)
    """

    def __init__(self, total: dict[int, int] | None = None, languages: dict[str, dict[int, int]] | None = None,
                 samples: int = 0) -> None:
        self._total = _Sum(total)
        self._languages = {language: _Sum(counts) for language, counts in (languages or {}).items()}
        self.samples = samples
        self._held = 0  # entries the sums hold in arrays (a sample's arrays, shared by total and language, once)

    @property
    def total(self) -> dict[int, int]:
        return self._total.fold()

    @property
    def languages(self) -> dict[str, dict[int, int]]:
        return {language: counts.fold() for language, counts in self._languages.items()}

    def add(self, counts: IdMap, language: str | None) -> None:
        """Count one sample's ids."""
        sparse = SparseCounts.of(counts)
        self.samples += 1
        self._total.add(sparse)
        if language is not None:
            self._languages.setdefault(language, _Sum()).add(sparse)
        self._hold(len(sparse) + ARRAY_ENTRIES)

    def absorb(self, other: "IdCounts") -> None:
        """Count ``other``'s samples here too."""
        self.samples += other.samples
        total = SparseCounts.of(other.total)
        self._total.add(total)
        held = len(total) + ARRAY_ENTRIES
        for language, counts in other.languages.items():
            sparse = SparseCounts.of(counts)
            self._languages.setdefault(language, _Sum()).add(sparse)
            held += len(sparse) + ARRAY_ENTRIES
        self._hold(held)

    def _hold(self, entries: int) -> None:
        """Note ``entries`` more held in arrays; past ``FOLD_ENTRIES``, fold every sum (the language sums
        hold the same arrays as the total: folding the total alone would free none of them)."""
        self._held += entries
        if self._held >= FOLD_ENTRIES:
            self._held = 0
            self._total.fold()
            for counts in self._languages.values():
                counts.fold()


def _plogp_sum(counts: Iterable[int], power: float) -> float:
    """Σ c^power over the counts, correctly rounded (order-free: a merged run sums as the whole)."""
    return math.fsum(float(c) ** power for c in counts)


def entropy_bits(counts: IdMap) -> float | None:
    """H₁ = −Σ p log₂ p of the ids' unigram distribution, in bits per token (None without tokens).

    Computed as log₂ N − Σ c log₂ c / N, each term exact to the last bit and summed with ``fsum``,
    so the value does not depend on the order the counts were added in.

    >>> entropy_bits({1: 1, 2: 1, 3: 1, 4: 1})
    2.0
    """
    n = sum(counts.values())
    if not n:
        return None
    return max(0.0, math.log2(n) - math.fsum(c * math.log2(c) for c in counts.values()) / n)


def renyi_entropy_bits(counts: IdMap, alpha: float) -> float | None:
    """H_α = log₂(Σ p^α) / (1 − α) in bits per token; H₁ at α = 1 (its limit).

    >>> round(renyi_entropy_bits({1: 3, 2: 1}, 2.0), 6)  # -log2(0.75² + 0.25²)
    0.678072
    """
    if alpha == 1:
        return entropy_bits(counts)
    n = sum(counts.values())
    if not n:
        return None
    # log₂ Σ (c/N)^α = log₂ Σ c^α − α log₂ N
    return max(0.0, (math.log2(_plogp_sum(counts.values(), alpha)) - alpha * math.log2(n)) / (1 - alpha))


def gini(values: list[float]) -> float | None:
    """The Gini coefficient Σᵢ Σⱼ |vᵢ − vⱼ| / (2 n² μ): 0 when all are equal (None for an empty list
    or a zero mean).

    >>> gini([2.0, 2.0]), gini([0.0, 0.0, 0.0, 1.0])
    (0.0, 0.75)
    """
    n = len(values)
    mean = math.fsum(values) / n if n else 0.0
    if not mean:
        return None
    return math.fsum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)


def efficiency(entropy: float | None, vocab_size: int) -> float | None:
    """An entropy over its maximum, log₂|V| (None when either is undefined)."""
    if entropy is None or vocab_size < 2:
        return None
    return entropy / math.log2(vocab_size)


def ledger_fields(ids: IdCounts, vocab_size: int, alpha: float, compression: float | None) -> dict[str, Any]:
    """The ledger of one dataset x tokenizer: summary.json's and summary.csv's fields.

    >>> f = ledger_fields(IdCounts(total={0: 2, 1: 2}), 4, 2.5, 2.0)
    >>> f["entropy_bits"], f["shannon_efficiency"], f["vocab_utilisation"], f["bits_per_byte"]
    (1.0, 0.5, 0.5, 0.5)
    """
    h1 = entropy_bits(ids.total)
    return {
        "vocab_size": vocab_size,
        "entropy_bits": h1,
        "shannon_efficiency": efficiency(h1, vocab_size),
        "renyi_efficiency": efficiency(renyi_entropy_bits(ids.total, alpha), vocab_size),
        "vocab_utilisation": ratio(len(ids.total), vocab_size),
        "bits_per_byte": ratio(h1, compression) if h1 is not None and compression else None,
    }


def language_fields(counts: IdMap, vocab_size: int) -> dict[str, Any]:
    """The ledger of one language of a dataset: H₁ and vocabulary use."""
    return {"entropy_bits": entropy_bits(counts), "vocab_utilisation": ratio(len(counts), vocab_size)}


def rate_fields(identity: Mapping[str, Any]) -> dict[str, Any]:
    """A codec's nominal rates, from its definition (tokenizer identity): bits and tokens per second of audio.

    >>> rate_fields({"bitrate_bps": 6000.0, "tokens_per_second": 600.0})
    {'bits_per_second': 6000.0, 'tokens_per_second': 600.0}
    >>> rate_fields({"vocab_size": 256})
    {}
    """
    if "bitrate_bps" not in identity:
        return {}
    return {"bits_per_second": identity["bitrate_bps"], "tokens_per_second": identity.get("tokens_per_second")}


def summary_fields(ids: IdCounts, identity: Mapping[str, Any], alpha: float, row: dict[str, Any], *,
                   counted: bool = True) -> dict[str, Any]:
    """The ledger fields of one summary row (dataset x tokenizer), whose ``languages`` (if any) also get
    theirs: the ids' ledger for a tokenizer with a vocabulary, a codec's rates, and ``fairness_gini`` for
    a dataset of two languages or more. ``counted`` False (a run with ``--no-ledger``) leaves the ids'
    fields and the continued words None."""
    out: dict[str, Any] = {}
    vocab_size = identity.get("vocab_size")
    if vocab_size:
        fields = ledger_fields(ids, vocab_size, alpha, row.get("compression"))
        out.update(fields if counted else dict.fromkeys(fields, None) | {"vocab_size": vocab_size})
        if not counted and row.get("modality") == "text":  # null, not missing: the columns stay in summary.csv
            out.update(continued_words=None, continued_word_rate=None)
        languages = ids.languages  # folded once, not once a language
        for language, per_language in row.get("languages", {}).items():
            fields = language_fields(languages.get(language, {}), vocab_size)
            per_language.update(fields if counted else dict.fromkeys(fields, None))
    out.update(rate_fields(identity))
    if "languages" in row:
        out["fairness_gini"] = fairness_gini(row["languages"])
    return out


def fairness_gini(languages: Mapping[str, Mapping[str, Any]]) -> float | None:
    """The Gini coefficient of per-language tokens per byte c_ℓ = N_ℓ / T_ℓ (None below two languages).

    >>> fairness_gini({"eng": {"tokens": 10, "raw_bytes": 40}, "hin": {"tokens": 30, "raw_bytes": 40}})
    0.25
    """
    rates = [row["tokens"] / row["raw_bytes"] for _, row in sorted(languages.items())
             if row.get("raw_bytes") and row.get("tokens")]
    return gini(rates) if len(rates) >= 2 else None


# ---- token_ids.jsonl: one line per results row that has ids -------------------------------------

def ids_line(dataset: str, modality: str, tokenizer: str, sample: str, language: str | None,
             counts: IdMap) -> dict[str, Any]:
    """The line of ``token_ids.jsonl`` for one sample x tokenizer: its key and sparse id counts
    (``ids`` ascending, ``counts`` beside them).

    >>> ids_line("d", "text", "bytes", "a.txt", None, {98: 1, 97: 2})["ids"]
    [97, 98]
    """
    sparse = SparseCounts.of(counts)  # ascending
    ids, numbers = sparse.ids.tolist(), sparse.counts.tolist()
    return {"dataset": dataset, "modality": modality, "tokenizer": tokenizer, "sample": sample,
            "language": language, "ids": ids, "counts": numbers}


def line_counts(line: Mapping[str, Any]) -> SparseCounts:
    """The id counts a ``token_ids.jsonl`` line holds (its ids are ascending)."""
    import numpy as np

    return SparseCounts(np.array(line["ids"], dtype=np.int64), np.array(line["counts"], dtype=np.int64))


def read_ids(path: Path, *, repair: bool = False) -> Iterator[dict[str, Any]]:
    """The lines of a ``token_ids.jsonl``, streamed (:func:`~compressbench.core.jsonlines.read_lines`: a
    half-written last line is skipped, and with ``repair`` cut). A missing file has no lines."""
    if not path.is_file():
        return iter(())
    return read_lines(path, "token-id counts file", repair=repair, check=_ids_line_problem)


def _ids_line_problem(line: Any) -> str | None:
    """What is wrong with a ``token_ids.jsonl`` line read back (None: nothing).

    >>> _ids_line_problem({"dataset": "d", "modality": "text", "tokenizer": "t", "sample": "s", "ids": [1], "counts": []})
    'ids and counts of different lengths (1 and 0)'
    """
    if not isinstance(line, dict) or not all(k in line for k in ("dataset", "modality", "tokenizer", "sample")):
        return "a line without its dataset, modality, tokenizer and sample"
    ids, counts = line.get("ids"), line.get("counts")
    if not isinstance(ids, list) or not isinstance(counts, list):
        return "a line whose ids and counts are not lists"
    if len(ids) != len(counts):
        return f"ids and counts of different lengths ({len(ids)} and {len(counts)})"
    return None


def add_lines(groups: Mapping[tuple[str, str, str], Any], lines: Iterable[dict[str, Any]]) -> None:
    """Count ``token_ids.jsonl`` lines into the groups (dataset, modality, tokenizer) -> Group they belong to."""
    for line in lines:
        group = groups.get((line["dataset"], line["modality"], line["tokenizer"]))
        if group is not None:
            group.ids.add(line_counts(line), line.get("language"))
