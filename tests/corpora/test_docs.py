"""The README's "Your corpus" examples stay valid suites, and its format table names every built-in format."""

from __future__ import annotations

import re
import tomllib

from compressbench.data.formats import format_names
from compressbench.data.suite import parse_suite
from tests.conftest import ROOT

SECTION = (ROOT / "README.md").read_text(encoding="utf-8").split("## Your corpus", 1)[1].split("\n## ", 1)[0]


def test_the_example_datasets_parse():
    block = re.search(r"```toml\n(.*?)```", SECTION, flags=re.S).group(1)
    suite = parse_suite({"tokenizers": ["bytes"], **tomllib.loads(block)}, source="README.md", base=ROOT)
    assert [(d.name, d.modality, d.field) for d in suite.datasets] == [
        ("fineweb", "text", "text"), ("laion-images", "image", None), ("laion-captions", "text", "txt")]
    assert suite.datasets[0].label_fields == ("language",)


def test_the_table_lists_every_format():
    listed = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)?", SECTION, flags=re.M))
    assert {name for pair in listed for name in pair if name} - {"format"} == set(format_names()) - {"auto"}
