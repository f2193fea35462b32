"""The pytest plugin, used by a real (generated) test project through pytester.

The plugin is registered by the ``pytest11`` entry point once compressbench is
installed (``pip install -e .``); until then the inner runs load it with ``-p``.
Passing ``-p`` as well when the entry point is active would register it twice,
so ``PLUGIN_ARGS`` does so only when the entry point is absent.
The inner runs are in-process (pytester.runpytest): this checkout's compressbench is the one imported.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib

from tests.compare.runs_helper import FIXTURES, ROOT, train_latin_bpe

pytest_plugins = ["pytester"]

PLUGIN = "compressbench.pytest_plugin"
PLUGIN_ARGS = ([] if any(ep.value == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))
               else ["-p", PLUGIN])
# Inner runs re-import what pytester unloads after each run; hypothesis's plugin alone costs ~2 s a run.
PLUGIN_ARGS += ["-p", "no:hypothesispytest", "-p", "no:cacheprovider"]
UDHR = ", ".join(repr(str(FIXTURES / "text" / "udhr" / f"{lang}.txt")) for lang in ("eng", "fra", "hin", "rus"))


def test_entry_point_is_declared():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["entry-points"]["pytest11"] == {"compressbench": PLUGIN}


def test_importing_the_plugin_stays_light():
    # pytest imports every pytest11 plugin in every session of a project that installs compressbench.
    code = ("import sys, compressbench.pytest_plugin; "
            "print(sorted(m for m in ('numpy', 'pandas', 'matplotlib', 'tokenizers', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True).stdout
    assert out.strip() == "[]"


def test_bounds_pass_or_fail_once_listing_every_violation(pytester):
    pytester.makepyfile(f"""
        FIXTURES = {str(FIXTURES)!r}
        SP = "sp:tokenizers/udhr-unigram.model"

        def test_within_bounds(compression):
            m = compression.measure(SP, "text/udhr/eng.txt", base=FIXTURES).check(min_compression=3.0, max_tokens=5000)
            assert 3.0 < m.compression < 5.0 and m.tokens == m.row(SP)["tokens"]

        def test_out_of_bounds(compression):
            m = compression.measure(["bytes", SP], "text/udhr/eng.txt", "text/udhr/hin.txt", base=FIXTURES,
                                    dataset="udhr", language="{{stem}}")
            m.check(min_compression=2.0, max_token_premium=1.5)
    """)
    result = pytester.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*3 compression check(s) failed:",
        "*udhr/bytes: C = 1.000 bytes/token, below the minimum 2",
        "*udhr/bytes [[]hin[]]: token premium 2.66, above the maximum 1.5",
        "*udhr/sp:tokenizers/udhr-unigram.model [[]hin[]]: token premium 1.96, above the maximum 1.5",
    ])


def test_baseline_workflow_create_pass_then_catch_a_retrained_tokenizer(pytester):
    shutil.copy(FIXTURES / "tokenizers" / "udhr-bpe.json", pytester.path / "tok.json")
    pytester.makepyfile(f"""
        import pathlib
        TOK = "hf:" + str(pathlib.Path(__file__).parent / "tok.json")

        def test_unchanged(compression):
            compression.measure(TOK, {UDHR}, dataset="udhr", language="{{stem}}").check_against("baselines/udhr")

        def test_retrain_allowed(compression):
            m = compression.measure(TOK, {UDHR}, dataset="udhr", language="{{stem}}")
            m.check_against("baselines/udhr", allow_tokenizer_change=["hf:*"])
    """)
    missing = pytester.runpytest(*PLUGIN_ARGS)
    missing.assert_outcomes(failed=2)
    missing.stdout.fnmatch_lines(["*no such summary*create it with: pytest --compressbench-update-baselines*"])

    pytester.runpytest(*PLUGIN_ARGS, "--compressbench-update-baselines").assert_outcomes(passed=2)
    assert (pytester.path / "baselines" / "udhr" / "summary.json").is_file()
    assert (pytester.path / "baselines" / "udhr" / "results.jsonl").is_file()
    pytester.runpytest(*PLUGIN_ARGS).assert_outcomes(passed=2)

    train_latin_bpe(pytester.path / "tok.json")  # the change under review: a retrained vocabulary
    changed = pytester.runpytest(*PLUGIN_ARGS)
    changed.assert_outcomes(failed=2)
    changed.stdout.fnmatch_lines([
        "*cannot compare this test with baseline baselines/udhr: tokenizer 'hf:*': identity changed*"
        "--allow-tokenizer-change*",
    ])
    changed.stdout.fnmatch_lines([
        "*regression(s) against baselines/udhr (gates: C drop ≤ 1%*",
        "*udhr/text/hf:*tok.json: C (bytes/token) *",
    ])
    for lang in ("eng", "hin", "rus"):
        changed.stdout.fnmatch_lines([f"*udhr/text/hf:*tok.json [[]{lang}[]]: C (bytes/token)*worse; gate 1%)"])
    assert "[fra]" not in changed.stdout.str()  # French got better
