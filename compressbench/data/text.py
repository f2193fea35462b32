"""Decoding text samples: UTF-8 by default, or a named encoding; T = UTF-8 bytes of the text.

>>> decode_text(b"caf\\xc3\\xa9", encoding="utf-8").raw_bytes
5
>>> decode_text(b"caf\\xe9", encoding="latin-1").raw_bytes  # T counts the UTF-8 form
5
"""

from __future__ import annotations

import codecs

from compressbench.core.errors import SampleError
from compressbench.data.decoded import Decoded
from compressbench.data.textfile import STREAM_ABOVE_BYTES


_BOM_ONLY = "holds only a byte-order mark (U+FEFF): nothing to tokenize"


def decode_text(data: bytes, *, encoding: str = "utf-8", stream_above_bytes: int = STREAM_ABOVE_BYTES) -> Decoded:
    """Decode bytes to text; invalid bytes are a sample error naming the offset.

    Files larger than ``stream_above_bytes`` never get here: they are read in pieces
    (:mod:`compressbench.data.textfile`), so their memory is bounded by a piece, not the file.
    """
    if not data:
        raise SampleError("empty file (0 bytes): nothing to tokenize")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SampleError(
            f"not valid {exc.encoding} text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            f"({exc.reason}); set the dataset's encoding if the file is not {encoding}"
        ) from None
    except LookupError:
        raise SampleError(f"unknown text encoding {encoding!r}") from None
    bom = text.startswith("\ufeff")
    if bom:  # a byte-order mark is not content
        text = text[1:]
        if not text:
            raise SampleError(_BOM_ONLY)
    if codecs.lookup(encoding).name == "utf-8":  # the file's bytes are the UTF-8 form: no re-encoding
        return Decoded(payload=text, raw_bytes=len(data) - (3 if bom else 0))
    return Decoded(payload=text, raw_bytes=len(text.encode("utf-8")))


def record_text(text: str, data: bytes, **options: object) -> Decoded:
    """A record's text field, already decoded (a JSON string, a Parquet string column), with ``data`` its
    UTF-8 bytes: what :func:`decode_text` would make of ``data``, without decoding it again.

    >>> record_text("\ufeffab", "\ufeffab".encode()) == decode_text("\ufeffab".encode())
    True
    """
    if text.startswith("\ufeff"):  # a byte-order mark is not content
        if len(text) == 1:
            raise SampleError(_BOM_ONLY)
        return Decoded(payload=text[1:], raw_bytes=len(data) - 3)
    return Decoded(payload=text, raw_bytes=len(data))
