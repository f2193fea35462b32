"""``compressbench list``: every tokenizer family, its options, origin and availability."""

from __future__ import annotations

import argparse
import json

from compressbench.cli import EXIT_OK

NAME = "list"
ORDER = 30
HELP = "list tokenizer families with their options, origin and whether they are available here"
EXAMPLES = ["compressbench list", "compressbench list --json"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


_PIECES = {True: "cut where the pre-tokenizer splits anyway: N exactly the whole text's (a stretch with no "
                 "such point is cut anyway and counted in forced_cuts)",
           False: "not counted in pieces: files above stream_above_bytes are error rows"}


def _exact_pieces(cls: type) -> bool | None:
    """For a text family, whether a text streamed in pieces counts exactly as the whole; None otherwise."""
    from compressbench.adapters._text import TextTokenizer

    if cls.modality != "text":
        return None
    return bool(issubclass(cls, TextTokenizer) and cls.exact_pieces)


def run(args: argparse.Namespace) -> int:
    from compressbench.adapters.base import options_of
    from compressbench.core.registry import broken_plugins, list_families

    families = []
    for family, entry in list_families().items():
        missing = entry.missing()
        families.append({
            "family": family, "modality": entry.cls.modality, "description": entry.cls.description,
            "origin": entry.origin, "available": not missing,
            "missing": missing, "install_hint": entry.cls.install_hint if missing else None,
            "options": options_of(entry.cls),
            "exact_pieces": _exact_pieces(entry.cls),
        })
    for family, reason in broken_plugins().items():
        families.append({"family": family, "modality": "unknown", "description": "", "origin": "entry point",
                         "available": False, "missing": [], "install_hint": reason, "options": []})
    if args.json:
        print(json.dumps(families, indent=2, default=str))
        return EXIT_OK
    for f in families:
        missing = f"missing {', '.join(f['missing'])}: " if f["missing"] else ""
        status = "available" if f["available"] else f"NOT AVAILABLE ({missing}{f['install_hint']})"
        print(f"{f['family']}  [{f['modality']}]  {status}  origin: {f['origin']}")
        print(f"    {f['description']}")
        if f.get("exact_pieces") is not None:
            print(f"    long texts (read in pieces): {_PIECES[f['exact_pieces']]}")
        for o in f["options"]:
            slot = " (the :argument)" if o["argument"] else ""
            default = "required" if o["required"] else f"default {o['default']!r}"
            print(f"    {o['name']}: {o['type']}, {default}{slot}  {o['help']}")
    return EXIT_OK
