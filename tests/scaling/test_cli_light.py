"""The scaling commands keep `compressbench --help` light: numpy, scipy, pandas, matplotlib load in run()."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.scaling.scaling_testkit import REPO


def test_help_imports_no_numeric_stack():
    code = ("import sys; from compressbench.cli import build_parser; build_parser().format_help(); "
            "print(','.join(m for m in ('numpy', 'scipy', 'pandas', 'matplotlib', 'torch') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_the_commands_are_registered_in_order():
    from compressbench.cli import _commands

    names = [m.NAME for m in _commands()]
    assert names.index("fit") < names.index("predict") < names.index("optimal")
