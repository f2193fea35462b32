#!/usr/bin/env python3
"""The README's table of what an image costs in released vision-language models, from compressbench's adapters.

For each model: N (the visual embeddings the language model receives; for a
cross-attention model the encoder tokens it attends to) and prompt tokens (the
positions the image takes in the prompt, special tokens included), at four image
sizes. tests/image/test_processor_oracle.py checks every cell against the model's
transformers processor, and that README.md holds exactly this table.

  python scripts/vlm_token_table.py            # print the table
  python scripts/vlm_token_table.py --write    # replace it in README.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- vlm-token-table:start -->", "<!-- vlm-token-table:end -->"

# (width, height), as image sizes are usually written
SIZES = [(448, 448), (1024, 768), (1920, 1080), (4000, 300)]

# spec, released checkpoint whose processor configuration it follows
MODELS = [
    ("vit:vit_large_patch14_clip_336", "llava-hf/llava-1.5-7b-hf"),
    ("qwen2vl:preset=qwen2-vl", "Qwen/Qwen2-VL-7B-Instruct"),
    ("qwen2vl:preset=qwen2.5-vl", "Qwen/Qwen2.5-VL-7B-Instruct"),
    ("qwen3vl", "Qwen/Qwen3-VL-8B-Instruct"),
    ("internvl", "OpenGVLab/InternVL3-1B-hf (InternVL 1.5-3 tiling)"),
    ("gemma3", "google/gemma-3-4b-it"),
    ("gemma3:pan_and_scan=true", "google/gemma-3-4b-it, pan-and-scan on"),
    ("llava-next", "llava-hf/llava-v1.6-mistral-7b-hf"),
    ("llava-next:preset=llava-onevision", "llava-hf/llava-onevision-qwen2-7b-ov-hf"),
    ("idefics3", "HuggingFaceM4/Idefics3-8B-Llama3"),
    ("idefics3:preset=smolvlm", "HuggingFaceTB/SmolVLM-Instruct"),
    ("idefics3:preset=smolvlm-256m", "HuggingFaceTB/SmolVLM-256M-Instruct"),
    ("pixtral", "mistral-community/pixtral-12b"),
    ("mllama", "meta-llama/Llama-3.2-11B-Vision-Instruct"),
]


def cell(spec: str, width: int, height: int) -> str:
    from compressbench import get_tokenizer

    count = get_tokenizer(spec, device="cpu").count_for_shape(height, width)
    return f"{count.tokens:,} / {int(count.counts['prompt_tokens']):,}"


def table() -> str:
    """The Markdown table, one row per model, each cell 'N / prompt tokens'."""
    head = "| spec | released checkpoint | " + " | ".join(
        "448²" if w == h == 448 else f"{w} × {h}" for w, h in SIZES) + " |"
    lines = [head, "|" + "---|" * (2 + len(SIZES))]
    for spec, checkpoint in MODELS:
        lines.append(f"| `{spec}` | {checkpoint} | " + " | ".join(cell(spec, w, h) for w, h in SIZES) + " |")
    return "\n".join(lines) + "\n"


def replace_in(text: str, new_table: str) -> str:
    """``text`` with the table between the markers replaced; ValueError if the markers are missing."""
    if START not in text or END not in text:
        raise ValueError(f"README.md has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    return head + START + "\n" + new_table + END + rest.split(END, 1)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="replace the table in README.md")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    new = table()
    if args.write:
        readme = ROOT / "README.md"
        readme.write_text(replace_in(readme.read_text(encoding="utf-8"), new), encoding="utf-8")
    else:
        print(new, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
