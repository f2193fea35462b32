"""The installed version of compressbench, read from the package metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("compressbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
