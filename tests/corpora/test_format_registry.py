"""Every registered format, whatever it is given, yields records or error rows, never an exception."""

from __future__ import annotations

import random

import pytest

from compressbench.core.errors import ConfigError
from compressbench.data.discover import Found
from compressbench.data.formats import format_for, format_names, get_format, register_format
from compressbench.data.formats.base import Format, ReadSpec


@pytest.mark.parametrize("name", [n for n in format_names() if n != "auto"])
@pytest.mark.parametrize("content", [b"", bytes(random.Random(0).randrange(256) for _ in range(5000)),
                                     b'{"text": "a"}\n' * 3])
def test_any_bytes_give_records_or_error_rows(name, content, tmp_path):
    path = tmp_path / "input.arrow"
    path.write_bytes(content)
    fmt = get_format(name)
    fields = fmt.default_fields("text") or ("text",)
    records = [r for unit in fmt.units(Found(path.name, path))
               for r in fmt.records(unit, ReadSpec("text", fields, max_bytes=1 << 20))]
    for record in records:
        assert record.id.startswith(path.name)
        assert record.error is None or record.data is None  # an error row carries nothing to measure
        assert record.error is None or "\n" not in record.error


def test_a_format_may_not_take_a_builtin_name():
    class Imposter(Format):
        name = "jsonl"

    with pytest.raises(ConfigError, match="format 'jsonl' from .* clashes with the one from built-in"):
        register_format(Imposter)


@pytest.mark.parametrize("extension", [".captions", "-captions.txt"])
def test_auto_finds_a_format_registered_after_it_was_first_asked(extension, monkeypatch):
    """``auto`` remembers what each extension is; a format registered later (a plugin) is still found,
    whether or not its extension starts with a dot, and the built-ins are found as before."""
    from compressbench.data import formats

    name = f"shard-001{extension}"
    assert format_for("auto", name).name == "files"
    assert format_for("auto", "shard-002.JSONL.gz").name == "jsonl"

    class Captions(Format):
        name = "captions-test"
        extensions = (extension,)

    monkeypatch.setitem(formats._formats, Captions.name, Captions)
    monkeypatch.setitem(formats._origins, Captions.name, "a test")
    assert format_for("auto", name).name == "captions-test"
    assert format_for("auto", name.upper() + ".gz").name == "captions-test"  # compressed, any case
    assert format_for("auto", "shard-002.jsonl.gz").name == "jsonl"
    assert format_for("auto", "notes.txt").name == "files"
