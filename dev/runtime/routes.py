"""Istio VirtualService `http` rules: matching, rewrites, weights, timeouts and retries.

Only VirtualServices bound to a Gateway are read (those bound to `mesh` only are the sidecars'
business); their rules are tried in file order, the first match wins, as in Envoy. Paths are
matched without the query string; regexes must match the whole path (RE2 `full match`).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from .manifests import of_kind, parse_duration

NETWORKING = "networking.istio.io"
# Istio's retry policy when a route declares none (as seen in Envoy's config dump).
DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
DEFAULT_RETRY_CODES = frozenset({503})


@dataclass(frozen=True)
class StringMatch:
    kind: str  # exact | prefix | regex
    value: str
    ignore_case: bool = False

    @classmethod
    def parse(cls, spec: dict | None, ignore_case: bool = False) -> "StringMatch | None":
        if not spec:
            return None
        kind = next(k for k in ("exact", "prefix", "regex") if k in spec)
        return cls(kind, str(spec[kind]), ignore_case)

    def matches(self, text: str) -> bool:
        if self.kind == "regex":
            return re.fullmatch(self.value, text, re.IGNORECASE if self.ignore_case else 0) is not None
        subject, value = (text.lower(), self.value.lower()) if self.ignore_case else (text, self.value)
        return subject == value if self.kind == "exact" else subject.startswith(value)

    def describe(self) -> str:
        return self.value + "*" if self.kind == "prefix" else self.value


@dataclass(frozen=True)
class RequestMatch:
    uri: StringMatch | None = None
    method: StringMatch | None = None
    headers: tuple[tuple[str, StringMatch], ...] = ()
    query: tuple[tuple[str, StringMatch], ...] = ()

    def matches(self, method: str, path: str, headers, query: dict[str, str]) -> bool:
        if self.uri and not self.uri.matches(path):
            return False
        if self.method and not self.method.matches(method):
            return False
        for name, condition in self.headers:
            value = headers.get(name)
            if value is None or not condition.matches(value):
                return False
        return all(name in query and condition.matches(query[name]) for name, condition in self.query)


@dataclass(frozen=True)
class HeaderOps:
    set: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: dict | None) -> "HeaderOps":
        spec = spec or {}
        return cls(tuple((spec.get("set") or {}).items()), tuple((spec.get("add") or {}).items()), tuple(spec.get("remove") or ()))

    def host_override(self) -> str | None:
        return next((v for k, v in self.set if k.lower() in ("host", ":authority")), None)


@dataclass(frozen=True)
class Destination:
    host: str
    weight: int
    request_headers: HeaderOps = HeaderOps()
    response_headers: HeaderOps = HeaderOps()


@dataclass(frozen=True)
class Retries:
    attempts: int
    per_try_timeout: float | None
    retry_on: frozenset[str]
    status_codes: frozenset[int]

    @classmethod
    def parse(cls, spec: dict | None) -> "Retries":
        spec = spec if spec is not None else {"attempts": 2}
        conditions = [c.strip() for c in str(spec.get("retryOn") or DEFAULT_RETRY_ON).split(",") if c.strip()]
        codes = {int(c) for c in conditions if c.isdigit()}
        if "retriable-status-codes" in conditions and not codes:
            codes = set(DEFAULT_RETRY_CODES)
        return cls(int(spec.get("attempts") or 0), parse_duration(spec.get("perTryTimeout")),
                   frozenset(c for c in conditions if not c.isdigit()), frozenset(codes))

    def retry_status(self, status: int) -> bool:
        if status in self.status_codes:
            return True
        if "5xx" in self.retry_on and status >= 500:
            return True
        return "gateway-error" in self.retry_on and status in (502, 503, 504)

    def retry_failure(self, connected: bool) -> bool:
        """A try that got no response: refused before connecting, or reset / timed out after."""
        if self.retry_on & {"5xx", "gateway-error"}:
            return True
        return "connect-failure" in self.retry_on if not connected else "reset" in self.retry_on


@dataclass
class HttpRoute:
    name: str
    namespace: str
    matches: list[RequestMatch]
    destinations: list[Destination]
    rewrite_uri: str | None = None
    regex_rewrite: tuple[str, str] | None = None
    authority: str | None = None
    timeout: float | None = None
    retries: Retries = field(default_factory=lambda: Retries.parse(None))
    request_headers: HeaderOps = HeaderOps()
    response_headers: HeaderOps = HeaderOps()
    direct_response: tuple[int, str] | None = None
    _picker: "WeightedRoundRobin" = field(init=False, repr=False)

    def __post_init__(self):
        self._picker = WeightedRoundRobin([d.weight for d in self.destinations])

    def match(self, method: str, path: str, headers, query: dict[str, str]) -> RequestMatch | None:
        if not self.matches:
            return RequestMatch()
        return next((m for m in self.matches if m.matches(method, path, headers, query)), None)

    def pick_destination(self) -> Destination:
        return self.destinations[self._picker.next()]

    def rewritten_path(self, path: str, matched: RequestMatch) -> str:
        if self.regex_rewrite:
            pattern, replacement = self.regex_rewrite
            return re.sub(pattern, re.sub(r"\\(\d)", r"\\g<\1>", replacement), path)
        if self.rewrite_uri is None:
            return path
        if matched.uri and matched.uri.kind == "prefix":
            return self.rewrite_uri + path[len(matched.uri.value):]
        return self.rewrite_uri

    def describe(self) -> list[str]:
        """`GET /api/products/*`-style lines for the status view."""
        lines = []
        for m in self.matches or [RequestMatch()]:
            method = m.method.value if m.method else "*"
            lines.append(f"{method} {m.uri.describe() if m.uri else '/*'}")
        return lines


class WeightedRoundRobin:
    """Nginx's smooth weighted round robin: deterministic, and spreads the picks evenly."""

    def __init__(self, weights: list[int]):
        # Istio: a single destination may omit its weight; weights of several add up to 100.
        self._weights = [w if w > 0 else 0 for w in weights] if len(weights) > 1 else [1]
        self._current = [0] * len(self._weights)
        self._lock = threading.Lock()

    def next(self) -> int:
        total = sum(self._weights)
        with self._lock:
            for i, weight in enumerate(self._weights):
                self._current[i] += weight
            best = max(range(len(self._weights)), key=self._current.__getitem__)
            self._current[best] -= total
            return best


