"""Every number compressbench reports, with its unit and how it is counted.

The table is data: reports, CSV headers and summary.json's ``units`` read it,
so no number leaves the program without its unit.

>>> UNITS["compression"]
'bytes/token (raw bytes T / tokens N)'
>>> derived({"tokens": 10, "chars": 45})["chars_per_token"]
4.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass

UNITS: dict[str, str] = {
    "samples": "count of samples (files or items), failed ones included",
    "errors": "count of samples that failed",
    "raw_bytes": "bytes (T: canonical decoded size; text = UTF-8 bytes)",
    "input_bytes": "bytes (canonical size of what the tokenizer consumed after preprocessing)",
    "file_bytes": "bytes (size on disk)",
    "tokens": "tokens (N)",
    "compression": "bytes/token (raw bytes T / tokens N)",
    "compression_mean": "bytes/token (mean of per-sample C)",
    "compression_p10": "bytes/token (10th percentile of per-sample C)",
    "compression_p50": "bytes/token (median of per-sample C)",
    "compression_p90": "bytes/token (90th percentile of per-sample C)",
    "compression_percentiles": "how compression_p10/p50/p90 were computed: 'exact' (linear interpolation over every "
                               "per-sample C) up to 100,000 samples; past that 'DDSketch (relative error 0.5%)', "
                               "each within 0.5% of the value at its rank",
    "compression_ci_low": "bytes/token (lower end of the 95% confidence interval of the dataset's C under "
                          "sampling: ratio estimator, Fieller's interval, over records or with --sample-by unit "
                          "over the drawn units' totals; equals C for an exhaustive run)",
    "compression_ci_high": "bytes/token (upper end of the 95% confidence interval of the dataset's C under sampling)",
    "sampled_samples": "count of samples measured (drawn by --sample, or all of them), failed ones included",
    "population_samples": "count of samples in the whole dataset (from Parquet footers, zip directories, "
                          "folder listings or streams read through; null when unknown)",
    "sampled_units": "count of reading units drawn whole by --sample-by unit (Parquet row groups, tar, JSONL, "
                     "CSV or zip files, loose files), failed and empty ones included",
    "population_units": "count of reading units in the whole dataset (listed before reading: Parquet footers, "
                        "folder listings); with --sample-by unit",
    "population_raw_bytes_estimate": "bytes (estimated T of the whole dataset: population x mean T of the sample; "
                                     "with --sample-by unit, units x mean T of a drawn unit)",
    "population_raw_bytes_ci_low": "bytes (lower end of the 95% confidence interval of the whole dataset's T)",
    "population_raw_bytes_ci_high": "bytes (upper end of the 95% confidence interval of the whole dataset's T)",
    "preprocessing_factor": "ratio (raw bytes T / input bytes): what preprocessing removes",
    "tokenizer_factor": "bytes/token (input bytes / tokens N): what the tokenizer itself compresses",
    "seconds": "seconds (tokenize time, decode excluded)",
    "decode_seconds": "seconds (decode time)",
    "raw_mb_per_s": "MB/s (10^6 raw bytes per second of tokenize time)",
    "tokens_per_s": "tokens/s (per second of tokenize time)",
    "chars": "characters (Unicode code points)",
    "words": "words (whitespace-separated)",
    "unk_tokens": "tokens that are the unknown token",
    "byte_tokens": "tokens that are byte-fallback pieces or hold only part of a UTF-8 character",
    "forced_cuts": "count of places a text streamed in pieces was cut with no safe cut point near (N may differ "
                   "from the whole text's by a few tokens at each; absent for texts read whole)",
    "prefix_tokens": "tokens (class/register tokens a ViT adds before the patch tokens; not in N)",
    "prompt_tokens": "tokens (positions the sample takes in the prompt: placeholders plus the special tokens around them)",
    "prompt_compression": "bytes/token (raw bytes T / prompt tokens)",
    "tiles": "count of image tiles the tokenizer encoded (thumbnail included)",
    "sampled_frames": "count of video frames the tokenizer consumed after sampling (padding frames included)",
    "clips": "count of fixed-length video clips the tokenizer encoded (the last one padded)",
    "fps": "frames/s (native frame rate of a video sample)",
    "width": "pixels (decoded width of an image or video sample, before the tokenizer's resize)",
    "height": "pixels (decoded height of an image or video sample, before the tokenizer's resize)",
    "frames": "frames (video: frames in the clip, from its header or decoded; image: frames in an animated file, "
              "of which the first is measured)",
    "sample_rate": "Hz (native sample rate of an audio sample, before any resampling)",
    "channels": "count of audio channels in the file (mixed to mono where the tokenizer takes mono)",
    "chars_per_token": "characters/token",
    "fertility": "tokens/word (whitespace-separated words)",
    "unk_rate": "share of tokens that are the unknown token (0-1)",
    "byte_token_rate": "share of tokens that are byte pieces or partial characters (0-1)",
    "token_premium": "ratio (tokens for this language / tokens for the reference language, same content)",
    "duration_s": "seconds of audio or video (native duration, summed so forecasts can turn hours into tokens)",
    "codec_frames": "codec frames (one per frame period, all codebooks together)",
    "codebook_tokens": "codec tokens counting each codebook apart (codec frames x codebooks)",
    "tokens_per_media_s": "tokens per second of audio or video (tokens N / duration_s)",
    "continued_words": "words (whitespace-separated occurrences that take more than one token when encoded "
                       "alone with their leading space)",
    "continued_word_rate": "share of words (0-1) that take more than one token (continued_words / words)",
    "vocab_size": "tokens (|V|: every id the tokenizer can produce, special and added tokens included)",
    "entropy_bits": "bits/token (H1 = -sum p log2 p over the unigram distribution of token ids)",
    "shannon_efficiency": "ratio (0-1; H1 / log2 |V|)",
    "renyi_efficiency": "ratio (0-1; H_alpha / log2 |V|, H_alpha = log2(sum p^alpha) / (1 - alpha), "
                        "alpha in provenance renyi_alpha)",
    "vocab_utilisation": "share of the vocabulary (0-1; distinct token ids used / |V|)",
    "bits_per_byte": "bits/byte (H1 / C: a unigram code of the tokens per raw byte)",
    "fairness_gini": "Gini coefficient (0-1; of per-language tokens per byte N_l / T_l; 0 = equal)",
    "bits_per_second": "bits/s (codec: frame rate x codebooks x log2 codebook size)",
    "tokens_per_second": "tokens/s (codec: frame rate x tokens per frame under the tokenizer's N convention)",
    "input_coverage": "share of the original inside what the model's input covers (0-1): pixels inside the crop or "
                      "view (image), seconds inside the windows or between the first and last frames the model "
                      "sees (audio, video); dataset value: mean over samples",
    "input_energy_share": "share of the covered audio's energy below the model's Nyquist frequency, half its sample "
                          "rate (0-1; what resampling keeps); dataset value: mean over samples",
    "input_frame_share": "share of a video's frames the model samples (distinct frames / frames in the clip, 0-1); "
                         "dataset value: mean over samples",
    "input_psnr_db": "dB (PSNR of the covered region vs the model's input resized back, RGB 0-255, capped at 100; "
                     "video: mean over sampled frames); dataset: mean over samples",
    "input_ssim": "SSIM (Wang et al. 2004, 11-px Gaussian window, of the covered region vs the model's input resized "
                  "back; video: mean over sampled frames); dataset: mean over samples",
}

AGGREGATIONS = ("sum", "max", "mean")


@dataclass(frozen=True)
class CountSpec:
    """A per-sample count an adapter reports beside T and N: its unit and how a dataset aggregates it.

    ``sum`` suits additive counts (characters, seconds, tiles); ``max`` a peak (the largest crop);
    ``mean`` a per-sample quality (a share, a PSNR): the dataset reports the mean over the samples
    that have it. All three merge exactly, so shards, resumed runs and the Ray engine agree with a plain run.

    >>> CountSpec("crops (count of image crops)").aggregate
    'sum'
    """

    unit: str
    aggregate: str = "sum"

    def __post_init__(self) -> None:
        if self.aggregate not in AGGREGATIONS:
            raise ValueError(f"count aggregation {self.aggregate!r} is not one of: {', '.join(AGGREGATIONS)}")


# The counts built-in adapters report; a plugin declares its own in its adapter's ``counts``.
COUNTS: dict[str, CountSpec] = {k: CountSpec(UNITS[k]) for k in (
    "chars", "words", "unk_tokens", "byte_tokens", "prefix_tokens", "prompt_tokens", "tiles", "duration_s",
    "codec_frames", "codebook_tokens", "sampled_frames", "clips", "forced_cuts", "continued_words")}
# What the model's input keeps of each sample: a per-sample share, so the dataset reports the mean.
COUNTS.update({k: CountSpec(UNITS[k], aggregate="mean") for k in (
    "input_coverage", "input_energy_share", "input_frame_share", "input_psnr_db", "input_ssim")})

# name: (numerator, denominator): ratios of additive counts, so they aggregate as ratios of sums.
DERIVED: dict[str, tuple[str, str]] = {
    "compression": ("raw_bytes", "tokens"),
    "preprocessing_factor": ("raw_bytes", "input_bytes"),
    "tokenizer_factor": ("input_bytes", "tokens"),
    "chars_per_token": ("chars", "tokens"),
    "fertility": ("tokens", "words"),
    "unk_rate": ("unk_tokens", "tokens"),
    "byte_token_rate": ("byte_tokens", "tokens"),
    "tokens_per_media_s": ("tokens", "duration_s"),
    "prompt_compression": ("raw_bytes", "prompt_tokens"),
    "continued_word_rate": ("continued_words", "words"),
}


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is zero (no NaN in reports)."""
    if not denominator:
        return None
    return numerator / denominator


def derived(counts: dict[str, float]) -> dict[str, float | None]:
    """Every DERIVED ratio whose two counts are present in ``counts``."""
    out: dict[str, float | None] = {}
    for name, (num, den) in DERIVED.items():
        if num in counts and den in counts:
            out[name] = ratio(counts[num], counts[den])
    return out


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN: map non-finite values to None."""
    if value is None or not math.isfinite(value):
        return None
    return value
