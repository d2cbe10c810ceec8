"""Function-to-function HTTP (JSON in, JSON out) with a timeout and the caller's trace.

Standard library only (urllib), so a function that calls another imports nothing heavy. The
`traceparent` of the request being served is passed on, so both functions log one trace id.
A connection failure or timeout becomes `Unreachable`; any HTTP answer, error or not, is
returned for the caller to interpret.
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

from . import logs
from .config import env_float

log = logs.get("fnkit.service_client")


@dataclass(frozen=True)
class Reply:
    status: int
    body: object  # parsed JSON, or None for an empty or non-JSON body

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Unreachable(RuntimeError):
    """No HTTP answer (refused, reset, timed out): the callee may or may not have acted."""


def _traceparent() -> str | None:
    from flask import g, has_request_context

    return g.get("traceparent") if has_request_context() else None


def call(method: str, url: str, body: object | None = None, timeout: float | None = None) -> Reply:
    headers = {"Accept": "application/json, application/problem+json"}
    data = None
    if body is not None:
        data = json.dumps(body, separators=(",", ":")).encode()
        headers["Content-Type"] = "application/json"
    traceparent = _traceparent()
    if traceparent:
        headers["traceparent"] = traceparent
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    seconds = timeout if timeout is not None else env_float("SERVICE_CALL_TIMEOUT_SECONDS")
    try:
        with urllib.request.urlopen(request, timeout=seconds) as response:
            return Reply(response.status, _parse(response.read()))
    except urllib.error.HTTPError as error:  # an answer with a 4xx/5xx status
        with error:
            return Reply(error.code, _parse(error.read()))
    except (urllib.error.URLError, socket.timeout, ConnectionError, TimeoutError) as error:
        log.warning("service call failed", extra={"method": method, "url": url, "error": str(error)})
        raise Unreachable(f"{method} {url}: {error}") from error


def _parse(raw: bytes) -> object:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