def gateway_routes(docs: list[dict]) -> list[HttpRoute]:
    """The rules of the VirtualServices bound to a Gateway, in order."""
    return [route for vs in _virtual_services(docs, gateway=True) for route in _rules(vs)]


def mesh_routes(docs: list[dict]) -> dict[str, list[HttpRoute]]:
    """Rules of mesh VirtualServices by host name (e.g. `inventory`): how a cluster-local URL
    that is no Knative Service of its own is routed (service-to-service calls)."""
    by_host: dict[str, list[HttpRoute]] = {}
    for vs in _virtual_services(docs, gateway=False):
        for host in vs["spec"].get("hosts") or []:
            by_host.setdefault(host.split(".")[0], []).extend(_rules(vs))
    return by_host


def public_hosts(docs: list[dict]) -> list[str]:
    return [h for vs in _virtual_services(docs, gateway=True) for h in vs["spec"].get("hosts") or [] if "*" not in h]


def _virtual_services(docs: list[dict], gateway: bool) -> list[dict]:
    found = []
    for vs in of_kind(docs, NETWORKING, "VirtualService"):
        gateways = vs.get("spec", {}).get("gateways") or ["mesh"]  # Istio's default binding
        bound_to_gateway = any(g != "mesh" for g in gateways)
        if bound_to_gateway if gateway else "mesh" in gateways:
            found.append(vs)
    return found


def _rules(vs: dict) -> list[HttpRoute]:
    namespace = vs.get("metadata", {}).get("namespace", "default")
    return [_http_route(rule, f"{vs['metadata']['name']}/{rule.get('name', index)}", namespace)
            for index, rule in enumerate(vs["spec"].get("http") or [])]


def _http_route(rule: dict, name: str, namespace: str) -> HttpRoute:
    matches = []
    for spec in rule.get("match") or []:
        ignore_case = bool(spec.get("ignoreUriCase"))
        matches.append(RequestMatch(
            uri=StringMatch.parse(spec.get("uri"), ignore_case),
            method=StringMatch.parse(spec.get("method")),
            headers=tuple((k.lower(), StringMatch.parse(v)) for k, v in (spec.get("headers") or {}).items()),
            query=tuple((k, StringMatch.parse(v)) for k, v in (spec.get("queryParams") or {}).items()),
        ))
    destinations = [
        Destination(r["destination"]["host"], int(r.get("weight") or 0),
                    HeaderOps.parse((r.get("headers") or {}).get("request")),
                    HeaderOps.parse((r.get("headers") or {}).get("response")))
        for r in rule.get("route") or []
    ]
    rewrite = rule.get("rewrite") or {}
    regex_rewrite = rule.get("rewrite", {}).get("uriRegexRewrite") if rule.get("rewrite") else None
    direct = rule.get("directResponse")
    headers = rule.get("headers") or {}
    return HttpRoute(
        name=name, namespace=namespace, matches=matches, destinations=destinations,
        rewrite_uri=rewrite.get("uri"),
        regex_rewrite=(regex_rewrite["match"], regex_rewrite["rewrite"]) if regex_rewrite else None,
        authority=rewrite.get("authority"),
        timeout=parse_duration(rule.get("timeout")),
        retries=Retries.parse(rule.get("retries")),
        request_headers=HeaderOps.parse(headers.get("request")),
        response_headers=HeaderOps.parse(headers.get("response")),
        direct_response=(int(direct["status"]), str((direct.get("body") or {}).get("string", ""))) if direct else None,
    )
