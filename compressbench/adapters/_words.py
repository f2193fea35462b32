"""Continued words: word occurrences a tokenizer splits into more than one token.

A text's words are its whitespace-separated words (``str.split()``, as ``words`` counts them).
Each is encoded alone with the leading space it has in running text (the first word of a text
without one, unless the text starts with whitespace); a word that takes more than one token is
continued (Rust et al., 2021, "proportion of continued words"). Whether a word is continued depends
only on the word and the tokenizer, so it is looked up in a cache: a corpus costs one encode per
distinct word, not per occurrence.

>>> words = ContinuedWords(lambda keys: [len(k.encode()) for k in keys])  # bytes: 1 token per byte
>>> words.count("a bb a"), words.count(" a")  # "a"; " bb", " a": 2 tokens each
(2, 1)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

CACHE_WORDS = 1 << 20  # distinct (word, space) pairs kept per tokenizer; the cache starts over when full


class ContinuedWords:
    """Counts continued words with ``lengths`` (tokens of each of a list of strings), caching each word."""

    def __init__(self, lengths: Callable[[list[str]], list[int]], capacity: int = CACHE_WORDS) -> None:
        self.lengths, self.capacity = lengths, capacity
        self.spaced: dict[str, bool] = {}  # word -> whether " word" takes more than one token
        self.bare: dict[str, bool] = {}  # word -> whether "word" (a text's first) takes more than one

    def lookup(self, cache: dict[str, bool], words: list[str], prefix: str) -> list[bool]:
        """Whether each of ``words``, after ``prefix``, takes more than one token: the cache's answer, or
        the tokenizer's for words not in it (then cached). The answer never depends on another thread
        clearing the cache meanwhile."""
        values = [cache.get(w) for w in words]
        missing = [w for w, v in zip(words, values) if v is None]
        if not missing:
            return values  # type: ignore[return-value]
        computed = {w: n > 1 for w, n in zip(missing, self.lengths([prefix + w for w in missing]))}
        if len(cache) + len(computed) > self.capacity:
            cache.clear()  # bounded memory; the next texts fill it again
        if len(computed) <= self.capacity:
            cache.update(computed)
        return [computed[w] if v is None else v for w, v in zip(words, values)]

    def count(self, text: str, words: list[str] | None = None) -> int:
        """How many word occurrences of ``text`` are continued (``words``: ``text.split()``, if in hand)."""
        words = text.split() if words is None else words
        if not words:
            return 0
        cache = self.spaced
        try:  # every word seen before: a lookup per occurrence, all in C
            total = sum(map(cache.__getitem__, words))
        except KeyError:  # new words: each distinct one encoded once, then the same lookup
            self.lookup(cache, sorted(set(words).difference(cache)), " ")
            try:
                total = sum(map(cache.__getitem__, words))
            except KeyError:  # the cache started over meanwhile (full): count from the answers in hand
                occurrences = Counter(words)
                continued = self.lookup(cache, list(occurrences), " ")
                total = sum(n for n, multi in zip(occurrences.values(), continued) if multi)
        if not text[0].isspace():  # the first word has no space before it
            total += self.first_word_change(words[0])
        return total

    def is_continued(self, word: str, *, spaced: bool) -> bool:
        """Whether ``word`` takes more than one token, after a space (``spaced``) or alone."""
        return self.lookup(self.spaced if spaced else self.bare, [word], " " if spaced else "")[0]

    def first_word_change(self, word: str) -> int:
        """How the continued count changes when ``word`` stands without its leading space (−1, 0 or 1)."""
        return int(self.is_continued(word, spaced=False)) - int(self.is_continued(word, spaced=True))
