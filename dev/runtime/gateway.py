"""The local ingress gateway: one threaded HTTP/1.1 server on loopback that does what the Istio
ingress gateway plus Knative's activator do in the cluster.

Per request: gateway-scoped JWT checks and AuthorizationPolicies, the first matching
VirtualService rule, its destination (by weight), the Knative Service and revision behind it
(by the rewritten authority and spec.traffic), workload-scoped policies, then the forward with
the rule's timeout and retries. Errors the gateway itself produces are application/problem+json.

Nagle is off on both sides and a response leaves in one write: without that a stdlib server
stalls about 40 ms per request (Nagle + delayed ACK).
"""
from __future__ import annotations

import json
import random
import socketserver
import time
import traceback
import uuid
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from .authz import RequestFacts, decide
from .http11 import BadMessage, TooLarge, read_body, read_head
from .jwt_auth import Identity, JwtRejected
from .routes import HeaderOps, Retries
from .scopes import Workload
from .upstream import TryFailed, UpstreamResponse, send

PROBLEM_TYPE_BASE = "https://fnshop.example/problems/"
MAX_BODY_BYTES = 10 * 1024 * 1024


class Refusal(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: list[tuple[str, str]] = ()):
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, list(headers)


class GatewayServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # a burst of new connections must not be refused by the backlog

    def __init__(self, address, runtime):
        self.runtime = runtime
        super().__init__(address, GatewayHandler)


