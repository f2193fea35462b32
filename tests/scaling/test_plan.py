"""Data plans: units, tokens from a summary, compute accounting, scores, inverse questions, what-ifs."""

from __future__ import annotations

import json
import math

import pytest

from compressbench.core.errors import ConfigError
from compressbench.scaling.fitfile import read_fit
from compressbench.scaling.forecast import PlanModel, solve_data, solve_params
from compressbench.scaling.mix import component_flops, forecast_mix
from compressbench.scaling.plan import Component, ComputeSpec, Plan, parse_amount, read_plan, unit_of
from compressbench.scaling.whatif import PredictOptions, predict_plans

from tests.scaling.scaling_testkit import MULTIMODAL_ROWS, write_plan

ROWS = MULTIMODAL_ROWS


def one(modality, tokenizer, amount, unit, **kw) -> Plan:
    return Plan("p", (Component(modality, modality, tokenizer, amount, unit),), **kw)


@pytest.mark.parametrize("modality, unit, kind, factor", [
    ("text", "GB", "bytes", 1e9), ("text", "tb", "bytes", 1e12), ("text", "bytes", "bytes", 1.0),
    ("text", "chars", "chars", 1.0), ("audio", "hours", "seconds", 3600.0), ("video", "min", "seconds", 60.0),
    ("image", "images", "items", 1.0), ("image", "", "items", 1.0),
])
def test_units(modality, unit, kind, factor):
    assert unit_of(modality, unit) == (kind, factor)


@pytest.mark.parametrize("modality, unit", [("text", "TiB"), ("audio", "GB"), ("image", "hours"), ("video", "")])
def test_unknown_units_name_the_valid_ones(modality, unit):
    with pytest.raises(ConfigError, match=f"unknown unit {unit!r} for {modality}; valid"):
        unit_of(modality, unit)


def test_parse_amount():
    assert parse_amount("2 TB") == (2.0, "TB")
    assert parse_amount("5e6 images") == (5e6, "images")
    assert parse_amount("1_000 hours") == (1000.0, "hours")
    with pytest.raises(ConfigError, match="expected a number and a unit"):
        parse_amount("lots")


def test_text_bytes_and_characters():
    mix = forecast_mix(one("text", "tiktoken:o200k_base", 1.0, "TB"), ROWS)
    c = mix.components[0]
    assert c.tokens == pytest.approx(1e12 / 4.5)
    assert (c.tokens_low, c.tokens_high) == (pytest.approx(1e12 / 5.5), pytest.approx(1e12 / 3.5))
    by_chars = forecast_mix(one("text", "tiktoken:o200k_base", 4e6, "chars"), ROWS).components[0]
    assert by_chars.raw_bytes == pytest.approx(4_500_000)  # 4.5M bytes per 4M characters
    assert by_chars.tokens == pytest.approx(1_000_000)


def test_audio_hours_become_tokens_through_duration():
    whisper = forecast_mix(one("audio", "whisper", 1000, "hours"), ROWS).components[0]
    codec = forecast_mix(one("audio", "codec", 1000, "hours"), ROWS).components[0]
    assert whisper.raw_bytes == pytest.approx(32_000 * 3600 * 1000)
    assert whisper.tokens == pytest.approx(50 * 3600 * 1000)  # 50 tokens/s
    assert codec.tokens / whisper.tokens == pytest.approx(12)


def test_images_are_counted_per_measured_image():
    c = forecast_mix(one("image", "vit:vit_large_patch14_clip_224", 1e6, "images"), ROWS).components[0]
    assert c.tokens == pytest.approx(256e6)


