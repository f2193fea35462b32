"""`compressbench predict` through the real console entry point, on a real run's summary and a multimodal one."""

from __future__ import annotations

import json
import math

import pytest

from tests.scaling.scaling_testkit import REPO, assert_usage_error, cli, write_plan

MIX = """
name = "mix"
params = 7e9
[[data]]
modality = "text"
tokenizer = "tiktoken:o200k_base"
amount = "1 TB"
[[data]]
modality = "audio"
tokenizer = "whisper"
amount = "10000 hours"
[[data]]
modality = "image"
tokenizer = "vit:vit_large_patch14_clip_224"
amount = "5e6 images"
"""


@pytest.fixture(scope="module")
def real_summary(tmp_path_factory):
    """A real run: the prose and code fixtures under bytes and o200k_base."""
    tmp = tmp_path_factory.mktemp("run")
    suite = tmp / "suite.toml"
    suite.write_text(f"""name = "mini"
tokenizers = ["bytes", "tiktoken:o200k_base"]
[[datasets]]
name = "prose"
modality = "text"
paths = ["{REPO / 'fixtures/text/prose'}", "{REPO / 'fixtures/text/code'}"]
""")
    proc = cli("run", suite, "--out", tmp / "out")
    assert proc.returncode == 0, proc.stderr
    return tmp / "out"