class GatewayHandler(socketserver.StreamRequestHandler):
    """One client connection: HTTP/1.1 requests in sequence (keep-alive), one thread."""
    disable_nagle_algorithm = True
    timeout = 600  # an idle client connection is closed after this long

    def handle(self) -> None:
        while True:
            try:
                head = read_head(self.rfile)
            except (BadMessage, UnicodeDecodeError):
                self._reply_and_close(problem(400, "Bad request", "malformed HTTP request head"))
                return
            except OSError:  # reset or idle timeout
                return
            if head is None:
                return
            start, self.headers = head
            parts = start.split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                self._reply_and_close(problem(400, "Bad request", f"not an HTTP/1.x request line: {start[:80]!r}"))
                return
            self.command, self.path, version = parts
            connection = (self.headers.get("connection") or "").lower()
            self.close_connection = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
            if (self.headers.get("expect") or "").lower() == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            try:
                self._handle()
            except OSError:  # the client went away mid-answer
                return
            if self.close_connection:
                return

    def _reply_and_close(self, response: UpstreamResponse) -> None:
        self.command, self.close_connection = "GET", True
        try:
            self._reply(response, time.perf_counter())
        except OSError:
            pass

    def _handle(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
            response = self._route(body)
        except Refusal as refusal:
            response = problem(refusal.status, refusal.title, refusal.detail, self._path(), refusal.headers)
        except Exception as exc:  # a bug of the runtime: say so in the answer and in the console
            traceback.print_exc()
            response = problem(500, "Gateway error", f"{exc.__class__.__name__}: {exc}", self._path())
        self._reply(response, started)

    def _route(self, body: bytes) -> UpstreamResponse:
        runtime = self.server.runtime
        path, query = self._path(), urlsplit(self.path).query
        if path.startswith("/_runtime/"):
            return self._internal(path, query, body)
        identity, query = self._authenticate(Workload.gateway(), query, None)
        return self._dispatch(runtime.routes, path, query, body, identity)

    def _dispatch(self, routes, path: str, query: str, body: bytes, identity) -> UpstreamResponse:
        """The first matching rule, its destination, the revision behind it, the forward."""
        runtime = self.server.runtime
        params = _query_dict(query)
        matched = next(((r, m) for r in routes if (m := r.match(self.command, path, self.headers, params))), None)
        if matched is None:
            raise Refusal(404, "Not found", f"no route of the gateway matches {self.command} {path}")
        route, match = matched
        if route.direct_response:
            status, text = route.direct_response
            return UpstreamResponse(status, "", [("Content-Type", "text/plain")], text.encode(), 0.0, "")
        destination = route.pick_destination()
        target = runtime.resolve(route, destination)
        if target is None:
            raise Refusal(503, "No healthy upstream", f"route {route.name} points at {destination.host}, "
                          "which is no Knative Service the runtime knows")
        service, pool = target
        workload = Workload.revision(service.namespace, service.name, pool.revision.name)
        identity, query = self._authenticate(workload, query, identity)
        new_path = route.rewritten_path(path, match)
        upstream_headers = self._upstream_headers(runtime.authority_of(route, destination, service), path, new_path,
                                                  [route.request_headers, destination.request_headers])
        timeout = min(route.timeout, pool.revision.timeout_seconds) if route.timeout else pool.revision.timeout_seconds
        response = forward_with_retries(pool, self.command, new_path + (f"?{query}" if query else ""),
                                        upstream_headers, body, timeout, route.retries)
        for ops in (route.response_headers, destination.response_headers):
            response.headers = apply_header_ops(response.headers, ops)
        return response

    def _internal(self, path: str, query: str, body: bytes) -> UpstreamResponse:
        """/_runtime/status, and /_runtime/services/<host>/...: what a cluster-local URL
        (http://<host>.<ns>.svc...) in the manifests' env becomes locally. <host> is a Knative
        Service (or tag), or the host of a mesh VirtualService routing to several."""
        runtime = self.server.runtime
        if path.rstrip("/") == "/_runtime/status":
            return json_response(runtime.status())
        prefix = "/_runtime/services/"
        name, _, rest = path[len(prefix):].partition("/") if path.startswith(prefix) else ("", "", "")
        found = runtime.service_for_host(name, None) if name else None
        if found:
            service, pool = runtime.pool_for(*found)
            headers = self._upstream_headers(f"{service.name}.{service.namespace}.svc.cluster.local", "/" + rest, "/" + rest, [])
            return forward_with_retries(pool, self.command, "/" + rest + (f"?{query}" if query else ""), headers, body,
                                        pool.revision.timeout_seconds, Retries.parse(None))
        if name in runtime.mesh_routes:
            return self._dispatch(runtime.mesh_routes[name], "/" + rest, query, body, Identity())
        raise Refusal(404, "Not found", f"no such runtime endpoint or cluster-local host: {path}")

    def _authenticate(self, workload: Workload, query: str, identity):
        runtime, headers = self.server.runtime, self.headers
        try:
            new_identity, query = runtime.authenticator.authenticate(workload, headers, query)
        except JwtRejected as exc:
            raise Refusal(401, "Unauthorized", str(exc), [("WWW-Authenticate", 'Bearer error="invalid_token"')]) from None
        identity = new_identity if new_identity.claims or identity is None else identity
        facts = RequestFacts(self.command, self._path(), runtime.public_host_of(headers.get("host", "")), headers,
                             self.client_address[0], identity)
        refused = decide(runtime.policies, workload, facts)
        if refused:
            raise Refusal(403, "Forbidden", f"RBAC: access denied ({refused})")
        return identity, query

    def _upstream_headers(self, authority: str, path: str, new_path: str, ops: list[HeaderOps]) -> list[tuple[str, str]]:
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _DROPPED_REQUEST_HEADERS]
        forwarded_for = self.headers.get("x-forwarded-for")
        client = self.client_address[0]
        headers += [("Host", authority), ("X-Forwarded-For", f"{forwarded_for}, {client}" if forwarded_for else client),
                    ("X-Forwarded-Proto", self.headers.get("x-forwarded-proto", "http")),
                    ("X-Request-Id", self.headers.get("x-request-id") or str(uuid.uuid4()))]
        if new_path != path:
            headers.append(("X-Envoy-Original-Path", path))
        for op in ops:
            headers = apply_header_ops(headers, op)
        return headers

    def _read_body(self) -> bytes:
        try:
            return read_body(self.rfile, self.headers, MAX_BODY_BYTES)
        except TooLarge as exc:
            self.close_connection = True
            raise Refusal(413, "Payload too large", str(exc)) from None
        except (BadMessage, ValueError) as exc:
            self.close_connection = True
            raise Refusal(400, "Bad request", str(exc)) from None

    def _path(self) -> str:
        return urlsplit(self.path).path or "/"

    def _reply(self, response: UpstreamResponse, started: float) -> None:
        head = [f"HTTP/1.1 {response.status} {response.reason or _reason(response.status)}"]
        head += [f"{k}: {v}" for k, v in response.headers]
        total_ms = (time.perf_counter() - started) * 1000
        if not (self.command == "HEAD" and any(k.lower() == "content-length" for k, _ in response.headers)):
            head.append(f"Content-Length: {len(response.body)}")
        head += [f"X-Envoy-Upstream-Service-Time: {int(response.upstream_ms)}",
                 f"Server-Timing: gateway;dur={total_ms - response.upstream_ms:.3f}"]
        if self.close_connection:
            head.append("Connection: close")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(payload if self.command == "HEAD" else payload + response.body)


