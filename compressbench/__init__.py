"""compressbench: how many tokens will this data cost, under which tokenizer?

Measures, per sample, the raw size T (bytes), the token count N and the
compression factor C = T / N, for text, audio, image and video tokenizers.

>>> from compressbench import get_tokenizer
>>> tok = get_tokenizer("bytes")
>>> tok.family
'bytes'
"""

from compressbench._version import __version__
from compressbench.core.errors import CompressbenchError, ConfigError, SampleError
from compressbench.core.registry import get_tokenizer, list_families

__all__ = [
    "__version__",
    "CompressbenchError",
    "ConfigError",
    "SampleError",
    "get_tokenizer",
    "list_families",
]
