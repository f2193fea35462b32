"""Text tokenizers for the tests of tokenizing in worker processes, importable there by module.

``Witness`` counts UTF-8 bytes and leaves a file named after the process that counted (so a test sees
which processes did the work). ``Segfault`` counts UTF-8 bytes too, but dies of a real native fault
(a read of address 0) on a text that contains ``CRASH``, in a worker; in the main process it only
raises, so a test that is wrong about where it runs fails instead of killing pytest.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

from compressbench.adapters.base import Tokenizer
from compressbench.core.errors import SampleError
from compressbench.core.metrics import CountSpec
from compressbench.core.sample import TokenCount


@dataclass(frozen=True)
class WitnessConfig:
    folder: str


class Witness(Tokenizer):
    family = "witness"
    modality = "text"
    description = "UTF-8 bytes, leaving a file per counting process (a test tokenizer)"
    Config = WitnessConfig
    argument = "folder"

    def count(self, payload: str) -> TokenCount:
        Path(self.config.folder, str(os.getpid())).touch()
        size = len(payload.encode("utf-8"))
        return TokenCount(tokens=size, input_bytes=size)


@dataclass(frozen=True)
class SegfaultConfig:
    pass


class Segfault(Tokenizer):
    family = "segfault"
    modality = "text"
    description = "UTF-8 bytes; a native fault on a text containing CRASH, in a worker (a test tokenizer)"
    Config = SegfaultConfig

    def count(self, payload: str) -> TokenCount:
        if "CRASH" in payload:
            if multiprocessing.parent_process() is None:
                raise SampleError("would crash here, but this is the main process")
            ctypes.string_at(0)
        size = len(payload.encode("utf-8"))
        return TokenCount(tokens=size, input_bytes=size)


class MainOnly(Witness):
    """A ``Witness`` that cannot be built in a worker process (as a tokenizer whose files only the main
    process can see)."""

    family = "main-only"

    def __init__(self, config, **kwargs) -> None:
        if multiprocessing.parent_process() is not None:
            raise RuntimeError("this tokenizer's files are not here")
        super().__init__(config, **kwargs)


@dataclass(frozen=True)
class LongestConfig:
    pass


class Longest(Tokenizer):
    """UTF-8 bytes, and the longest whitespace-separated word, declared to aggregate as a maximum. Not
    registered on import: a test registers it in its own process only."""

    family = "longest-word"
    modality = "text"
    description = "UTF-8 bytes and the longest word (a test tokenizer)"
    Config = LongestConfig
    counts = {"longest_word": CountSpec("characters (the longest word of a sample)", aggregate="max")}

    def count(self, payload: str) -> TokenCount:
        size = len(payload.encode("utf-8"))
        return TokenCount(tokens=size, input_bytes=size,
                          counts={"longest_word": max((len(w) for w in payload.split()), default=0)})
