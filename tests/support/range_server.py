"""A tiny HTTP server on 127.0.0.1 that honours `Range: bytes=a-b` (206 Partial Content).

`python -m http.server` ignores Range, so ffmpeg's input seeking silently reads from the start (or
yields no frame). This one serves the files of one directory, counts the bytes it actually wrote
per file and records each request's range, so tests and the benchmark can assert that probing and
poster extraction read a small fraction of a file.

    with RangeServer(directory) as server:
        url = server.url("clip.mp4")
        ...
        server.bytes_sent("clip.mp4")
"""

from __future__ import annotations

import re
import socket
import threading
from collections import defaultdict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, unquote

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeServer:
    def __init__(self, root: Path, *, send_buffer: int | None = 64 * 1024) -> None:
        self.root = Path(root).resolve()
        self.send_buffer = send_buffer
        self._lock = threading.Lock()
        self._sent: dict[str, int] = defaultdict(int)
        self.requests: list[tuple[str, str | None]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> RangeServer:
        server = self

        class Handler(_RangeHandler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="range-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> RangeServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- accounting ------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{quote(name)}"

    def bytes_sent(self, name: str | None = None) -> int:
        with self._lock:
            return sum(self._sent.values()) if name is None else self._sent.get(name, 0)

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()
            self.requests.clear()

    def _count(self, name: str, n: int) -> None:
        with self._lock:
            self._sent[name] += n

    def _record(self, name: str, rng: str | None) -> None:
        with self._lock:
            self.requests.append((name, rng))


class _RangeHandler(BaseHTTPRequestHandler):
    owner: RangeServer
    server_version = "RangeServer/1.0"

    def setup(self) -> None:
        if self.owner.send_buffer:
            # A small kernel send buffer keeps "bytes written" close to "bytes the client read".
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.owner.send_buffer)
        super().setup()

    def log_message(self, format: str, *args: object) -> None:
        return

    def _target(self) -> tuple[str, Path] | None:
        name = unquote(self.path.split("?", 1)[0].lstrip("/"))
        if not name or "/" in name or name.startswith("."):
            return None
        path = self.owner.root / name
        return (name, path) if path.is_file() else None

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, *, body: bool) -> None:
        target = self._target()
        if target is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        name, path = target
        size = path.stat().st_size
        header = self.headers.get("Range")
        self.owner._record(name, header)
        start, end, status = 0, size - 1, HTTPStatus.OK
        if header:
            match = _RANGE.match(header.strip())
            if not match or (not match.group(1) and not match.group(2)):
                self.send_error(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                return
            first, last = match.group(1), match.group(2)
            if first:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
            else:  # suffix range: the last N bytes
                start = max(0, size - int(last))
            if start >= size or start > end:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = HTTPStatus.PARTIAL_CONTENT
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not body:
            return
        with path.open("rb") as fh:
            fh.seek(start)
            remaining = length
            while remaining > 0:
                chunk = fh.read(min(CHUNK, remaining))
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    return
                self.owner._count(name, len(chunk))
                remaining -= len(chunk)
