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
        self.cache: dict[str, bool] = {}  # key: " word" (after a space) or "word" (a text's start)

    def continued(self, keys: list[str]) -> list[bool]:
        """Whether each key (a word, with its leading space if it has one) takes more than one token."""
        cache = self.cache
        missing = list(dict.fromkeys(k for k in keys if k not in cache))
        if missing:
            if len(cache) + len(missing) > self.capacity:
                cache.clear()  # bounded memory; the next texts fill it again
            for key, n in zip(missing, self.lengths(missing)):
                cache[key] = n > 1
        return [cache[k] if k in cache else self.lengths([k])[0] > 1 for k in keys]

    def count(self, text: str) -> int:
        """How many word occurrences of ``text`` are continued."""
        words = text.split()
        if not words:
            return 0
        occurrences = Counter(words)
        keys = [" " + w for w in occurrences]
        total = sum(n for n, multi in zip(occurrences.values(), self.continued(keys)) if multi)
        if not text[0].isspace():  # the first word has no space before it
            total += self.first_word_change(words[0])
        return total

    def first_word_change(self, word: str) -> int:
        """How the continued count changes when ``word`` stands without its leading space (−1, 0 or 1)."""
        spaced, bare = self.continued([" " + word, word])
        return int(bare) - int(spaced)
