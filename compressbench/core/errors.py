"""The exceptions compressbench raises, each worded for the person who must act on it,
:func:`reading`, the one way a failed read of a user's file becomes a configuration error, and
:class:`ErrorMessages`, the failures of a run as its report lists them.

>>> str(ConfigError("unknown tokenizer 'tiktokn'; did you mean: tiktoken?"))
"unknown tokenizer 'tiktokn'; did you mean: tiktoken?"
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

MESSAGES_KEPT = 1000  # distinct error messages a run keeps for its report (reports list at most 100)


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


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``; did you mean: A, B?`` naming the choices closest to a misspelt ``word``, or nothing.

    >>> did_you_mean("max_pixel", ["min_pixels", "max_pixels", "patch_size"])
    '; did you mean: max_pixels, min_pixels?'
    """
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)
    return f"; did you mean: {', '.join(close)}?" if close else ""


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


class ErrorMessages:
    """The distinct error messages of a run's rows, in the order met, for its report: the first ``limit``
    kept, later new ones only noted (``complete`` turns False), so that a run with millions of failed
    records holds a thousand messages, not millions.

    >>> errors = ErrorMessages(limit=2)
    >>> for message in ("a.txt: empty", "b.txt: empty", "a.txt: empty", "c.txt: empty"):
    ...     errors.add(message)
    >>> list(errors), len(errors), errors.complete
    (['a.txt: empty', 'b.txt: empty'], 2, False)
    >>> errors.heading(), errors.more(1)
    ('more than 2', '… and over 1 more (see results.jsonl)')
    >>> ErrorMessages(["x"]).heading()
    '1'
    """

    def __init__(self, messages: Iterable[str] = (), *, limit: int = MESSAGES_KEPT) -> None:
        self.limit, self.complete = limit, True
        self._kept: dict[str, None] = {}
        for message in messages:
            self.add(message)

    @classmethod
    def of(cls, messages: Iterable[str]) -> "ErrorMessages":
        """``messages`` as an :class:`ErrorMessages` (itself if it is one)."""
        return messages if isinstance(messages, ErrorMessages) else cls(messages)

    def add(self, message: str) -> None:
        if message in self._kept:
            return
        if len(self._kept) < self.limit:
            self._kept[message] = None
        else:
            self.complete = False

    def __iter__(self) -> Iterator[str]:
        return iter(self._kept)

    def __len__(self) -> int:
        return len(self._kept)

    def __bool__(self) -> bool:
        return bool(self._kept)

    def heading(self) -> str:
        """How many distinct messages there are, as a report's heading says it: ``12``, or ``more than 1,000``."""
        return f"{len(self):,}" if self.complete else f"more than {len(self):,}"

    def more(self, listed: int) -> str | None:
        """What to say after the first ``listed`` messages (None when they are all): ``… and 12 more``."""
        if self.complete and len(self) <= listed:
            return None
        count = f"{len(self) - listed:,}" if self.complete else f"over {len(self) - listed:,}"
        return f"… and {count} more (see results.jsonl)"
