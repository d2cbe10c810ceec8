"""AuthorizationPolicy evaluation (Istio semantics): any matching DENY refuses; then, if any
ALLOW policy applies to the workload, one of its rules must match; otherwise the request passes.
Refusals are 403, also when a required token is missing (that is Istio's answer, not 401).

Supported fields: from.source (requestPrincipals, principals, namespaces, ipBlocks,
remoteIpBlocks and their not-forms), to.operation (hosts, methods, paths and not-forms) and
`when` keys request.auth.claims[..], request.auth.principal, request.auth.audiences,
request.auth.presenter, request.headers[..], source.ip, remote.ip. CUSTOM and AUDIT are ignored.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from .jwt_auth import SECURITY, Identity
from .manifests import of_kind
from .scopes import Scope, Workload

# Function pods see requests arriving from the ingress gateway, over Istio mTLS.
GATEWAY_PRINCIPAL = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"


@dataclass
class RequestFacts:
    method: str
    path: str
    host: str
    headers: object  # email.message.Message
    client_ip: str
    identity: Identity


@dataclass(frozen=True)
class Policy:
    name: str
    action: str
    rules: tuple | None  # None: no `rules` field (an ALLOW of nothing)
    scope: Scope


def policies(docs: list[dict]) -> list[Policy]:
    found = []
    for doc in of_kind(docs, SECURITY, "AuthorizationPolicy"):
        spec = doc.get("spec") or {}
        rules = tuple(spec["rules"]) if "rules" in spec and spec["rules"] is not None else None
        found.append(Policy(doc["metadata"]["name"], spec.get("action", "ALLOW"), rules, Scope.of(doc)))
    return found


def decide(all_policies: list[Policy], workload: Workload, facts: RequestFacts) -> str | None:
    """None when allowed, else the name of the policy (or reason) that refuses."""
    applicable = [p for p in all_policies if p.scope.applies_to(workload)]
    for policy in applicable:
        if policy.action == "DENY" and any(_rule_matches(r, facts, workload) for r in policy.rules or ()):
            return f"denied by {policy.name}"
    allows = [p for p in applicable if p.action == "ALLOW"]
    if not allows or any(_rule_matches(r, facts, workload) for p in allows for r in p.rules or ()):
        return None
    return "no ALLOW policy matched"


def _rule_matches(rule: dict, facts: RequestFacts, workload: Workload) -> bool:
    rule = rule or {}
    sources = [entry.get("source") or {} for entry in rule.get("from") or []]
    operations = [entry.get("operation") or {} for entry in rule.get("to") or []]
    if sources and not any(_source_matches(s, facts, workload) for s in sources):
        return False
    if operations and not any(_operation_matches(o, facts) for o in operations):
        return False
    return all(_condition_matches(c, facts) for c in rule.get("when") or [])


def _source_matches(source: dict, facts: RequestFacts, workload: Workload) -> bool:
    principal = facts.identity.principal
    peer = None if workload.is_gateway else GATEWAY_PRINCIPAL
    peer_namespace = None if workload.is_gateway else "istio-system"
    checks = [
        ("requestPrincipals", principal, _glob),
        ("principals", peer, _glob),
        ("namespaces", peer_namespace, _glob),
        ("ipBlocks", facts.client_ip, _in_block),
        ("remoteIpBlocks", facts.client_ip, _in_block),
    ]
    return all(_field_matches(source, key, value, test) for key, value, test in checks)


def _operation_matches(operation: dict, facts: RequestFacts) -> bool:
    checks = [("hosts", facts.host.lower(), lambda p, v: _glob(p.lower(), v)),
              ("methods", facts.method, _glob), ("paths", facts.path, _glob)]
    return all(_field_matches(operation, key, value, test) for key, value, test in checks)


def _field_matches(spec: dict, key: str, value, test) -> bool:
    negative_key = "not" + key[0].upper() + key[1:]
    if key in spec and (value is None or not any(test(p, value) for p in spec[key])):
        return False
    return not (negative_key in spec and value is not None and any(test(p, value) for p in spec[negative_key]))


def _condition_matches(condition: dict, facts: RequestFacts) -> bool:
    values = _condition_values(condition["key"], facts)
    if "values" in condition and not any(_glob(p, v) for p in condition["values"] for v in values):
        return False
    return not ("notValues" in condition and any(_glob(p, v) for p in condition["notValues"] for v in values))


def _condition_values(key: str, facts: RequestFacts) -> list[str]:
    claims = facts.identity.claims
    if key.startswith("request.auth.claims["):
        value: object = claims
        for part in re.findall(r"\[([^\]]+)\]", key):
            value = value.get(part) if isinstance(value, dict) else None
        return [str(v) for v in value] if isinstance(value, list) else [] if value is None else [str(value)]
    if key.startswith("request.headers["):
        value = facts.headers.get(key[len("request.headers["):-1])
        return [value] if value is not None else []
    simple = {
        "request.auth.principal": facts.identity.principal,
        "request.auth.presenter": claims.get("azp"),
        "source.ip": facts.client_ip, "remote.ip": facts.client_ip,
    }
    if key == "request.auth.audiences":
        aud = claims.get("aud")
        return [aud] if isinstance(aud, str) else list(aud or [])
    value = simple.get(key)
    return [str(value)] if value is not None else []


def _glob(pattern: str, value: str) -> bool:
    """Istio's string matching: exact, `prefix*`, `*suffix`, or `*` (present)."""
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


def _in_block(block: str, ip: str) -> bool:
    return ipaddress.ip_address(ip) in ipaddress.ip_network(block, strict=False)
