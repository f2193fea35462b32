"""What every text adapter shares: counting a batch over all cores with the library's own parallel
call, texts streamed in pieces, and the per-sample text counts.

>>> text_counts("héllo wörld")
{'chars': 11, 'words': 2}
>>> partial_character("é".encode()[:1])
True
"""

from __future__ import annotations

import os
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from compressbench.adapters._files import existing_file, sha256_of_file
from compressbench.adapters._words import ContinuedWords
from compressbench.adapters.base import Tokenizer
from compressbench.core.errors import ConfigError, SampleError, first_line
from compressbench.core.ledger import add_counts, count_ids
from compressbench.core.sample import TokenCount
from compressbench.data.textfile import TextFile
from compressbench.prefetch import overlapped, stopping

Ids = Sequence[int] | np.ndarray


_threads: int | None = None  # set_threads: the threads a text worker process may use
_PARALLELISM = "TOKENIZERS_PARALLELISM"
_user_parallelism = os.environ.get(_PARALLELISM)  # restored by set_threads(None)


def cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. a container's or SLURM's share), or
    the threads :func:`set_threads` allows. Every text adapter sizes its parallel calls by it."""
    if _threads is not None:
        return _threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_threads(threads: int | None) -> None:
    """Let the text adapters of this process use ``threads`` threads (None: every core), for a worker
    process that is one of several. The Hugging Face tokenizers' own thread pool is switched off for one
    thread (``TOKENIZERS_PARALLELISM``, read at each call).

    >>> set_threads(1); cores()
    1
    >>> set_threads(None); cores() > 0
    True
    """
    global _threads
    _threads = threads
    value = _user_parallelism if threads is None or _user_parallelism == "false" else str(threads > 1).lower()
    if value is None:
        os.environ.pop(_PARALLELISM, None)
    else:
        os.environ[_PARALLELISM] = value


_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def thread_map(fn: Callable[[str], Any], texts: Sequence[str]) -> list[Any]:
    """``[fn(t) for t in texts]`` on a pool of :func:`cores` threads, for back-ends that release the GIL
    while they encode (tiktoken's ``encode_ordinary_batch`` does the same)."""
    global _pool, _pool_size
    if len(texts) < 2 or cores() < 2:
        return [fn(t) for t in texts]
    with _pool_lock:  # batches measured at once (compressbench.measure.measure_batches) share one pool
        if _pool is None or _pool_size != cores():
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool, _pool_size = ThreadPoolExecutor(cores(), thread_name_prefix="compressbench-text"), cores()
        pool = _pool
    return list(pool.map(fn, texts))


class TextTokenizer(Tokenizer):
    """A text adapter: the library's parallel batch encode and a per-text tally; this class does the rest
    (a batch over all cores, errors in place, texts streamed in pieces).

    ``exact_pieces`` says whether a text cut at :func:`~compressbench.data.textfile.safe_cut` points
    counts exactly as the whole text (shown by ``compressbench list``). Subclasses set ``unk_id``
    (None when the vocabulary has no unknown token) and build ``flags``, a :func:`flag_table` of the
    ids that are byte pieces or partial characters, in their constructor so that no sample's timing
    pays for it. The flag table spans the vocabulary: its length is ``vocab_size``, |V|.

    Besides N, each text reports how often each token id occurs (``ids``, for the information
    ledger) and its ``continued_words`` (:mod:`compressbench.adapters._words`), unless
    ``measure_ledger`` is off (``--no-ledger``).
    """

    modality = "text"
    concurrent_batches = True  # encode_batch runs on several threads already; the word cache tolerates it
    exact_pieces: ClassVar[bool] = True
    unk_id: int | None = None
    flags: np.ndarray
    measure_ledger: bool = True  # token-id counts and continued words (off: --no-ledger)

    @abstractmethod
    def encode_batch(self, texts: list[str]) -> Sequence[Ids]:
        """The token ids of each text, computed over all cores by the library's own batch call."""

    @property
    def vocab_size(self) -> int:
        """|V|: every id the tokenizer can produce, special and added tokens included."""
        return len(self.flags)

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "vocab_size": self.vocab_size}

    def word_lengths(self, words: list[str]) -> list[int]:
        """Tokens of each of ``words`` encoded alone (for continued words). Runs on the thread of a
        tally, so it must not wait on :func:`thread_map`'s pool (the library's own threads are fine)."""
        return [len(ids) for ids in self.encode_batch(words)]

    @property
    def continued(self) -> ContinuedWords:
        """This tokenizer's continued-word counter, with its cache of words seen."""
        if "_words" not in self.__dict__:
            self._words = ContinuedWords(self.word_lengths)
        return self._words

    def tally(self, text: str, ids: Ids) -> TokenCount:
        """N and the text counts of one text from its ids (unknown and byte tokens in one pass over them)."""
        table = self.__dict__.get("_kinds")
        if table is None:
            table = self._kinds = kind_table(self.flags, self.unk_id)
        arr = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64, count=len(ids))
        unk, byte = count_kinds(arr, table)
        words = text.split() if self.measure_ledger else None  # split once for the words and continued words
        counts = {**text_counts(text, words), "unk_tokens": unk, "byte_tokens": byte}
        if words is None:
            return TokenCount(tokens=len(ids), input_bytes=len(text.encode("utf-8")), counts=counts)
        counts["continued_words"] = self.continued.count(text, words)
        return TokenCount(tokens=len(ids), input_bytes=len(text.encode("utf-8")), counts=counts, ids=count_ids(arr))

    def count(self, payload: object) -> TokenCount:
        result = self.count_batch([payload])[0]
        if isinstance(result, SampleError):
            raise result
        return result

    def count_batch(self, payloads: Sequence[object]) -> list[TokenCount | SampleError]:
        """Count a batch: one parallel ``encode_batch`` over its texts, a streamed file piece by piece."""
        out: list[TokenCount | SampleError | str] = []
        for payload in payloads:
            if isinstance(payload, (str, TextFile)):
                out.append(payload if isinstance(payload, str) else self._count_file(payload))
            else:
                out.append(SampleError(f"text tokenizer got a {type(payload).__name__} payload, "
                                       "expected decoded text"))
        counted = iter(self.count_texts([p for p in out if isinstance(p, str)]))
        return [next(counted) if isinstance(p, str) else p for p in out]

    def count_texts(self, texts: list[str]) -> list[TokenCount]:
        """The counts of several texts: one parallel ``encode_batch`` over all of them, then each tallied.
        The tally is Python, under the GIL; the runner keeps the cores busy meanwhile by encoding the next
        batch (:func:`~compressbench.measure.measure_batches`: the libraries release the GIL)."""
        return [self.tally(text, ids) for text, ids in zip(texts, self.encode_batch(texts))]

    def _count_file(self, payload: TextFile) -> TokenCount | SampleError:
        """A streamed text: pieces encoded a group of one per core at a time (one parallel call per group, the
        next group's while this one is tallied), counts summed. A group's result holds its counts, not its
        text, so at most three groups of pieces are held: one being read and two in flight."""
        total: dict[str, float] = {"forced_cuts": 0}
        ids: dict[int, int] | None = {} if self.measure_ledger else None
        tokens = input_bytes = 0
        before = [_Tail()]  # how the pieces read so far end

        def counting(group: list[tuple[str, bool]]) -> Callable[[], list[tuple[bool, dict[str, float], TokenCount]]]:
            tails = []
            for text, _ in group:
                tails.append(before[0])
                before[0] = before[0].then(text)
            return lambda: [(exact, self._seam(tail, text, counted), counted) for (text, exact), tail, counted
                            in zip(group, tails, self.count_texts([text for text, _ in group]))]

        try:
            for counted_group in overlapped(map(counting, _groups(payload.pieces(), cores())), 2):
                if stopping():  # the run stopped (Ctrl-C): this count will not be read
                    return SampleError("stopped before the end of the file")
                for exact, seam, counted in counted_group:
                    tokens, input_bytes = tokens + counted.tokens, input_bytes + counted.input_bytes
                    for key, value in (*counted.counts.items(), *seam.items()):
                        total[key] = total.get(key, 0) + value
                    if ids is not None:
                        add_counts(ids, counted.ids or {})
                    if not exact:
                        total["forced_cuts"] += 1
        except SampleError as exc:
            return exc
        except OSError as exc:
            return SampleError(f"cannot read ({exc.strerror or exc})")
        return TokenCount(tokens=tokens, input_bytes=input_bytes, counts=total, ids=ids)

    def _seam(self, tail: "_Tail", text: str, counted: TokenCount) -> dict[str, float]:
        """What a piece's counts change where it joins the pieces before it (which end as ``tail`` says)."""
        if not tail.last or text[0].isspace():
            return {}
        if not tail.last.isspace():  # a forced cut inside a word: one word, not two, and a continued one
            seam = {"words": -1} if "words" in counted.counts else {}
            if "continued_words" in counted.counts:  # the fragments' own counts give way to the joined word's
                head = int(self.continued.is_continued(text.split(None, 1)[0], spaced=False))
                before = 1 if tail.joined else int(self.continued.is_continued(tail.word, spaced=tail.spaced))
                seam["continued_words"] = 1 - before - head
            return seam
        if "continued_words" in counted.counts:  # a cut after a newline: in the whole text this word follows it
            return {"continued_words": -self.continued.first_word_change(text.split(None, 1)[0])}
        return {}


