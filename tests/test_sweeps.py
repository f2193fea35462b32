"""Spec sweeps (``max_pixels=a|b|c``): one tokenizer per value, in suites, ``measure`` and ``predict --variant``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.compare.runs_helper import run_to

from compressbench.cli import main
from compressbench.core.errors import ConfigError
from compressbench.core.registry import canonical_name, get_tokenizer
from compressbench.core.spec import expand_spec, expand_specs
from compressbench.data.suite import load_suite
from compressbench.reports.summary import read_summary
from compressbench.runner import build_tokenizers

ROOT = Path(__file__).resolve().parents[1]
IMAGES = [ROOT / "fixtures" / "image" / name for name in ("chelsea.png", "hubble_deep_field_1000.jpg")]
VALUES = (200704, 401408, 1003520)
SWEPT = "qwen2vl,max_pixels=" + "|".join(map(str, VALUES))


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def write_suite(path: Path, tokenizers: list[str]) -> Path:
    listed = ", ".join(json.dumps(t) for t in tokenizers)
    paths = ", ".join(json.dumps(str(p)) for p in IMAGES)
    path.write_text(f'name = "sweep"\ntokenizers = [{listed}]\n\n[[datasets]]\nname = "photos"\n'
                    f'modality = "image"\npaths = [{paths}]\n', encoding="utf-8")
    return path


def test_several_swept_options_give_their_product_in_a_stable_order():
    specs = expand_specs(["bytes", "qwen2vl:min_pixels=3136|6272,max_pixels=200704|401408,patch_size=14"])
    assert specs[0] == "bytes" and len(specs) == 5
    built = [get_tokenizer(s, device="cpu") for s in specs[1:]]
    # the first option varies slowest, each in the order written; each tokenizer has its canonical name
    expected = [f"qwen2vl:min_pixels={lo},max_pixels={hi}" for lo in (3136, 6272) for hi in (200704, 401408)]
    assert [t.name for t in built] == expected
    assert [t.name for t in built] == [get_tokenizer(e, device="cpu").name for e in expected]
    assert [canonical_name(s) for s in specs[1:]] == expected
    assert [t.config.max_pixels for t in built] == [200704, 401408] * 2
    assert expand_spec("tiktoken:o200k_base") == ["tiktoken:o200k_base"]  # no sweep: as written
    assert expand_spec("tiktoken:cl100k_base|o200k_base") == ["tiktoken:cl100k_base", "tiktoken:o200k_base"]


@pytest.mark.parametrize("spec", ["qwen2vl:max_pixels=200704||401408", "qwen2vl:max_pixels=|401408",
                                  "qwen2vl:max_pixels=200704| ", "tiktoken:|o200k_base"])
def test_an_empty_value_is_a_one_line_error(capsys, spec):
    rc, out, err = cli(capsys, "measure", "-t", spec, IMAGES[0])
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "empty value" in err and repr(spec.strip()) in err and "separated by '|'" in err


def test_a_sweep_that_repeats_a_tokenizer_is_refused(tmp_path):
    for tokenizers in (["qwen2vl:max_pixels=200704|200704"],
                       [SWEPT, "qwen2vl:max_pixels=401408"],  # written apart, the same configuration
                       ["qwen2vl:max_pixels=1003520,patch_size=14|14"]):
        suite = load_suite(write_suite(tmp_path / "dup.toml", tokenizers))
        with pytest.raises(ConfigError, match="listed twice: qwen2vl:max_pixels="):
            build_tokenizers(suite.tokenizers, device="cpu", base=suite.base)


def test_a_bad_sweep_in_a_suite_names_the_file(tmp_path):
    path = write_suite(tmp_path / "bad.toml", ["qwen2vl:max_pixels=200704||401408"])
    with pytest.raises(ConfigError, match=r"bad\.toml: empty value in max_pixels=200704\|\|401408"):
        load_suite(path)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same photos run twice: the sweep, and its three values written out as separate tokenizers."""
    tmp = tmp_path_factory.mktemp("sweep")
    assert main(["run", str(write_suite(tmp / "swept.toml", [SWEPT])), "--out", str(tmp / "swept"),
                 "--device", "cpu"]) == 0  # the command end to end; the other run without its report
    apart = load_suite(write_suite(tmp / "apart.toml", [f"qwen2vl:max_pixels={v}" for v in VALUES]))
    return {"swept": tmp / "swept", "apart": run_to(tmp / "apart", apart)}


_SAME = ("dataset", "modality", "tokenizer", "samples", "errors", "raw_bytes", "input_bytes", "tokens", "compression",
         "compression_p10", "compression_p50", "compression_p90")


def test_a_swept_suite_has_one_row_per_value_as_if_written_apart(runs):
    swept, apart = read_summary(runs["swept"]), read_summary(runs["apart"])
    names = [f"qwen2vl:max_pixels={v}" for v in VALUES]
    assert [r["tokenizer"] for r in swept["rows"]] == names
    assert list(swept["tokenizers"]) == names
    same = [[{k: r.get(k) for k in _SAME} for r in s["rows"]] for s in (swept, apart)]
    assert same[0] == same[1]
    tokens = [r["tokens"] for r in swept["rows"]]
    assert tokens[0] < tokens[1] < tokens[2]  # the 1000 x 1000 photo is cut down to each budget in turn
    assert all(r["samples"] == len(IMAGES) and r["errors"] == 0 for r in swept["rows"])


def test_measure_takes_a_sweep(capsys, runs):
    rc, out, err = cli(capsys, "measure", "-t", SWEPT, *IMAGES, "--json", "--device", "cpu")
    assert rc == 0, err
    rows = json.loads(out)["summary"]
    apart = read_summary(runs["apart"])["rows"]
    assert [(r["tokenizer"], r["tokens"], r["raw_bytes"]) for r in rows] == \
        [(r["tokenizer"], r["tokens"], r["raw_bytes"]) for r in apart]


def test_predict_variant_takes_a_sweep(capsys, runs, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('name = "photos"\n[[data]]\nmodality = "image"\ntokenizer = "qwen2vl:max_pixels=200704"\n'
                    'amount = "1e6 images"\n', encoding="utf-8")
    rc, out, err = cli(capsys, "predict", "--summary", runs["swept"], "--plan", plan, "--params", "7e9",
                       "--variant", "image=qwen2vl,max_pixels=401408|1003520", "--json")
    assert rc == 0, err
    plans = json.loads(out)["plans"]
    assert [p["components"][0]["tokenizer"] for p in plans] == [f"qwen2vl:max_pixels={v}" for v in VALUES]
    assert [p["name"] for p in plans[1:]] == [f"photos [image=qwen2vl:max_pixels={v}]" for v in VALUES[1:]]
    rows = {r["tokenizer"]: r for r in read_summary(runs["swept"])["rows"]}
    base = plans[0]["components"][0]["tokens"]
    for p in plans[1:]:  # the same raw data: tokens scale as each row's N
        c = p["components"][0]
        assert c["tokens"] / base == pytest.approx(rows[c["tokenizer"]]["tokens"] / rows[plans[0]["components"][0]
                                                                                        ["tokenizer"]]["tokens"])
    rc, _, err = cli(capsys, "predict", "--summary", runs["swept"], "--plan", plan, "--variant",
                     "image=qwen2vl:max_pixels=|401408")
    assert rc == 2 and err.count("\n") == 1 and "--variant 'image=qwen2vl:max_pixels=|401408': empty value" in err
