"""Send one request to a revision (through its pool, which may scale it from zero) and bring
back the response, or say how the try failed so the gateway can apply the route's retries."""
from __future__ import annotations

import http.client
import socket
import time
from dataclasses import dataclass

from .instance import StartFailed
from .pool import RevisionPool

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "transfer-encoding", "upgrade", "proxy-connection", "content-length"})


@dataclass
class UpstreamResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    upstream_ms: float
    instance: str


@dataclass
class TryFailed(Exception):
    kind: str  # connect-failure | reset | timeout | no-instance | start-failed
    detail: str

    @property
    def connected(self) -> bool:
        return self.kind in ("reset", "timeout")


def send(pool: RevisionPool, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
         deadline: float, per_try_timeout: float | None) -> UpstreamResponse:
    try:
        instance = pool.acquire(deadline)
    except TimeoutError as exc:
        raise TryFailed("no-instance", str(exc)) from None
    except StartFailed as exc:
        raise TryFailed("start-failed", str(exc)) from None
    try:
        remaining = max(deadline - time.monotonic(), 0.001)
        timeout = min(remaining, per_try_timeout) if per_try_timeout else remaining
        started = time.perf_counter()
        for attempt in (1, 2):
            conn, reused = instance.connection(timeout)
            try:
                response = _exchange(conn, method, target, headers, body)
                payload = response.read()
            except (socket.timeout, TimeoutError):
                conn.close()
                raise TryFailed("timeout", f"no response from {instance.label} within {timeout:.3g}s") from None
            except (ConnectionRefusedError, http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.BadStatusLine) as exc:
                conn.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle kept-alive connection: not a failure of the request
                kind = "connect-failure" if isinstance(exc, ConnectionRefusedError) else "reset"
                raise TryFailed(kind, f"{instance.label}: {exc.__class__.__name__}: {exc}") from None
            except OSError as exc:
                conn.close()
                raise TryFailed("connect-failure", f"{instance.label}: {exc}") from None
            if response.will_close:
                conn.close()
            else:
                instance.give_back(conn)
            return UpstreamResponse(
                response.status, response.reason,
                [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP],
                payload, (time.perf_counter() - started) * 1000, instance.label,
            )
        raise AssertionError("unreachable")
    finally:
        pool.release(instance)


def _exchange(conn: http.client.HTTPConnection, method: str, target: str, headers, body: bytes):
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for name, value in headers:
        conn.putheader(name, value)
    if body or method in ("POST", "PUT", "PATCH"):
        conn.putheader("Content-Length", str(len(body)))
    # Headers and body leave in one send(): no Nagle / delayed-ACK interplay on small requests.
    conn.endheaders(body or None)
    return conn.getresponse()