@pytest.mark.parametrize("plan, message", [
    (one("audio", "hubert", 1, "hours"), "tokenizer 'hubert' was not measured on audio in the summary; measured: codec:encodec_24khz,codebooks=8,count=codebook_tokens, whisper"),
    (one("video", "videomae", 10, "hours"), "no durations (duration_s)"),
    (Plan("p", (Component("text", "text", "bytes", 1, "GB", dataset="news"),)), "dataset 'news'"),
])
def test_what_the_summary_lacks_is_named(plan, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        forecast_mix(plan, ROWS)


def test_a_modality_absent_from_the_summary():
    text_only = [r for r in ROWS if r["modality"] == "text"]
    with pytest.raises(ConfigError, match="the summary has no audio rows \\(modalities measured: text\\)"):
        forecast_mix(one("audio", "whisper", 1, "hours"), text_only)


def test_compute_from_scratch_and_connected_vision():
    assert component_flops(ComputeSpec(), 7e9, [("text", 1e12)]) == [pytest.approx(6 * 7e9 * 1e12)]
    spec = ComputeSpec(form="connected-vision", encoder_params=3.04e8, encoder_factor=2, llm_factor=6)
    img, txt = component_flops(spec, 7e9, [("image", 2.56e9), ("text", 1e9)])
    assert img == pytest.approx(2 * 3.04e8 * 2.56e9 + 6 * 7e9 * 2.56e9)
    assert txt == pytest.approx(6 * 7e9 * 1e9)
    frozen = ComputeSpec(form="connected-vision", encoder_params=3.04e8, encoder_factor=2, llm_factor=4)
    assert component_flops(frozen, 7e9, [("image", 1.0)]) == [pytest.approx(2 * 3.04e8 + 4 * 7e9)]
    with pytest.raises(ConfigError, match="encoder"):
        component_flops(ComputeSpec(form="connected-vision"), 7e9, [("image", 1.0)])


def test_default_score_and_its_inverse_questions():
    plan = Plan("p", (Component("text", "text", "tiktoken:o200k_base", 1, "TB"),
                      Component("audio", "audio", "whisper", 1e4, "hours")), params=7e9)
    model = PlanModel(forecast_mix(plan, ROWS), None)
    tokens = model.mix.tokens()
    assert model.score(tokens, 7e9) == pytest.approx(sum(map(math.log, tokens)) + math.log(7e9))
    # the P that reaches a target, and back
    target = model.score(tokens, 7e9) + 1.0
    assert solve_params(model, target) == pytest.approx(7e9 * math.e, rel=1e-6)
    # at fixed P, β = γ = 1: a 10x bigger model's score needs 10x the data of one modality
    bigger = model.score(tokens, 70e9)
    assert solve_data(model, bigger, 7e9, 1) == pytest.approx(10.0, rel=1e-6)


def test_what_if_swapping_the_audio_tokenizer():
    plan = Plan("mix", (Component("text", "text", "tiktoken:o200k_base", 1, "TB"),
                        Component("audio", "audio", "whisper", 1e5, "hours")), params=7e9)
    out = predict_plans([plan, plan.with_tokenizer("audio", "codec")], ROWS, None, PredictOptions())
    base, codec = out["plans"]
    assert codec["name"] == "mix [audio=codec]"
    extra_audio = codec["components"][1]["tokens"] - base["components"][1]["tokens"]
    assert out["comparison"][0]["tokens_diff"] == pytest.approx(extra_audio)
    assert codec["components"][1]["flops_share"] > base["components"][1]["flops_share"]
    assert sum(c["flops_share"] for c in base["components"]) == pytest.approx(1.0)


def test_plan_file_round_trip_and_errors(tmp_path):
    path = write_plan(tmp_path / "plan.toml", """
name = "vlm"
params = 7e9
[compute]
form = "connected-vision"
encoder_params = 3.04e8
[terms]
vit_params = 3.04e8
[[data]]
modality = "image"
tokenizer = "vit:vit_large_patch14_clip_224"
amount = "5e6 images"
[[data]]
modality = "text"
tokenizer = "tiktoken:o200k_base"
amount = 2
unit = "GB"
""")
    plan = read_plan(path)
    assert plan.name == "vlm" and plan.params == 7e9 and plan.terms == {"vit_params": 3.04e8}
    assert plan.compute.form == "connected-vision"
    assert [(c.modality, c.amount, c.unit) for c in plan.components] == [("image", 5e6, "images"),
                                                                          ("text", 2.0, "GB")]
    for body, message in [
        ('[[data]]\nmodality = "smell"\ntokenizer = "x"\namount = "1 GB"', "unknown modality 'smell'"),
        ('[[data]]\nmodality = "text"\ntokenizer = "x"\namount = "1 GiB"', "unknown unit 'GiB' for text"),
        ('[[data]]\nmodality = "text"\ntokenizer = "x"\namount = "-1 GB"', "must be positive"),
        ('[[data]]\nmodality = "audio"\ntokenizer = "x"\namount = 10', "needs a unit"),
        ('name = "x"', "no [[data]] entries"),
        ('[[data]]\nmodality = "text"\namount = "1 GB"', "'tokenizer' is missing"),
        ("this is not toml", "not a readable TOML plan"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            read_plan(write_plan(tmp_path / "bad.toml", body))


def test_a_hypothesis_fit_maps_onto_the_plan(tmp_path):
    fit_path = tmp_path / "FIT.json"
    fit_path.write_text(json.dumps({
        "form": "hypothesis",
        "parameters": {"intercept": 6.99, "visual_tokens": -0.0672, "llm_params": -0.1196, "vit_params": -0.0465},
        "columns": {"target": "eval_loss", "params": "llm_params", "tokens": "visual_tokens",
                    "terms": ["visual_tokens", "llm_params", "vit_params"]},
    }))
    fit = read_fit(fit_path)
    plan = Plan("li", (Component("image", "image", "vit:vit_large_patch14_clip_224", 5e6, "images"),),
                params=6.738e9, terms={"vit_params": 3.04e8})
    model = PlanModel(forecast_mix(plan, ROWS), fit)
    expected = 6.99 - 0.0672 * math.log(5e6 * 256) - 0.1196 * math.log(6.738e9) - 0.0465 * math.log(3.04e8)
    assert model.score(model.mix.tokens(), 6.738e9) == pytest.approx(expected)
    # the fit's extra term must come from the plan
    with pytest.raises(ConfigError, match=r"log term 'vit_params' the plan does not give; add it under \[terms\]"):
        PlanModel(forecast_mix(Plan("x", plan.components, params=7e9), ROWS), fit)


def test_a_chinchilla_fit_predicts_loss_of_the_whole_mix(tmp_path):
    fit_path = tmp_path / "FIT.json"
    fit_path.write_text(json.dumps({"form": "chinchilla", "parameters": {"E": 1.69, "A": 406.4, "B": 410.7,
                                                                         "alpha": 0.34, "beta": 0.28}}))
    plan = Plan("p", (Component("text", "text", "tiktoken:o200k_base", 1, "TB"),
                      Component("audio", "audio", "whisper", 1e4, "hours")), params=7e9)
    model = PlanModel(forecast_mix(plan, ROWS), read_fit(fit_path))
    D = sum(model.mix.tokens())
    assert model.score(model.mix.tokens(), 7e9) == pytest.approx(1.69 + 406.4 / 7e9**0.34 + 410.7 / D**0.28)
    # a lower loss needs a bigger model; none reaches below the floor E
    assert solve_params(model, model.score(model.mix.tokens(), 7e9) - 0.01) > 7e9
    assert solve_params(model, 1.60) is None
