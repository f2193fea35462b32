"""Spec strings, the registry, entry-point plugins and clashes."""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass

import pytest

from compressbench.adapters.base import Tokenizer
from compressbench.core.errors import ConfigError
from compressbench.core.registry import get_tokenizer, list_families, register_tokenizer
from compressbench.core.spec import parse_spec
from tests.conftest import cli


@pytest.mark.parametrize("text, family, argument, options", [
    ("bytes", "bytes", None, {}),
    ("tiktoken:o200k_base", "tiktoken", "o200k_base", {}),
    ("hf:path/to/tokenizer.json", "hf", "path/to/tokenizer.json", {}),
    ("spectrogram:n_mels=80,hop=160", "spectrogram", None, {"n_mels": "80", "hop": "160"}),
    ("tiktoken:cl100k_base,download=true", "tiktoken", "cl100k_base", {"download": "true"}),
    ("bytes,x=1", "bytes", None, {"x": "1"}),
])
def test_parse_spec(text, family, argument, options):
    spec = parse_spec(text)
    assert (spec.family, spec.argument, spec.options) == (family, argument, options)


@pytest.mark.parametrize("text, message", [
    ("", "empty tokenizer spec"),
    ("tiktoken:a,b", "is not key=value"),
    ("tiktoken:a,,x=1", "empty item"),
    ("tiktoken:a,x=1,x=2", "given twice"),
])
def test_bad_specs(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_spec(text)


def test_unknown_family_suggests_the_closest():
    with pytest.raises(ConfigError, match="unknown tokenizer 'tiktokn'; did you mean: tiktoken"):
        get_tokenizer("tiktokn:cl100k_base")


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown option 'hop'.*valid options: encoding, vocab, download"):
        get_tokenizer("tiktoken:cl100k_base,hop=3")
    with pytest.raises(ConfigError, match="expected true or false"):
        get_tokenizer("tiktoken:cl100k_base,download=maybe")
    with pytest.raises(ConfigError, match="takes no argument"):
        get_tokenizer("bytes:foo")


@pytest.mark.parametrize("family", list(list_families()))
def test_every_family_round_trips_its_canonical_name(family):
    """Tests follow the registry: every registered family builds with its defaults (or a fixture file)."""
    entry = list_families()[family]
    args = {"hf": ":fixtures/tokenizers/udhr-bpe.json", "sp": ":fixtures/tokenizers/udhr-unigram.model",
            "hfproc": ":fixtures/processors/saved-llava-v1.6"}
    tok = get_tokenizer(family + args.get(family, ""), device="cpu")
    again = get_tokenizer(tok.name, device="cpu")
    assert again.name == tok.name and again.fingerprint() == tok.fingerprint()
    assert len(tok.fingerprint()) == 64 and entry.cls.modality in ("text", "audio", "image", "video")


def test_a_third_party_family_may_not_replace_a_builtin():
    @dataclass(frozen=True)
    class Cfg:
        pass

    class Impostor(Tokenizer):
        family = "bytes"
        modality = "text"
        description = "not the real bytes"
        Config = Cfg

        def count(self, payload):  # pragma: no cover - never registered
            raise NotImplementedError

    Impostor.__module__ = "someone_elses_package"
    with pytest.raises(ConfigError, match="clashes with the one from built-in"):
        register_tokenizer(Impostor)
    assert list_families()["bytes"].origin == "built-in"


PLUGIN = '''
from dataclasses import dataclass
from compressbench.adapters.base import Tokenizer
from compressbench.core.sample import TokenCount

@dataclass(frozen=True)
class WordsConfig:
    pass

class WordsTokenizer(Tokenizer):
    """One token per whitespace-separated word."""
    family = "{family}"
    modality = "text"
    description = "one token per word (a plugin)"
    Config = WordsConfig

    def count(self, payload):
        return TokenCount(tokens=len(payload.split()), input_bytes=len(payload.encode()))
'''


def _install_plugin(root, family):
    """A real installed distribution with a compressbench.tokenizers entry point, on a path."""
    (root / "cbwords").mkdir()
    (root / "cbwords" / "__init__.py").write_text(textwrap.dedent(PLUGIN.format(family=family)))
    dist = root / "cbwords-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cbwords\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[compressbench.tokenizers]\n{family} = cbwords:WordsTokenizer\n")
    return {"PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def test_entry_point_plugin_is_listed_and_measures(tmp_path):
    env = _install_plugin(tmp_path, "words")
    listed = cli("list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    words = next(f for f in json.loads(listed.stdout) if f["family"] == "words")
    assert words["origin"] == "entry point of cbwords" and words["available"]
    sample = tmp_path / "s.txt"
    sample.write_text("one two three four")
    measured = cli("measure", "--tokenizer", "words", "--json", str(sample), env=env)
    assert measured.returncode == 0, measured.stderr
    assert json.loads(measured.stdout)["results"][0]["tokens"] == 4


def test_entry_point_clashing_with_a_builtin_is_an_error(tmp_path):
    env = _install_plugin(tmp_path, "bytes")
    out = cli("list", env=env)
    assert out.returncode == 2
    assert "clashes with the one from built-in" in out.stderr and "Traceback" not in out.stderr


def test_a_broken_plugin_is_skipped_not_fatal(tmp_path):
    env = _install_plugin(tmp_path, "words")
    (tmp_path / "cbwords" / "__init__.py").write_text("raise ImportError('missing dependency xyz')\n")
    listed = cli("list", env=env)
    assert listed.returncode == 0
    assert "words  [unknown]  NOT AVAILABLE (plugin of cbwords (cbwords:WordsTokenizer) failed to load: missing dependency xyz)" in listed.stdout
    assert "bytes  [text]  available" in listed.stdout
    measured = cli("measure", "-t", "words", "README.md", env=env)
    assert measured.returncode == 2 and "tokenizer 'words' is not available: plugin of cbwords" in measured.stderr


@pytest.mark.parametrize("family, valid", [
    ("my-video", True), ("my_frames", True), ("_x-1", True),
    ("-video", False), ("2vl", False), ("a:b", False), ("a b", False), ("a,b", False), ("", False),
])
def test_family_names_may_hold_hyphens_but_no_spec_syntax(family, valid):
    """As the built-in qwen2vl-video does; ':', ',', '=' and spaces belong to the spec syntax."""
    @dataclass(frozen=True)
    class Cfg:
        pass

    class Named(Tokenizer):
        modality = "text"
        description = "a family-name check"
        Config = Cfg

        def count(self, payload):  # pragma: no cover - never counted
            raise NotImplementedError

    Named.family = family
    Named.__module__ = "someone_elses_package"
    from compressbench.core import registry

    assert family not in registry._entries
    try:
        if valid:
            register_tokenizer(Named)
            assert parse_spec(f"{family}:x=1").family == family
        else:
            with pytest.raises(ConfigError, match="no valid 'family' name"):
                register_tokenizer(Named)
    finally:
        registry._entries.pop(family, None)
