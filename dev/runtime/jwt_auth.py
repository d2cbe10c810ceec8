"""RequestAuthentication, as Envoy's jwt_authn filter applies it for Istio.

A request without a token passes (AuthorizationPolicy decides whether one is required); a
request whose token fails -- bad signature, unknown issuer, wrong audience, expired -- is
refused with 401. A verified token is removed before forwarding unless the rule sets
`forwardOriginalToken: true`, exactly as in the cluster.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qsl, urlencode

import jwt

from .manifests import of_kind
from .scopes import Scope, Workload

SECURITY = "security.istio.io"
ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
JWKS_REFRESH_SECONDS = 20 * 60  # Istio's default JWKS refresh interval
CLOCK_SKEW_SECONDS = 60  # Envoy's default allowance


class JwtRejected(Exception):
    """The token is present but not acceptable: 401."""


@dataclass(frozen=True)
class JwtRule:
    issuer: str
    audiences: tuple[str, ...]
    jwks_uri: str | None
    jwks_inline: str | None
    from_headers: tuple[tuple[str, str], ...]  # (lower-case header name, prefix)
    from_params: tuple[str, ...]
    forward_original_token: bool
    payload_header: str | None
    claim_headers: tuple[tuple[str, str], ...]  # (header, claim)
    scope: Scope

    @classmethod
    def parse(cls, spec: dict, scope: Scope) -> "JwtRule":
        headers = tuple((h["name"].lower(), h.get("prefix", "")) for h in spec.get("fromHeaders") or [])
        params = tuple(spec.get("fromParams") or ())
        if not headers and not params:  # Istio's default token locations
            headers, params = (("authorization", "Bearer "),), ("access_token",)
        return cls(spec["issuer"], tuple(spec.get("audiences") or ()), spec.get("jwksUri"), spec.get("jwks"),
                   headers, params, bool(spec.get("forwardOriginalToken")), spec.get("outputPayloadToHeader"),
                   tuple((c["header"], c["claim"]) for c in spec.get("outputClaimToHeaders") or []), scope)


@dataclass
class Identity:
    """What a verified token tells the authorization policies (request.auth.*)."""
    claims: dict = field(default_factory=dict)

    @property
    def principal(self) -> str | None:
        return f"{self.claims['iss']}/{self.claims['sub']}" if self.claims else None


def jwt_rules(docs: list[dict]) -> list[JwtRule]:
    return [JwtRule.parse(rule, Scope.of(doc)) for doc in of_kind(docs, SECURITY, "RequestAuthentication")
            for rule in (doc.get("spec") or {}).get("jwtRules") or []]


class KeySets:
    """JWKS documents by URI, cached; an unknown `kid` triggers one refetch (key rotation)."""

    def __init__(self, fetch: Callable[[str], bytes]):
        self._fetch = fetch
        self._cache: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self._lock = threading.Lock()

    def key_for(self, rule: JwtRule, kid: str | None, alg: str):
        for refresh in (False, True):
            keys = [k for k in self._key_set(rule, refresh).keys if kid is None or k.key_id == kid]
            keys = [k for k in keys if not k.algorithm_name or k.algorithm_name == alg or kid is not None]
            if keys:
                return keys[0].key
            if rule.jwks_inline:
                break
        raise JwtRejected("Jwks doesn't have key to match kid or alg from Jwt")

    def _key_set(self, rule: JwtRule, refresh: bool) -> jwt.PyJWKSet:
        if rule.jwks_inline:
            return jwt.PyJWKSet.from_json(rule.jwks_inline)
        uri = rule.jwks_uri or ""
        with self._lock:
            cached = self._cache.get(uri)
            if cached and not refresh and time.monotonic() - cached[0] < JWKS_REFRESH_SECONDS:
                return cached[1]
            try:
                key_set = jwt.PyJWKSet.from_json(self._fetch(uri).decode())
            except Exception as exc:  # unreachable or malformed JWKS: Envoy fails the token too
                raise JwtRejected(f"Jwks remote fetch is failed ({uri}: {exc})") from None
            self._cache[uri] = (time.monotonic(), key_set)
            return key_set


class Authenticator:
    def __init__(self, rules: list[JwtRule], key_sets: KeySets):
        self.rules, self.key_sets = rules, key_sets

    def rules_for(self, workload: Workload) -> list[JwtRule]:
        return [r for r in self.rules if r.scope.applies_to(workload)]

    def authenticate(self, workload: Workload, headers, query: str) -> tuple[Identity, str]:
        """Verify any token for `workload`'s rules; returns the identity and the query string to
        forward. Mutates `headers` (an email.message.Message) the way Envoy would."""
        rules = self.rules_for(workload)
        identity = Identity()
        for rule in rules:
            found = _find_token(rule, headers, query)
            if found is None:
                continue
            location, token = found
            claims = self._verify(token, [r for r in rules if location in _locations(r)])
            identity.claims = claims
            if not rule.forward_original_token:
                if location.startswith("header:"):
                    del headers[location[7:]]
                else:
                    query = urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != location[6:]])
            self._output_headers(rule, claims, token, headers)
            break
        return identity, query

    def _verify(self, token: str, candidates: list[JwtRule]) -> dict:
        try:
            header = jwt.get_unverified_header(token)
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError:
            raise JwtRejected("Jwt is not in the form of Header.Payload.Signature") from None
        rule = next((r for r in candidates if r.issuer == issuer), None)
        if rule is None:
            raise JwtRejected("Jwt issuer is not configured")
        alg = header.get("alg")
        if alg not in ASYMMETRIC:
            raise JwtRejected(f"Jwt algorithm {alg!r} is not supported")
        key = self.key_sets.key_for(rule, header.get("kid"), alg)
        try:
            return jwt.decode(token, key, algorithms=[alg], issuer=rule.issuer, leeway=CLOCK_SKEW_SECONDS,
                              audience=list(rule.audiences) or None,
                              options={"verify_aud": bool(rule.audiences)})
        except jwt.ExpiredSignatureError:
            raise JwtRejected("Jwt is expired") from None
        except jwt.InvalidAudienceError:
            raise JwtRejected("Audiences in Jwt are not allowed") from None
        except jwt.InvalidTokenError as exc:
            raise JwtRejected(f"Jwt verification fails: {exc}") from None

    @staticmethod
    def _output_headers(rule: JwtRule, claims: dict, token: str, headers) -> None:
        if rule.payload_header:
            del headers[rule.payload_header]
            headers[rule.payload_header] = token.split(".")[1]
        for header, claim in rule.claim_headers:
            value = claims.get(claim)
            if isinstance(value, (str, int, float, bool)):
                del headers[header]
                headers[header] = str(value)


def _locations(rule: JwtRule) -> set[str]:
    return {f"header:{name}" for name, _ in rule.from_headers} | {f"param:{p}" for p in rule.from_params}


def _find_token(rule: JwtRule, headers, query: str) -> tuple[str, str] | None:
    for name, prefix in rule.from_headers:
        value = headers.get(name)
        if value is not None and value.startswith(prefix) and value[len(prefix):].strip():
            return f"header:{name}", value[len(prefix):].strip()
    if query:
        params = dict(parse_qsl(query, keep_blank_values=True))
        for name in rule.from_params:
            if params.get(name):
                return f"param:{name}", params[name]
    return None

