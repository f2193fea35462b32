"""Engines that execute a run: the local one is :func:`compressbench.runner.run_suite`; others live here."""
