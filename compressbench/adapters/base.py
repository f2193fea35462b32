"""The adapter contract every tokenizer family implements.

An adapter turns decoded payloads of one modality into token counts. It is
configured by a frozen dataclass (``Config``) whose fields are everything that
changes N; a spec string fills it (see :mod:`compressbench.core.spec`).

>>> from compressbench.core.registry import get_tokenizer
>>> tok = get_tokenizer("bytes")
>>> tok.count("héllo").tokens
6
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any, ClassVar

from compressbench.core.device import check_device_name, resolve_device
from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.metrics import COUNTS, CountSpec
from compressbench.core.sample import TokenCount
from compressbench.core.spec import Spec, build_config, canonical_spec


def check_positive(family: str, **values: int | float | None) -> None:
    """A ConfigError naming the first option that is not positive (None means not set, which is allowed).

    >>> check_positive("tubelet", num_frames=16, fps=None, stride=0)
    Traceback (most recent call last):
    ...
    compressbench.core.errors.ConfigError: tubelet: option stride must be a positive integer, got 0
    """
    for name, value in values.items():
        if value is not None and not value > 0:  # `not >` also refuses NaN
            kind = "a positive integer" if isinstance(value, int) else "positive"
            raise ConfigError(f"{family}: option {name} must be {kind}, got {value}")


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, PurePath) else value


class Tokenizer(ABC):
    """Base class of adapters. Subclasses set the class attributes and implement :meth:`count`."""

    family: ClassVar[str]
    modality: ClassVar[str]  # "text", "audio", "image" or "video"
    description: ClassVar[str]
    Config: ClassVar[type]
    argument: ClassVar[str | None] = None  # the Config field that the spec's bare argument fills
    requires: ClassVar[tuple[str, ...]] = ()  # importable modules the adapter needs
    install_hint: ClassVar[str] = "pip install compressbench"
    uses_torch: ClassVar[bool] = False  # text BPE runs on the CPU; tensor adapters resolve the device
    # Counts this adapter reports beside T and N that are not among the built-in ones
    # (compressbench.core.metrics.COUNTS): name -> unit and aggregation. Every path (a run, --resume,
    # merge, the Ray engine) aggregates exactly the declared counts.
    counts: ClassVar[dict[str, CountSpec]] = {}
    # Whether two batches may be counted at once, on two threads (count_batch then must be thread-safe):
    # text adapters (TextTokenizer) say yes, so one batch's tally overlaps the next one's encode.
    concurrent_batches: ClassVar[bool] = False

    def __init__(self, config: Any, *, device: str = "auto", base: Path | None = None) -> None:
        self.config = config
        self.base = base or Path(".")  # relative file options (hf:PATH, sp:PATH) resolve against it
        check_device_name(device)
        self.device = resolve_device(device) if self.uses_torch else "cpu"

    @classmethod
    def from_spec(cls, spec: Spec, *, device: str = "auto", base: Path | None = None) -> "Tokenizer":
        """Build from a parsed spec; option errors name the valid options."""
        return cls(build_config(cls.Config, spec, cls.argument), device=device, base=base)

    def resolve(self, path: str) -> Path:
        """A file option as a path: relative ones against ``base`` (the suite's folder)."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base / p

    def undeclared(self, result: TokenCount) -> list[str]:
        """Count keys of a result that neither the built-ins nor this adapter declare (they would be lost)."""
        return [k for k in result.counts if k not in COUNTS and k not in self.counts]

    @classmethod
    def name_of(cls, config: Any) -> str:
        """The name a tokenizer of ``config`` has, known without building it (``predict --variant`` matches
        names in a summary with it): the canonical spec string; an adapter whose name leaves out what does
        not change N, or names what its preset fills in, overrides this."""
        return canonical_spec(cls.family, config, cls.argument)

    @property
    def name(self) -> str:
        """The canonical spec string of this configuration (the ``tokenizer`` key of results); the config
        is frozen, so it is worked out once (a run asks for it per sample)."""
        name = self.__dict__.get("_name")
        if name is None:
            name = self._name = self.name_of(self.config)
        return name

    def config_values(self) -> dict[str, Any]:
        """The config as JSON-ready values (paths as strings)."""
        return {f.name: _plain(getattr(self.config, f.name)) for f in dataclasses.fields(self.config)}

    def identity(self) -> dict[str, Any]:
        """What pins this tokenizer down: spec, config and a hash of its vocabulary or weights-free definition."""
        return {"spec": self.name, "family": self.family, "config": self.config_values(), "sha256": self.fingerprint()}

    def fingerprint(self) -> str:
        """sha256 identifying the tokenizer; default: a hash of the family and config."""
        config = self.config_values()
        blob = json.dumps({"family": self.family, "config": config}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    @abstractmethod
    def count(self, payload: Any) -> TokenCount:
        """Tokenize one decoded payload; raise :class:`SampleError` for a payload it cannot take."""

    def count_from_meta(self, meta: dict[str, Any]) -> TokenCount:
        """N from a sample's header alone (shape, duration), for --count-only.

        Adapters whose N is fixed by shapes override this; it must equal what
        :meth:`count` measures on the decoded sample.
        """
        raise SampleError(f"{self.name} cannot count from metadata alone; run without --count-only")

    def synchronize(self) -> None:
        """Wait for queued device work, so timings include it (a no-op off CUDA)."""
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)

    def count_batch(self, payloads: Sequence[Any]) -> list[TokenCount | SampleError]:
        """Tokenize several payloads; one bad payload yields its error, not a failed batch."""
        out: list[TokenCount | SampleError] = []
        for payload in payloads:
            try:
                out.append(self.count(payload))
            except SampleError as exc:
                out.append(exc)
        return out


class BatchedTokenizer(Tokenizer):
    """An adapter whose natural unit is a batch of tensor work: ``count`` is a batch of one."""

    def count(self, payload: Any) -> TokenCount:
        result = self.count_batch([payload])[0]
        if isinstance(result, SampleError):
            raise result
        return result

    @abstractmethod
    def count_batch(self, payloads: Sequence[Any]) -> list[TokenCount | SampleError]:
        """Tokenize several payloads together on the device; an invalid one gets its error in its place."""


def options_of(cls: type[Tokenizer]) -> list[dict[str, Any]]:
    """The options of an adapter, for ``compressbench list``: name, type, default, help."""
    rows = []
    for f in dataclasses.fields(cls.Config):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = None if f.default is dataclasses.MISSING else f.default
        rows.append({
            "name": f.name,
            "required": required,
            "type": f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type)),
            "default": default,
            "help": f.metadata.get("help", ""),
            "argument": f.name == cls.argument,
        })
    return rows
