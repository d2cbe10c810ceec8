"""Send one request to a revision (through its pool, which may scale it from zero) and bring
back the response, or say how the try failed so the gateway can apply the route's retries."""
from __future__ import annotations

import time
from dataclasses import dataclass

from .http11 import BadMessage
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
            try:
                conn, reused = instance.connection(timeout)
            except TimeoutError:
                raise TryFailed("timeout", f"connecting to {instance.label} took over {timeout:.3g}s") from None
            except OSError as exc:
                raise TryFailed("connect-failure", f"{instance.label}: {exc}") from None
            try:
                status, reason, fields, payload, keep_alive = conn.exchange(method, target, headers, body)
            except TimeoutError:  # socket.timeout is TimeoutError: the instance is still working on it
                conn.close()
                raise TryFailed("timeout", f"no response from {instance.label} within {timeout:.3g}s") from None
            except (OSError, BadMessage) as exc:
                conn.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle kept-alive connection: not a failure of the request
                raise TryFailed("reset", f"{instance.label}: {exc.__class__.__name__}: {exc}") from None
            if keep_alive:
                instance.give_back(conn)
            else:
                conn.close()
            dropped = HOP_BY_HOP - {"content-length"} if method == "HEAD" else HOP_BY_HOP  # HEAD: the GET's length
            return UpstreamResponse(status, reason, [(k, v) for k, v in fields.items() if k.lower() not in dropped],
                                    payload, (time.perf_counter() - started) * 1000, instance.label)
        raise AssertionError("unreachable")
    finally:
        pool.release(instance)
