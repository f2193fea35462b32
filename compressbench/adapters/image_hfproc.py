"""``hfproc:DIR``: any Hugging Face transformers processor saved in a local directory (slow, CPU only).

For vision-language models without a native family: DIR holds an offline copy of
the model's processor files (what ``processor.save_pretrained(DIR)`` writes:
processor and image-processor configuration, tokenizer files). Each decoded image
goes through the processor itself, with a prompt that is the processor's image
placeholder alone: N is the number of placeholder tokens the processor expands it
to, ``prompt_tokens`` the length of the whole expansion (what the processor adds
around the placeholders included; what a chat template writes around it is not),
input_bytes the processor's pixel values, one byte each. Counting runs the full
preprocessing on the CPU, one image at a time, so it is much slower than the
native families, and it cannot count from headers (--count-only). Cross-attention
models, whose prompt holds one image token, are not counted correctly this way:
use their native family (``mllama``). Needs ``pip install 'compressbench[hf]'``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compressbench.adapters._image import require_image
from compressbench.adapters.base import Tokenizer
from compressbench.core.errors import ConfigError, SampleError, first_line
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount


@dataclass(frozen=True)
class HfProcConfig:
    path: str = field(metadata={"help": "a local directory with a transformers processor (save_pretrained's files)"})


def _load(directory: Any) -> Any:
    """The processor in ``directory``, loaded without network, or a ConfigError saying what is missing."""
    from transformers import AutoProcessor

    if not directory.is_dir():
        raise ConfigError(f"hfproc: {directory} is not a directory; give the folder a processor was saved to "
                          "(processor.save_pretrained(DIR))")
    try:
        return AutoProcessor.from_pretrained(str(directory), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"hfproc: no transformers processor could be loaded from {directory}: {first_line(exc)} "
                          "(it needs the processor and tokenizer files that save_pretrained writes)") from None


@register_tokenizer
class HfProcTokenizer(Tokenizer):
    family = "hfproc"
    modality = "image"
    description = "SLOW, CPU only: any transformers processor saved in a local directory (runs it on each image)"
    Config = HfProcConfig
    argument = "path"
    requires = ("transformers", "numpy")
    install_hint = "pip install 'compressbench[hf]'"

    def __init__(self, config: HfProcConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.processor = _load(self.resolve(config.path))
        self.image_token = getattr(self.processor, "image_token", None)
        self.image_token_id = getattr(self.processor, "image_token_id", None)
        if self.image_token is None or self.image_token_id is None:
            raise ConfigError(f"hfproc: the processor in {config.path} ({type(self.processor).__name__}) has no "
                              "image placeholder token to count")
        self.text_only = len(self.processor.tokenizer("")["input_ids"])  # what the tokenizer adds to any text

    def count(self, payload: Any) -> TokenCount:
        image = require_image(payload)
        try:
            out = self.processor(text=[self.image_token], images=[image], return_tensors="np")
        except Exception as exc:  # noqa: BLE001 - any processor failure is this sample's, in one line
            raise SampleError(f"hfproc: the processor refused the {image.shape[0]}x{image.shape[1]} image: "
                              f"{first_line(exc)}") from None
        ids = out["input_ids"][0]
        return TokenCount(tokens=int((ids == self.image_token_id).sum()), input_bytes=int(out["pixel_values"].size),
                          counts={"prompt_tokens": len(ids) - self.text_only})

    def fingerprint(self) -> str:
        """sha256 of the directory's files (names and bytes): the processor's whole definition."""
        import hashlib

        digest = hashlib.sha256(self.family.encode())
        directory = self.resolve(self.config.path)
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def identity(self) -> dict[str, Any]:
        import transformers

        return {**super().identity(), "processor": type(self.processor).__name__,
                "transformers": transformers.__version__}
