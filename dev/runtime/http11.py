"""Just enough HTTP/1.1 for a fast loopback proxy: heads parsed by hand, bodies by
Content-Length or chunked, one send per message.

The stdlib's http.server and http.client parse every head through the email package, which
costs more than the whole rest of a hop; a proxy only needs names, values and framing.
"""
from __future__ import annotations

import socket

MAX_HEAD_LINES = 200
MAX_LINE = 65536
NO_BODY_STATUSES = frozenset({204, 304})


class BadMessage(Exception):
    """The peer sent something that is not HTTP/1.x."""


class TooLarge(BadMessage):
    """A body over the limit: 413, not 400."""


class Headers:
    """Header fields in order, looked up case-insensitively (first value wins, as in Envoy)."""

    __slots__ = ("_items", "_index")

    def __init__(self, items: list[tuple[str, str]] | None = None):
        self._items = items or []
        self._index: dict[str, str] | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        if self._index is None:
            index: dict[str, str] = {}
            for key, value in self._items:
                index.setdefault(key.lower(), value)
            self._index = index
        return self._index.get(name.lower(), default)

    def items(self) -> list[tuple[str, str]]:
        return self._items

    def __delitem__(self, name: str) -> None:
        lowered = name.lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != lowered]
        self._index = None

    def __setitem__(self, name: str, value: str) -> None:
        self._items.append((name, value))
        self._index = None

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None


def read_head(rfile) -> tuple[str, Headers] | None:
    """The start line and header fields; None when the peer closed between messages."""
    line = rfile.readline(MAX_LINE + 1)
    while line in (b"\r\n", b"\n"):  # tolerate stray empty lines between messages (RFC 9112)
        line = rfile.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE:
        raise BadMessage("start line too long")
    items = []
    for _ in range(MAX_HEAD_LINES):
        raw = rfile.readline(MAX_LINE + 1)
        if raw in (b"\r\n", b"\n"):
            return line.decode("latin-1").rstrip("\r\n"), Headers(items)
        if not raw:
            raise BadMessage("connection closed inside the head")
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise BadMessage(f"malformed header line {raw[:60]!r}")
        items.append((name, value.strip()))
    raise BadMessage("too many header lines")


def read_body(rfile, headers: Headers, limit: int) -> bytes:
    if (headers.get("transfer-encoding") or "").lower().endswith("chunked"):
        return _read_chunked(rfile, limit)
    length = headers.get("content-length")
    if not length:
        return b""
    try:
        size = int(length)
    except ValueError:
        raise BadMessage("bad Content-Length") from None
    if size > limit:
        raise TooLarge(f"body larger than {limit} bytes")
    body = rfile.read(size)
    if len(body) != size:
        raise BadMessage("connection closed inside the body")
    return body


def _read_chunked(rfile, limit: int) -> bytes:
    chunks, total = [], 0
    while True:
        size_line = rfile.readline(MAX_LINE)
        if not size_line:
            raise BadMessage("connection closed inside a chunked body")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                pass  # trailer fields: dropped, as most proxies do
            return b"".join(chunks)
        total += size
        if total > limit:
            raise TooLarge(f"body larger than {limit} bytes")
        chunks.append(rfile.read(size))
        rfile.readline(MAX_LINE)


class UpstreamConnection:
    """One keep-alive connection to an instance (Nagle off: requests leave in one segment)."""

    def __init__(self, port: int, timeout: float | None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")

    def settimeout(self, timeout: float | None) -> None:
        self.sock.settimeout(timeout)

    def exchange(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes):
        """Send a request; returns (status, reason, headers, body, keep_alive)."""
        lines = [f"{method} {target} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in headers]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        while True:
            head = read_head(self.rfile)
            if head is None:
                raise ConnectionResetError("the instance closed the connection before answering")
            start, fields = head
            version, _, rest = start.partition(" ")
            code, _, reason = rest.partition(" ")
            if not version.startswith("HTTP/1.") or not code.isdigit():
                raise BadMessage(f"not an HTTP response: {start[:60]!r}")
            status = int(code)
            if status >= 200 or status == 101:
                break  # 1xx informational answers (100 Continue) are skipped
        keep_alive = version == "HTTP/1.1" and (fields.get("connection") or "").lower() != "close"
        if method == "HEAD" or status in NO_BODY_STATUSES or 100 <= status < 200:
            payload = b""
        elif fields.get("content-length") is None and "chunked" not in (fields.get("transfer-encoding") or "").lower():
            payload, keep_alive = self.rfile.read(), False  # delimited by close
        else:
            payload = read_body(self.rfile, fields, 1 << 31)
        return status, reason, fields, payload, keep_alive

    def close(self) -> None:
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass
