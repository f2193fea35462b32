"""A static file server on 127.0.0.1 with HTTP range requests (what fsspec's HTTP file system reads Parquet
and zip with), in a thread that stops with the test."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    def send_head(self):  # type: ignore[override]
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if not match or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        start, end = int(match.group(1)), min(int(match.group(2) or size - 1), size - 1)
        fh = path.open("rb")
        fh.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._remaining = end - start + 1
        return fh

    def copyfile(self, source, outputfile):  # type: ignore[override]
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            return super().copyfile(source, outputfile)
        outputfile.write(source.read(remaining))

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` at the URL yielded, until the block ends."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_RangeHandler, directory=os.fspath(folder)))
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
