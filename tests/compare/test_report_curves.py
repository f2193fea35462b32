"""The report's rate–fidelity curves (a line per swept family) and the text efficiency panel.

The rows come from real runs (a swept suite of photos; the UDHR/code text run). The fidelity and ledger
numbers are set by the test on those rows, chosen so that the drawing can be checked against them: the
chart must draw what the summary says, in the swept option's order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.compare.runs_helper import FIXTURES, run_to

from compressbench.data.suite import load_suite
from compressbench.reports.curves import sweep_lines
from compressbench.reports.html import render_html
from compressbench.reports.summary import read_summary

QWEN = [f"qwen2vl:max_pixels={v}" for v in (200704, 401408, 1003520)]
INTERN = ["internvl:max_num=1", "internvl:max_num=6"]
ALONE = "internvl:max_num=1,use_thumbnail=false"
# not monotone along the sweep: the line must follow the option's order, not the x axis
PSNR = dict(zip(QWEN, (31.0, 36.0, 34.0))) | dict(zip(INTERN, (30.0, 33.0))) | {ALONE: 29.0}


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("curves")
    photos = ", ".join(json.dumps(str(FIXTURES / "image" / n)) for n in ("chelsea.png", "hubble_deep_field_1000.jpg"))
    (tmp / "suite.toml").write_text(
        'name = "curves"\ntokenizers = ["qwen2vl:max_pixels=200704|401408|1003520", "internvl:max_num=1|6", '
        f'"{ALONE}"]\n[[datasets]]\nname = "photos"\nmodality = "image"\npaths = [{photos}]\n', encoding="utf-8")
    return run_to(tmp / "out", load_suite(tmp / "suite.toml"))


def _vertices(page: str, gid: str) -> list[tuple[float, float]]:
    match = re.search(rf'<g id="{re.escape(gid)}">\s*<path d="([^"]*)"', page)
    assert match, gid
    return [(float(x), float(y)) for x, y in re.findall(r"[ML] ([-\d.]+) ([-\d.]+)", match[1])]


def _ranks(values: list[float]) -> list[int]:
    return [sorted(values).index(v) for v in values]


def test_sweeps_become_lines_in_option_order(sweep_run):
    summary = read_summary(sweep_run)
    names = [r["tokenizer"] for r in summary["rows"]][::-1]  # whatever order the rows come in
    lines = sweep_lines(names, summary["tokenizers"])
    assert {(line.label, line.tokenizers) for line in lines} == {
        ("qwen2vl: max_pixels", tuple(QWEN)), ("internvl: max_num (use_thumbnail=true)", tuple(INTERN)),
        (ALONE, (ALONE,))}
    assert next(line for line in lines if line.family == "qwen2vl").values == (200704, 401408, 1003520)


def test_rate_fidelity_chart_draws_each_family_as_one_line(sweep_run):
    summary = read_summary(sweep_run)
    rows = {r["tokenizer"]: r for r in summary["rows"]}
    assert set(rows) == set(PSNR)
    for name, row in rows.items():
        row.update(input_psnr_db=PSNR[name], input_coverage=1.0)
    summary["rows"].reverse()
    page = render_html(summary, None, [])
    prefix = "image-photos-curves"
    assert f'id="{prefix}"' in page and "Rate against fidelity" in page
    drawn = {}
    for metric in ("input_psnr_db", "input_coverage"):
        for rate in ("compression", "tokens"):
            panel = [_vertices(page, f"{prefix}-{metric}-{rate}-line{k}") for k in range(3)]
            assert f"{prefix}-{metric}-{rate}-line3" not in page  # one line per family, no more
            assert sorted(len(v) for v in panel) == [1, 2, 3]
            drawn[metric, rate] = next(v for v in panel if len(v) == 3)  # the qwen2vl sweep
    xs = [x for x, _ in drawn["input_psnr_db", "compression"]]
    assert _ranks(xs) == _ranks([PSNR[t] for t in QWEN])  # 31, 36, 34: the line goes there and back
    ys = [y for _, y in drawn["input_psnr_db", "compression"]]
    # SVG y grows downwards: the higher C, the smaller y
    assert _ranks([-y for y in ys]) == _ranks([rows[t]["compression"] for t in QWEN])
    assert len({x for x, _ in drawn["input_coverage", "tokens"]}) == 1  # coverage 1 for all: one x
    for label in ("qwen2vl: max_pixels", "internvl: max_num (use_thumbnail=true)", ALONE, "200704", "1003520"):
        assert f">{label}</text>" in page, label
    assert 'class="fidelity"' in page and "PSNR of the model&#x27;s input (dB)" in page


def test_efficiency_panel_for_text(base_run):
    summary = read_summary(base_run)
    for i, row in enumerate(summary["rows"]):
        row.update(renyi_efficiency=0.2 + 0.1 * i, vocab_utilisation=0.05 * (i + 1))
        if row.get("languages"):
            row["fairness_gini"] = 0.1 * (i + 1)
    page = render_html(summary, None, [])
    for dataset in ("udhr", "code"):
        prefix = f"text-{dataset}-curves"
        mine = [r for r in summary["rows"] if r["dataset"] == dataset]
        assert f'id="{prefix}"' in page
        for key in ("renyi_efficiency", "vocab_utilisation"):
            widths = []
            for t, row in enumerate(mine):
                xs = [x for x, _ in _vertices(page, f"{prefix}-{key}-bar{t}")]
                widths.append(max(xs) - min(xs))
            expected = [row[key] for row in mine]
            assert [w / widths[0] for w in widths] == pytest.approx([v / expected[0] for v in expected], rel=1e-3)
        gini = [f"{prefix}-fairness_gini-bar{t}" for t in range(len(mine))]
        assert all((f'id="{g}"' in page) is (dataset == "udhr") for g in gini)  # only with languages
    assert "Vocabulary use and fairness" in page and 'class="efficiency"' in page


def test_no_curves_without_the_fields(sweep_run):
    summary = read_summary(sweep_run)
    fidelity = ("input_coverage", "input_psnr_db", "input_ssim", "input_energy_share", "input_frame_share")
    summary["rows"] = [{k: v for k, v in r.items() if k not in fidelity} for r in summary["rows"]]
    page = render_html(summary, None, [])  # (text without the ledger: test_report.py)
    assert "-curves" not in page and "Rate against fidelity" not in page and 'id="modality-image"' in page
