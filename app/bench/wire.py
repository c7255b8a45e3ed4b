"""KeepAlive: one HTTP/1.1 keep-alive connection that posts pre-built requests, for the load generator.

The bench client shares the machine's two cores with the server it measures, so its cost per
request is the server's loss: http.client spent about 0.5 ms of client CPU per webhook (header
objects, the email-style parser), this spends a few tens of microseconds. It only has to talk to
gunicorn: Content-Length bodies (no chunked encoding), and a fresh connection when the server
closes one.
"""
from __future__ import annotations

import socket
from urllib.parse import urlsplit

TIMEOUT_S = 10.0
_END = b"\r\n\r\n"


class ServerClosed(ConnectionError):
    """The server closed the connection before (or while) answering."""


class KeepAlive:
    """POST pre-built requests on one socket; `post()` returns (status, body)."""

    def __init__(self, url: str, timeout_s: float = TIMEOUT_S) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError(f"the bench talks plain http to a local server, got {url!r}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout_s = timeout_s
        self._sock: socket.socket | None = None      # connected on the first post, again after close
        self._buffer = b""

    def request_bytes(self, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        """The whole request, built once per webhook."""
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def post(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and read its answer (connecting first when needed)."""
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.sendall(request)
        head = self._read_head()
        status = int(head[9:12])
        length, closing = _content_length(head), b"\nconnection: close" in head.lower()
        body = self._read(length)
        if closing:
            self.close()
        return status, body

    def close(self) -> None:
        """Close the socket; the next post() opens a new one."""
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buffer = None, b""

    def _read_head(self) -> bytes:
        while _END not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(_END, 1)
        return head

    def _read(self, length: int) -> bytes:
        while len(self._buffer) < length:
            self._fill()
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return body

    def _fill(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ServerClosed("the server closed the connection")
        self._buffer += chunk


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0
