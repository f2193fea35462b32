"""The exceptions compressbench raises, each worded for the person who must act on it.

>>> str(ConfigError("unknown tokenizer 'tiktokn'; did you mean: tiktoken?"))
"unknown tokenizer 'tiktokn'; did you mean: tiktoken?"
"""


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
