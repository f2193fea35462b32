"""The HTML report in a real headless browser: no console errors, no network, tables and figures shown.

Needs Debian's ``chromium`` on PATH (``apt-get install -y chromium``; .ci/run
installs it); skipped with that reason otherwise. The page and its screenshot are
kept as artefacts in ``test-artifacts/`` at the repository root (git ignores it).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.compare.headless_chromium import Chromium

from compressbench.cli import main

CHROMIUM = shutil.which("chromium")

DOM = """JSON.stringify({
  title: document.title,
  sections: [...document.querySelectorAll('section.modality')].map(s => ({
    modality: s.dataset.modality,
    tables: [...s.querySelectorAll('table')].map(t => ({
      cls: t.className, rows: t.tBodies[0].rows.length,
      headers: [...t.tHead.rows[0].cells].map(c => c.textContent.trim()),
      visible: t.getBoundingClientRect().width > 0})),
    figures: [...s.querySelectorAll('figure.chart')].map(f => {
      const svg = f.querySelector('svg'), r = svg.getBoundingClientRect();
      return {id: f.id, width: r.width, height: r.height, caption: f.querySelector('figcaption').textContent,
              texts: [...svg.querySelectorAll('text')].map(t => t.textContent)};
    }),
  })),
  provenance: document.querySelectorAll('#provenance table').length,
  scripts: document.scripts.length,
  external: [...document.querySelectorAll('[src],[href]')].map(e => e.getAttribute('src') || e.getAttribute('href'))
              .filter(u => !u.startsWith('#')),
  duplicateIds: (ids => ids.filter((x, i) => ids.indexOf(x) !== i))(
    [...document.querySelectorAll('[id]')].map(e => e.id)),
})"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH: install it with "
                    "`apt-get update && apt-get install -y chromium` (.ci/run does)")
def test_html_report_in_headless_chromium(base_run, tmp_path):
    page = tmp_path / "report.html"
    assert main(["report", str(base_run), "--format", "html", "--out", str(page)]) == 0
    with Chromium(CHROMIUM) as browser:
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.call(f"{domain}.enable")
        browser.call("Page.navigate", url=page.as_uri())
        browser.wait_for("Page.loadEventFired")
        dom = json.loads(browser.evaluate(DOM))
        browser.screenshot(tmp_path / "report.png")
        problems, requests = browser.problems(), browser.requests()
    assert (tmp_path / "report.png").stat().st_size > 10_000
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for name in ("report.html", "report.png"):
        shutil.copy2(tmp_path / name, artifacts / name)
    assert problems == []
    # The page alone: no network, no CDN, no other file (the heatmap's pixels are an inline data: image).
    assert [u for u in requests if not u.startswith("data:")] == [page.as_uri()]
    assert dom["title"] == "compressbench report: compare-tests"
    assert dom["scripts"] == 0 and dom["external"] == [] and dom["duplicateIds"] == []
    assert dom["provenance"] == 3
    (text,) = dom["sections"]
    assert text["modality"] == "text"
    tables = {t["cls"]: t for t in text["tables"]}
    assert set(tables) == {"summary", "text-metrics", "premium", "efficiency", "split", "throughput"}
    assert tables["summary"]["rows"] == 6 and tables["premium"]["rows"] == 5
    for t in tables.values():  # every column has its unit; names need none
        assert all("(" in h for h in t["headers"] if h not in ("dataset", "tokenizer")), t["headers"]
    figures = {f["id"]: f for f in text["figures"]}
    assert set(figures) == {"text-scaling", "text-distribution", "text-udhr-premium", "text-udhr-curves",
                            "text-code-curves", "text-split", "text-throughput"}
    for f in figures.values():
        assert f["width"] > 300 and f["height"] > 150, f["id"]
    axis_labels = {
        "text-scaling": ["N (tokens, log scale)", "T (raw bytes, log scale)", "C = 4 bytes/token"],
        "text-distribution": ["per-sample C = T/N (bytes/token)"],
        "text-udhr-premium": ["language (ISO 639-3)", "token premium (ratio to eng, log scale)"],
        "text-split": ["bytes/token (log scale): C = (T / input) × (input / N); a bar starts at 1"],
        "text-throughput": ["throughput (raw MB/s: 10^6 raw bytes per second of tokenize time, decode excluded; "
                            "log scale)"],
    }
    for fid, labels in axis_labels.items():
        for label in labels:
            assert label in figures[fid]["texts"], (fid, label)
    for tokenizer in ("bytes", "hf:tok.json", "sp:unigram.model"):
        assert tokenizer in figures["text-scaling"]["texts"]  # the legend names every tokenizer
