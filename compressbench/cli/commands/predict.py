"""``compressbench predict``: forecast tokens, compute and score of training mixes from measured compression."""

from __future__ import annotations

import argparse

from compressbench.cli import EXIT_OK

NAME = "predict"
ORDER = 50
HELP = "forecast tokens, compute and score (or a fitted law's prediction) of data plans, side by side"
EXAMPLES = [
    "compressbench predict --summary compressbench-out --plan plan.toml --params 7e9",
    "compressbench predict --summary run/summary.json --plan a.toml --plan b.toml --fit FIT.json --json",
    "compressbench predict --summary run --plan plan.toml --variant audio=codec --target-score 2.0",
    "compressbench predict --summary run --plan plan.toml --params 7e9 --match-params 13e9",
    "compressbench predict --summary run --plan plan.toml --count prompt_tokens",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--summary", action="append", required=True, metavar="RUN/summary.json",
                   help="a run's summary.json or its folder (repeat to combine runs)")
    p.add_argument("--plan", action="append", required=True, metavar="PLAN.toml",
                   help="a data plan (repeat to compare plans side by side)")
    p.add_argument("--params", type=float, metavar="P", help="the model's parameters (overrides the plans')")
    p.add_argument("--fit", metavar="FIT.json", help="score with a fitted law instead of the unitless hypothesis")
    p.add_argument("--target-score", type=float, metavar="S",
                   help="solve for the P that reaches S, and the raw data of each component that reaches it")
    p.add_argument("--match-params", type=float, metavar="P2",
                   help="how much more raw data of one component reaches the score of a model of P2 parameters")
    p.add_argument("--variant", action="append", default=[], metavar="MODALITY=TOKENIZER",
                   help="also evaluate each plan with this tokenizer for that modality (a what-if; repeatable; "
                        "a sweep such as image=qwen2vl:max_pixels=200704|401408 adds one plan per value)")
    p.add_argument("--compute", choices=("scratch", "connected-vision"),
                   help="compute rule (overrides the plans'): 6 P N, or 2 N_enc D_img + 6 N_LLM (D_img + D_txt)")
    p.add_argument("--encoder-params", type=float, metavar="N", help="connected-vision: the encoder's parameters")
    p.add_argument("--encoder-factor", type=float, metavar="F",
                   help="FLOPs per encoder parameter and token (default 2: frozen, forward only)")
    p.add_argument("--llm-factor", type=float, metavar="F",
                   help="FLOPs per LLM parameter and token (default 6: trained; 4 when frozen but gradients pass)")
    p.add_argument("--count", default="tokens", metavar="tokens|prompt_tokens",
                   help="what to forecast: tokens N, the embeddings computed on (default), or prompt_tokens, the "
                        "context positions (placeholders plus special tokens) where the summary has them")
    p.add_argument("--json", action="store_true", help="print JSON")


def _positive(value: float | None, option: str) -> float | None:
    import math

    from compressbench.core.errors import ConfigError

    if value is not None and not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{option} {value!r}: must be a positive, finite number")
    return value


def _plans(args: argparse.Namespace) -> list:
    from dataclasses import replace

    from compressbench.core.errors import ConfigError
    from compressbench.scaling.plan import MODALITIES, read_plan

    plans = [read_plan(p) for p in args.plan]
    overrides = {k: v for k, v in (("form", args.compute), ("encoder_params", args.encoder_params),
                                   ("encoder_factor", args.encoder_factor), ("llm_factor", args.llm_factor))
                 if v is not None}
    if overrides:
        plans = [replace(p, compute=replace(p.compute, **overrides)) for p in plans]
    variants = []
    for spec in args.variant:
        modality, sep, tokenizer = spec.partition("=")
        if not sep or modality not in MODALITIES or not tokenizer:
            raise ConfigError(f"--variant {spec!r}: expected MODALITY=TOKENIZER with a modality of "
                              f"{', '.join(MODALITIES)}, e.g. audio=codec")
        for p in plans:
            if not any(c.modality == modality for c in p.components):
                raise ConfigError(f"--variant {spec!r}: plan {p.name!r} has no {modality} component")
            variants += [p.with_tokenizer(modality, name) for name in _variant_names(tokenizer, spec)]
    return plans + variants


def _variant_names(tokenizer: str, option: str) -> list[str]:
    """The tokenizers one --variant names, as written: a sweep (max_pixels=a|b) gives one per value. Each is
    checked here when its family is installed; the summary's rows are matched by canonical name."""
    from compressbench.core.errors import ConfigError
    from compressbench.core.registry import canonical_name, list_families
    from compressbench.core.spec import expand_specs, parse_spec

    try:
        specs = expand_specs([tokenizer])
        if parse_spec(tokenizer).family in list_families():
            for spec in specs:
                canonical_name(spec)  # a bad option is an error now, not a missing row later
        return specs
    except ConfigError as exc:
        raise ConfigError(f"--variant {option!r}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    import json
    import math

    from compressbench.core.errors import ConfigError

    from compressbench.reports.summary import read_summary
    from compressbench.scaling.fitfile import plain, read_fit
    from compressbench.scaling.mix import COUNTS, counting
    from compressbench.scaling.whatif import PredictOptions, predict_plans, render_text

    for value, option in ((args.params, "--params"), (args.match_params, "--match-params"),
                          (args.encoder_params, "--encoder-params"), (args.encoder_factor, "--encoder-factor"),
                          (args.llm_factor, "--llm-factor")):
        _positive(value, option)
    if args.target_score is not None and not math.isfinite(args.target_score):
        raise ConfigError(f"--target-score {args.target_score!r}: must be a finite number")
    rows = counting([row for path in args.summary for row in read_summary(path)["rows"]], args.count)
    plans = _plans(args)
    fit = read_fit(args.fit) if args.fit else None
    opts = PredictOptions(params=args.params, target_score=args.target_score, match_params=args.match_params)
    result = {"count": args.count, "count_means": COUNTS[args.count], **predict_plans(plans, rows, fit, opts)}
    if args.json:
        print(json.dumps(plain(result), indent=2, ensure_ascii=False))
    else:
        if args.count != "tokens":
            print(f"counting {COUNTS[args.count]}")
        print(render_text(result), end="")
    return EXIT_OK
