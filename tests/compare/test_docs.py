"""docs/compare.md stays true: its workflows parse and the options it shows exist."""

from __future__ import annotations

import re
import shlex

import pytest
from tests.compare.runs_helper import ROOT

from compressbench.cli import build_parser

DOC = (ROOT / "docs" / "compare.md").read_text(encoding="utf-8")


def test_workflows_are_valid_yaml():
    yaml = pytest.importorskip("yaml")
    blocks = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        workflow = yaml.safe_load(block)
        assert workflow["jobs"] and workflow["name"]


def test_every_command_line_shown_parses():
    parser = build_parser()
    lines = [line for line in re.findall(r"^\s*(?:run: )?(compressbench (?:compare|report) .*)$", DOC, flags=re.M)]
    assert len(lines) >= 8
    for line in lines:
        args = shlex.split(re.split(r" #| \|| >", line)[0])[1:]
        parser.parse_args(args)  # exits (fails the test) on an unknown option
