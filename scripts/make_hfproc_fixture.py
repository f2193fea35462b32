#!/usr/bin/env python3
"""Write fixtures/processors/saved-llava-v1.6/: a LLaVA-NeXT processor as transformers' save_pretrained saves it.

The image processor and processor settings are llava-hf/llava-v1.6-mistral-7b-hf's
(fixtures/processors/llava-v1.6-mistral-7b-hf/); the tokenizer is a four-word
stand-in (a word-level model with the <image> placeholder), enough for the
processor to expand the placeholder, which is all ``hfproc`` counts. Deterministic.

  python scripts/make_hfproc_fixture.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "fixtures" / "processors" / "llava-v1.6-mistral-7b-hf"
OUT = ROOT / "fixtures" / "processors" / "saved-llava-v1.6"


def main() -> int:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlavaNextImageProcessorPil, LlavaNextProcessor, PreTrainedTokenizerFast

    words = Tokenizer(models.WordLevel({"[UNK]": 0, "<s>": 1, "<image>": 2, "describe": 3}, unk_token="[UNK]"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=words, unk_token="[UNK]", bos_token="<s>",
                                        additional_special_tokens=["<image>"])
    config = json.loads((SOURCE / "preprocessor_config.json").read_text())
    config = {k: v for k, v in config.items() if k not in ("image_processor_type", "processor_class")}
    settings = json.loads((SOURCE / "processor_config.json").read_text())
    settings.pop("processor_class")
    processor = LlavaNextProcessor(image_processor=LlavaNextImageProcessorPil.from_dict(config), tokenizer=tokenizer,
                                   **settings)
    processor.save_pretrained(str(OUT))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
