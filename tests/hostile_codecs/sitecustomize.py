"""Loaded at start-up by every Python process that has this folder on PYTHONPATH (workers included)."""

import hostile_codecs  # noqa: F401  (registers the test-only Pillow formats)
