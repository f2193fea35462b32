"""Test-only Pillow image plugins that misbehave as a buggy native codec can on a hostile file.

``CRASHME!`` files die of a segmentation fault while their pixels are decoded
(a read of address 0, as a C decoder's bad pointer would); ``SLEEPME!`` files
hang for a minute. Never installed: the crash-isolation tests put this folder on
PYTHONPATH, so ``sitecustomize`` registers the formats in every process,
spawned decode workers included.
"""

from __future__ import annotations

import ctypes
import time

from PIL import Image, ImageFile

CRASH_MAGIC = b"CRASHME!"
HANG_MAGIC = b"SLEEPME!"


class _Hostile(ImageFile.ImageFile):
    def _open(self) -> None:
        self._size = (4, 4)
        self._mode = "RGB"

    def load(self):  # type: ignore[override]
        raise NotImplementedError


class CrashingImageFile(_Hostile):
    format = "CRASHME"
    format_description = "test-only codec that segfaults"

    def load(self):  # type: ignore[override]
        ctypes.string_at(0)  # SIGSEGV


class HangingImageFile(_Hostile):
    format = "SLEEPME"
    format_description = "test-only codec that hangs"

    def load(self):  # type: ignore[override]
        time.sleep(60)


Image.register_open(CrashingImageFile.format, CrashingImageFile, lambda prefix: prefix[:8] == CRASH_MAGIC)
Image.register_open(HangingImageFile.format, HangingImageFile, lambda prefix: prefix[:8] == HANG_MAGIC)
