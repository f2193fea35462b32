"""The documented shape of summary.json (snake_case keys; units in ``units``).

Version ``compressbench.summary/1``. Every number's unit is in ``units``
(see :data:`compressbench.core.metrics.UNITS`).
"""

from __future__ import annotations

from typing import Any, TypedDict

SCHEMA = "compressbench.summary/1"


class LanguageRow(TypedDict, total=False):
    samples: int
    errors: int
    raw_bytes: int
    tokens: int
    compression: float | None
    chars_per_token: float | None
    fertility: float | None
    byte_token_rate: float | None
    token_premium: float | None  # tokens / tokens of the reference language (same content)
    entropy_bits: float | None  # text: H1 of this language's token ids
    vocab_utilisation: float | None  # text: distinct ids of this language / |V|


class SummaryRow(TypedDict, total=False):
    dataset: str
    modality: str
    tokenizer: str
    samples: int
    errors: int
    raw_bytes: int
    input_bytes: int
    file_bytes: int
    tokens: int
    compression: float | None  # raw_bytes / tokens
    compression_mean: float | None
    compression_p10: float | None
    compression_p50: float | None
    compression_p90: float | None
    compression_percentiles: str | None  # "exact", or past 100,000 samples "DDSketch (relative error 0.5%)"
    compression_ci_low: float | None  # 95% confidence interval of C under sampling (docs/sampling.md)
    compression_ci_high: float | None
    sampled_samples: int
    population_samples: int | None
    sampled_units: int  # --sample-by unit: reading units drawn whole, and all of them
    population_units: int
    population_raw_bytes_estimate: float | None
    population_raw_bytes_ci_low: float | None
    population_raw_bytes_ci_high: float | None
    preprocessing_factor: float | None  # raw_bytes / input_bytes
    tokenizer_factor: float | None  # input_bytes / tokens
    seconds: float
    decode_seconds: float
    raw_mb_per_s: float | None
    tokens_per_s: float | None
    # the information ledger (text tokenizers; see docs/information.md)
    vocab_size: int
    entropy_bits: float | None
    shannon_efficiency: float | None
    renyi_efficiency: float | None  # alpha: provenance renyi_alpha
    vocab_utilisation: float | None
    bits_per_byte: float | None
    continued_word_rate: float | None
    fairness_gini: float | None  # datasets with language labels
    bits_per_second: float  # codecs
    tokens_per_second: float  # codecs
    # what the model's input keeps, means over samples (docs/fidelity.md, docs/fidelity-audio-video.md)
    input_coverage: float  # image: pixels; audio and video: seconds
    input_psnr_db: float  # image and video frames
    input_ssim: float  # image and video frames
    input_energy_share: float  # audio
    input_frame_share: float  # video
    languages: dict[str, LanguageRow]  # summary.json only, for datasets with language labels


class DatasetInfo(TypedDict):
    modality: str
    samples: int
    paths: list[str]
    content_sha256: str | None  # order-free: sum of sha256(sample id, file digest) over samples, mod 2^256; None with --hash none
    content_hash: str  # how each file's digest was taken (--hash): full, quick (size, first and last 64 KiB) or none
    reference_language: str


class Summary(TypedDict):
    schema: str
    suite: str
    provenance: dict[str, Any]  # versions, machine, device, started_utc, finished_utc, suite_source, hash (--hash),
    # suite_origin (given, fixtures/suite.toml in the current folder, or packaged demo), shard (K/N or null) and,
    # for a shard, shard_scheme ("unit": whole reading units per shard; absent in older runs, split by sample id);
    # for a merge, merged_from (the shards) and, when shards were missing, merge_incomplete (what is missing)
    datasets: dict[str, DatasetInfo]
    tokenizers: dict[str, dict[str, Any]]  # spec, family, config, sha256, modality, device
    units: dict[str, str]
    rows: list[SummaryRow]