@dataclass(frozen=True)
class _Tail:
    """How the pieces of a streamed text read so far end: the last character, the last word, whether that
    word was counted as following whitespace (``spaced``), and whether it is fragments joined across forced
    cuts (``joined``: counted once, as one continued word)."""

    last: str = ""
    word: str = ""
    spaced: bool = False
    joined: bool = False

    def then(self, text: str) -> "_Tail":
        """How the pieces end once ``text`` follows them."""
        if text[-1].isspace():
            return _Tail(last=text[-1])
        parts = text.rsplit(None, 1)
        if len(parts) == 2 or text[0].isspace():  # the last word follows whitespace within the piece
            return _Tail(text[-1], parts[-1], spaced=True)
        if self.last and not self.last.isspace():  # one word, continuing the one before a forced cut
            return _Tail(text[-1], parts[-1], joined=True)
        return _Tail(text[-1], parts[-1], spaced=bool(self.last))  # after a newline cut, or the text's first


class FileTextTokenizer(TextTokenizer):
    """A text tokenizer defined by one file (the spec's argument ``path``), identified by the file's sha256."""

    argument = "path"
    file_kind: ClassVar[str]  # what the file is, for errors: "SentencePiece model"

    def __init__(self, config: Any, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        path = existing_file(self.resolve(config.path), f"a {self.file_kind}")
        try:
            self.load(path)
        except Exception as exc:  # back-ends raise bare Exception, RuntimeError or OSError on a bad file
            raise ConfigError(f"{config.path}: not a valid {self.file_kind} ({first_line(exc)})") from None
        self._sha256 = sha256_of_file(path)

    @abstractmethod
    def load(self, path: Path) -> None:
        """Load the back-end from ``path``; set ``unk_id`` and ``flags``."""

    def fingerprint(self) -> str:
        return self._sha256


def _groups(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    group: list[Any] = []
    for item in items:
        group.append(item)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def text_counts(text: str, words: list[str] | None = None) -> dict[str, float]:
    """Characters (code points) and whitespace-separated words, for chars/token and fertility
    (``words``: ``text.split()`` where the caller has it already)."""
    return {"chars": len(text), "words": word_count(text) if words is None else len(words)}


_LAST_SPACE = 0x3000  # U+3000 IDEOGRAPHIC SPACE: the highest code point str.isspace() accepts
_SPACE = np.array([chr(c).isspace() for c in range(_LAST_SPACE + 1)] + [False])  # last: any code point above


def word_count(text: str) -> int:
    """``len(text.split())`` (words separated by Unicode whitespace) without building the list of words:
    vectorised over the code points, about twice as fast.

    >>> word_count(" héllo\\u3000wörld \\n 人 "), len(" héllo\\u3000wörld \\n 人 ".split())
    (3, 3)
    """
    if not text:
        return 0
    if text.isascii():
        points = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    else:  # UTF-16 (half the bytes of UTF-32 to write): a surrogate pair is two non-spaces, as its character is one
        points = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    space = _SPACE.take(points, mode="clip")  # a code unit above the table reads its last entry (not a space)
    return int(np.count_nonzero(space[:-1] > space[1:])) + (0 if space[0] else 1)  # a space, then a non-space


def partial_character(piece: bytes) -> bool:
    """Whether a token's bytes are not whole UTF-8 characters (part of a character, or a stray byte)."""
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def flag_table(size: int, flag: Callable[[int], bool]) -> np.ndarray:
    """A boolean array over token ids, computed once per vocabulary."""
    return np.fromiter((flag(i) for i in range(size)), dtype=bool, count=size)


_BYTE, _UNK = 1, 2  # bits of a kind_table entry


def kind_table(flags: np.ndarray, unk_id: int | None) -> np.ndarray:
    """Per token id, bit 1 for a byte piece or partial character (``flags``) and bit 2 for the unknown
    token; one more entry, 0, stands for every id outside the vocabulary (read with ``mode="clip"``).

    >>> kind_table(np.array([False, True, False]), 0).tolist()
    [2, 1, 0, 0]
    """
    table = np.zeros(len(flags) + 1, dtype=np.uint8)
    table[:-1][flags] = _BYTE
    if unk_id is not None and 0 <= unk_id < len(flags):
        table[unk_id] |= _UNK
    return table


def count_kinds(ids: Ids, table: np.ndarray) -> tuple[int, int]:
    """How many of ``ids`` are the unknown token, and how many are byte pieces, by :func:`kind_table`.

    >>> count_kinds([0, 1, 1, 2, 7], kind_table(np.array([False, True, False]), 0))
    (1, 2)
    """
    arr = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64, count=len(ids))
    kinds = table.take(arr, mode="clip")
    if not np.count_nonzero(kinds):  # most texts: no unknown nor byte token (a quarter of the bincount's time)
        return 0, 0
    tally = np.bincount(kinds, minlength=4)
    return int(tally[_UNK] + tally[_BYTE | _UNK]), int(tally[_BYTE] + tally[_BYTE | _UNK])
