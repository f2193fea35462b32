"""The exceptions compressbench raises, each worded for the person who must act on it, and
:func:`reading`, the one way a failed read of a user's file becomes a configuration error.

>>> str(ConfigError("unknown tokenizer 'tiktokn'; did you mean: tiktoken?"))
"unknown tokenizer 'tiktokn'; did you mean: tiktoken?"
"""

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def reading(path: object, what: str, *, missing: str = "", invalid: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn a failed read of a user's file into one ConfigError naming the file and the problem.

    A missing file says ``no such WHAT`` (and ``missing``, a hint); text that is not UTF-8 says so
    (:func:`not_utf8`); any other OSError or one of ``invalid`` (the parser's own errors) says ``not a readable WHAT (why)``.

    >>> with reading("plan.toml", "TOML plan"):
    ...     open("/no/such/dir/plan.toml")
    Traceback (most recent call last):
    ...
    compressbench.core.errors.ConfigError: plan.toml: no such TOML plan
    """
    try:
        yield
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}{'; ' + missing if missing else ''}") from None
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc, what) from None
    except (OSError, *invalid) as exc:
        raise ConfigError(f"{path}: not a readable {what} ({first_line(exc)})") from None


def first_line(exc: BaseException) -> str:
    """An exception's message fit for a one-line error: its first line (an OSError's strerror
    without the errno prefix), or its type's name when it has no message.

    >>> first_line(ValueError("bad value\\nmore detail"))
    'bad value'
    >>> first_line(KeyError())
    'KeyError'
    """
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text.strip() else type(exc).__name__


def not_utf8(path: object, exc: UnicodeDecodeError, what: str) -> "ConfigError":
    """The one-line error for a file that should be UTF-8 text and is not.

    >>> try:
    ...     b"name = \\xff".decode("utf-8")
    ... except UnicodeDecodeError as exc:
    ...     print(not_utf8("s.toml", exc, "suite file"))
    s.toml: not valid UTF-8 (byte 0xff at offset 7); a suite file must be UTF-8 text
    """
    byte = exc.object[exc.start] if exc.start < len(exc.object) else 0
    return ConfigError(f"{path}: not valid UTF-8 (byte {byte:#04x} at offset {exc.start}); a {what} must be UTF-8 text")


class CompressbenchError(Exception):
    """Base class: every message is one line that says what is wrong and how to fix it."""


class ConfigError(CompressbenchError):
    """A usage or configuration problem (bad spec, malformed suite, missing vocabulary).

    The command line turns it into exit code 2 with no traceback.
    """


class SampleError(CompressbenchError):
    """One sample could not be measured; the run records it and goes on."""


class BackendMissing(ConfigError):
    """An optional back-end library is not installed; the message carries the install hint."""
