"""Scaling: from measured compression to forecasts, compute and fitted scaling laws.

Layout (one concept a module): :mod:`laws` (the forms), :mod:`fitting` (estimators,
Approach 3), :mod:`uncertainty` (bootstrap), :mod:`validation` (diagnostics,
hold-out, cross-validation), :mod:`table` (reading and checking a CSV),
:mod:`fitrun` (one ``compressbench fit``), :mod:`fitfile` (FIT.json),
:mod:`fitreport` (Markdown and plots), :mod:`allocation` (compute-optimal N and D),
:mod:`plan` (data plans in TOML), :mod:`mix` (tokens and compute of a plan),
:mod:`forecast` (scores, inverse questions) and :mod:`whatif` (plans side by side).

Everything here is numpy/scipy/pandas on the CPU; nothing imports torch.

>>> from compressbench.scaling.allocation import compute_optimal
>>> from compressbench.scaling.laws import PUBLISHED
>>> round(compute_optimal(PUBLISHED["epoch2024"], 5.76e23).tokens_per_param, 1)
18.4
"""
