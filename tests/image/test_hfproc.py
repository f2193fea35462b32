"""``hfproc:DIR``: a saved transformers processor, counted by running it, against the native ``llava-next``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compressbench import get_tokenizer
from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.registry import list_families
from tests.conftest import FIXTURES, cli

pytest.importorskip("transformers")

SAVED = FIXTURES / "processors" / "saved-llava-v1.6"


def test_hfproc_counts_equal_the_native_family():
    """Two independent counts: the processor expanding its placeholder, and llava-next's own geometry."""
    saved = get_tokenizer(f"hfproc:{SAVED}", device="cpu")
    native = get_tokenizer("llava-next", device="cpu")
    for h, w in [(27, 29), (768, 1024), (300, 1000), (1000, 300), (337, 336)]:
        image = np.zeros((h, w, 3), np.uint8)
        ours, theirs = saved.count(image), native.count_for_shape(h, w)
        assert ours.tokens == theirs.tokens and ours.counts["prompt_tokens"] == theirs.counts["prompt_tokens"]
        assert ours.input_bytes == theirs.input_bytes  # the tiles' pixel values, one byte each


def test_hfproc_is_labelled_slow_and_has_an_install_hint():
    proc = cli("list", "--json")
    assert proc.returncode == 0, proc.stderr
    entry = next(e for e in json.loads(proc.stdout) if e.get("family") == "hfproc")
    assert entry["description"].startswith("SLOW, CPU only")
    assert entry["available"] is True
    assert list_families()["hfproc"].cls.install_hint == "pip install 'compressbench[hf]'"  # shown when missing


def test_hfproc_errors(tmp_path):
    with pytest.raises(ConfigError, match="is not a directory"):
        get_tokenizer(f"hfproc:{tmp_path / 'missing'}", device="cpu")
    with pytest.raises(ConfigError, match="no transformers processor could be loaded"):
        get_tokenizer(f"hfproc:{tmp_path}", device="cpu")
    saved = get_tokenizer(f"hfproc:{SAVED}", device="cpu")
    with pytest.raises(SampleError, match="cannot count from metadata alone"):
        saved.count_from_meta({"height": 10, "width": 10})
    with pytest.raises(SampleError, match="uint8 RGB array"):
        saved.count(np.zeros((4, 4), np.uint8))