def test_predict_on_a_real_run(real_summary, tmp_path):
    plan = write_plan(tmp_path / "text.toml", """
name = "text only"
[[data]]
modality = "text"
tokenizer = "tiktoken:o200k_base"
amount = "2 TB"
""")
    proc = cli("predict", "--summary", real_summary, "--plan", plan, "--params", "7e9", "--variant", "text=bytes",
               "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    summary = json.loads((real_summary / "summary.json").read_text())
    row = next(r for r in summary["rows"] if r["tokenizer"] == "tiktoken:o200k_base")
    first, variant = out["plans"]
    c = first["components"][0]
    assert c["tokens"] == pytest.approx(2e12 * row["tokens"] / row["raw_bytes"])
    assert c["tokens_low"] == pytest.approx(2e12 / row["compression_p90"])
    assert c["tokens_high"] == pytest.approx(2e12 / row["compression_p10"])
    assert first["compute"]["flops"] == pytest.approx(6 * 7e9 * c["tokens"])
    assert first["score"]["value"] == pytest.approx(math.log(c["tokens"]) + math.log(7e9))
    assert variant["components"][0]["tokens"] == pytest.approx(2e12)  # bytes: one token a byte
    assert out["comparison"][0]["tokens_ratio"] == pytest.approx(row["compression"])
    assert any("per-sample C" in n for n in out["notes"])


def test_predict_a_multimodal_mix_with_questions(multimodal_summary, tmp_path):
    plan = write_plan(tmp_path / "mix.toml", MIX)
    proc = cli("predict", "--summary", multimodal_summary, "--plan", plan, "--variant", "audio=codec",
               "--target-score", "75", "--match-params", "70e9")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "plan 'mix'" in text and "plan 'mix [audio=codec]'" in text
    assert "'mix [audio=codec]' vs 'mix'" in text
    assert "to reach 75: P =" in text
    assert "to match P = 7e+10" in text and "× 10 " in text  # β = γ = 1: 10x the model, 10x one modality
    assert "spread of per-sample C" in text


def test_connected_vision_compute_from_options(multimodal_summary, tmp_path):
    plan = write_plan(tmp_path / "vlm.toml", MIX)
    proc = cli("predict", "--summary", multimodal_summary, "--plan", plan, "--compute", "connected-vision",
               "--encoder-params", "3.04e8", "--llm-factor", "4", "--json")
    assert proc.returncode == 0, proc.stderr
    plan_out = json.loads(proc.stdout)["plans"][0]
    text, audio, image = plan_out["components"]
    assert image["flops"] == pytest.approx(2 * 3.04e8 * image["tokens"] + 4 * 7e9 * image["tokens"])
    assert audio["flops"] == pytest.approx(4 * 7e9 * audio["tokens"])  # audio does not pass the vision encoder
    assert plan_out["compute"]["form"] == "connected-vision"
    assert sum(c["flops_share"] for c in (text, audio, image)) == pytest.approx(1.0)
    shares = plan_out["compute"]["share_by_modality"]
    assert set(shares) == {"text", "audio", "image"} and shares["image"] == pytest.approx(image["flops_share"])


def test_predict_with_a_fit_gives_a_loss_with_an_interval(multimodal_summary, tmp_path):
    from tests.scaling.scaling_testkit import LI_CSV

    fit = tmp_path / "FIT.json"
    proc = cli("fit", LI_CSV, "--form", "hypothesis", "--target", "eval_loss",
               "--derive", "visual_tokens = pairs * (image_size // vit_patch) ** 2",
               "--tokens", "visual_tokens", "--params", "llm_params", "--log-terms", "vit_params",
               "--bootstrap", "100", "--out", fit)
    assert proc.returncode == 0, proc.stderr
    plan = write_plan(tmp_path / "li.toml", """
name = "li-like"
params = 6.738e9
[terms]
vit_params = 3.04e8
[[data]]
modality = "image"
tokenizer = "vit:vit_large_patch14_clip_224"
amount = "8e6 images"
""")
    proc = cli("predict", "--summary", multimodal_summary, "--plan", plan, "--fit", fit, "--json")
    assert proc.returncode == 0, proc.stderr
    score = json.loads(proc.stdout)["plans"][0]["score"]
    assert score["kind"].startswith("predicted eval_loss")
    lo, hi = score["interval_fit"]
    assert lo < score["value"] < hi
    assert 1.85 < score["value"] < 2.0  # Table 2 has 1.929 for L/14, Vicuna-7B, 8M pairs


@pytest.mark.parametrize("body, words", [
    (MIX.replace('"1 TB"', '"1 TiB"'), ["unknown unit 'TiB' for text"]),
    (MIX.replace('modality = "image"', 'modality = "smell"'), ["unknown modality 'smell'"]),
    (MIX.replace('"whisper"', '"hubert"'), ["tokenizer 'hubert' was not measured on audio"]),
    (MIX + '[[data]]\nmodality = "video"\ntokenizer = "videomae"\namount = "5 hours"\n', ["duration_s"]),
    (MIX.replace('"1 TB"', '"1e300 TB"'), ["amount 1e+300 TB is beyond any corpus"]),
])
def test_bad_plans(multimodal_summary, tmp_path, body, words):
    plan = write_plan(tmp_path / "bad.toml", body)
    assert_usage_error(cli("predict", "--summary", multimodal_summary, "--plan", plan), *words)


def test_a_modality_the_run_did_not_measure(real_summary, tmp_path):
    plan = write_plan(tmp_path / "mix.toml", MIX)
    assert_usage_error(cli("predict", "--summary", real_summary, "--plan", plan),
                       "the summary has no audio rows", "modalities measured: text")


def test_bad_predict_options(multimodal_summary, tmp_path):
    plan = write_plan(tmp_path / "mix.toml", MIX)
    assert_usage_error(cli("predict", "--summary", multimodal_summary, "--plan", plan, "--params", "-5"),
                       "--params -5.0", "positive")
    assert_usage_error(cli("predict", "--summary", multimodal_summary, "--plan", plan, "--variant", "smell=x"),
                       "--variant 'smell=x'")
    assert_usage_error(cli("predict", "--summary", tmp_path / "nope.json", "--plan", plan), "no such summary")
    for score in ("nan", "inf"):
        assert_usage_error(cli("predict", "--summary", multimodal_summary, "--plan", plan, "--target-score", score),
                           f"--target-score {float(score)!r}: must be a finite number")


def test_predict_counts_prompt_tokens_from_a_real_image_run(tmp_path):
    """--count prompt_tokens forecasts context positions: N plus InternVL's <img> and </img> per image."""
    suite = tmp_path / "suite.toml"
    suite.write_text(f"""name = "photos"
tokenizers = ["internvl"]
[[datasets]]
name = "photos"
modality = "image"
paths = ["{REPO / 'fixtures/image'}"]
""")
    proc = cli("run", suite, "--out", tmp_path / "out", "--count-only")
    assert proc.returncode == 0, proc.stderr
    row = json.loads((tmp_path / "out" / "summary.json").read_text())["rows"][0]
    assert row["prompt_tokens"] == row["tokens"] + 2 * row["samples"]
    plan = write_plan(tmp_path / "plan.toml", """
name = "images"
[[data]]
modality = "image"
tokenizer = "internvl"
amount = "1e6 images"
""")
    out = {}
    for count in ("tokens", "prompt_tokens"):
        proc = cli("predict", "--summary", tmp_path / "out", "--plan", plan, "--count", count, "--json")
        assert proc.returncode == 0, proc.stderr
        out[count] = json.loads(proc.stdout)
    assert out["prompt_tokens"]["count"] == "prompt_tokens" and "context positions" in out["prompt_tokens"]["count_means"]
    n = out["tokens"]["plans"][0]["components"][0]["tokens"]
    prompt = out["prompt_tokens"]["plans"][0]["components"][0]["tokens"]
    assert n == pytest.approx(1e6 * row["tokens"] / row["samples"])
    assert prompt == pytest.approx(1e6 * row["prompt_tokens"] / row["samples"]) == pytest.approx(n + 2e6)
    text = cli("predict", "--summary", tmp_path / "out", "--plan", plan, "--count", "prompt_tokens")
    assert text.returncode == 0 and text.stdout.startswith("counting prompt tokens")
    assert_usage_error(cli("predict", "--summary", tmp_path / "out", "--plan", plan, "--count", "pixels"),
                       "--count", "prompt_tokens")