# Hop-by-hop headers, and those the gateway sets itself (from the client's values).
_DROPPED_REQUEST_HEADERS = frozenset({"host", "connection", "keep-alive", "proxy-connection", "te", "trailer",
                                      "transfer-encoding", "upgrade", "content-length", "expect",
                                      "x-forwarded-for", "x-forwarded-proto", "x-request-id", "x-envoy-original-path"})


def forward_with_retries(pool, method: str, target: str, headers, body: bytes, timeout: float, retries) -> UpstreamResponse:
    """Envoy's router: the route timeout bounds every try together; a try that fails in a way
    the retry policy names is repeated (25 ms jittered exponential backoff), up to `attempts`."""
    deadline = time.monotonic() + timeout
    attempts = 1 + max(retries.attempts, 0)
    for attempt in range(attempts):
        if attempt:
            pause = random.uniform(0, min(0.025 * (2 ** attempt), 0.25))
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
        last_try = attempt == attempts - 1
        try:
            response = send(pool, method, target, headers, body, deadline, retries.per_try_timeout)
        except TryFailed as failure:
            if time.monotonic() >= deadline or failure.kind == "no-instance":
                return problem(504, "Gateway timeout", f"upstream request timeout after {timeout:.3g}s", target)
            if failure.kind == "start-failed":
                return problem(503, "Function unavailable", failure.detail, target)
            if last_try or not retries.retry_failure(failure.connected):
                status = 504 if failure.kind == "timeout" else 503
                return problem(status, "Upstream failed", f"upstream {failure.kind}: {failure.detail}", target)
            continue
        if last_try or not retries.retry_status(response.status):
            return response
    return problem(504, "Gateway timeout", f"upstream request timeout after {timeout:.3g}s", target)


def apply_header_ops(headers: list[tuple[str, str]], ops: HeaderOps) -> list[tuple[str, str]]:
    if not (ops.set or ops.add or ops.remove):
        return headers
    drop = {name.lower() for name in ops.remove} | {name.lower() for name, _ in ops.set}
    result = [(k, v) for k, v in headers if k.lower() not in drop]
    return result + [(k, v) for k, v in ops.set if k.lower() not in ("host", ":authority")] + list(ops.add)


def problem(status: int, title: str, detail: str, instance: str | None = None, headers=()) -> UpstreamResponse:
    body = {"type": PROBLEM_TYPE_BASE + title.lower().replace(" ", "-"), "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance.split("?", 1)[0]
    return UpstreamResponse(status, "", [("Content-Type", "application/problem+json"), *headers],
                            json.dumps(body).encode(), 0.0, "")


def json_response(payload: object, status: int = 200) -> UpstreamResponse:
    return UpstreamResponse(status, "", [("Content-Type", "application/json")], json.dumps(payload, indent=1).encode(), 0.0, "")


def _query_dict(query: str) -> dict[str, str]:
    return dict(parse_qsl(query, keep_blank_values=True))


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
