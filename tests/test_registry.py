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
    with pytest.raises(ConfigError, match=r"'max_pixel' .*; did you mean: max_pixels, min_pixels\? \(valid options"):
        get_tokenizer("qwen2vl:max_pixel=1")
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


def _adapter(name, *, base=Tokenizer, modality="text", config=None):
    """A throwaway adapter class from someone else's package (never left registered)."""
    if config is None:
        @dataclass(frozen=True)
        class config:  # noqa: N801 - a Config class
            pass

    cls = type(name, (base,), {"family": name, "modality": modality, "description": "a registration check",
                               "Config": config, "count": lambda self, payload: None,
                               "__module__": "someone_elses_package"})
    return cls


@pytest.mark.parametrize("make, message", [
    (lambda: _adapter("notatok", base=object), "is not a subclass of compressbench.adapters.base.Tokenizer"),
    (lambda: _adapter("badmod", modality="smell"), "modality 'smell'; set it to one of: text, audio, image, video"),
    (lambda: _adapter("notfrozen", config=dataclass(type("C", (), {"__annotations__": {"x": int}, "x": 1}))),
     "Config must be a frozen dataclass"),
    (lambda: _adapter("plainconfig", config=dict), "Config must be a frozen dataclass"),
])
def test_registration_refuses_what_cannot_be_an_adapter(make, message):
    from compressbench.core import registry

    cls = make()
    try:
        with pytest.raises(ConfigError, match=message):
            register_tokenizer(cls)
        assert cls.family not in registry._entries
    finally:
        registry._entries.pop(cls.family, None)


def test_a_config_annotated_with_unresolvable_names_fails_at_registration():
    @dataclass(frozen=True)
    class Cfg:
        root: "Undefined | None" = None  # noqa: F821 - the point of the test

    cls = _adapter("unresolved", config=Cfg)
    from compressbench.core import registry

    try:
        with pytest.raises(ConfigError, match=r"annotation of the config .* cannot be resolved \(NameError"):
            register_tokenizer(cls)
    finally:
        registry._entries.pop("unresolved", None)


PATH_PLUGIN = '''
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compressbench.adapters.base import Tokenizer
from compressbench.core.sample import TokenCount


@dataclass(frozen=True)
class LinesConfig:
    stopwords: Path | None = field(default=None, metadata={"help": "a file of lines not counted"})
    limit: int | None = None


class LinesTokenizer(Tokenizer):
    """One token per line, minus the lines listed in ``stopwords``."""
    family = "lines"
    modality = "text"
    description = "one token per line (a plugin with Path options)"
    Config = LinesConfig

    def count(self, payload):
        skip = set(self.resolve(str(self.config.stopwords)).read_text().splitlines()) if self.config.stopwords else set()
        lines = [line for line in payload.splitlines() if line not in skip][: self.config.limit]
        return TokenCount(tokens=len(lines), input_bytes=len(payload.encode()))
'''


def test_a_plugin_config_with_path_annotations_takes_options(tmp_path):
    """String annotations such as ``Path | None`` resolve in the plugin's own module."""
    (tmp_path / "cblines").mkdir()
    (tmp_path / "cblines" / "__init__.py").write_text(PATH_PLUGIN)
    dist = tmp_path / "cblines-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cblines\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[compressbench.tokenizers]\nlines = cblines:LinesTokenizer\n")
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    (tmp_path / "stop.txt").write_text("b\n")
    sample = tmp_path / "s.txt"
    sample.write_text("a\nb\nc\nd\n")
    measured = cli("measure", "--tokenizer", f"lines:stopwords={tmp_path / 'stop.txt'},limit=2", "--json", str(sample),
                   env=env)
    assert measured.returncode == 0, measured.stderr
    assert json.loads(measured.stdout)["results"][0]["tokens"] == 2
    bad = cli("measure", "--tokenizer", "lines:limit=many", str(sample), env=env)
    assert bad.returncode == 2 and "expected int, got 'many'" in bad.stderr and "Traceback" not in bad.stderr


def test_a_failed_load_is_retried_not_left_half_done(monkeypatch):
    """An exception while loading entry points leaves the registry unloaded, so the next look-up tries again."""
    from compressbench.core import registry

    calls = []

    def failing(group):
        calls.append(group)
        raise RuntimeError("entry points unreadable")

    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry.importlib.metadata, "entry_points", failing)
    with pytest.raises(RuntimeError, match="entry points unreadable"):
        registry.list_families()
    assert registry._loaded is False and not registry._loading
    monkeypatch.undo()
    assert "bytes" in registry.list_families() and registry._loaded is True and len(calls) == 1


@pytest.mark.parametrize("spec", [
    "bytes", "tiktoken:cl100k_base", "tiktoken:o200k_base,vocab=elsewhere.tiktoken", "codec", "codec:mimi",
    "codec:encodec_24khz,bandwidth_kbps=1.5,count=frames", "codec:frame_rate=50,codebooks=4", "whisper", "ast",
    "spectrogram", "vit:vit_base_patch16_224", "qwen2vl,max_pixels=401408,patch_size=14", "internvl", "tubelet",
    "qwen2vl-video", "hf:fixtures/tokenizers/udhr-bpe.json", "sp:fixtures/tokenizers/udhr-unigram.model"])
def test_the_name_known_without_building_is_the_built_tokenizers_name(spec):
    """``predict`` matches a plan's or --variant's spec to the summary's rows by this name."""
    from compressbench.core.registry import canonical_name
    from tests.conftest import ROOT

    if "vocab=" in spec:  # a vocabulary file elsewhere: the name is the encoding's, the file is never opened
        assert canonical_name(spec) == "tiktoken:o200k_base"
        return
    assert canonical_name(spec) == get_tokenizer(spec, base=ROOT).name
