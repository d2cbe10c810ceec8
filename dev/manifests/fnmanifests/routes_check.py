"""The edge, checked against the code: every HTTP endpoint is routed (first match wins, as
in Envoy) to its own function; every route names an existing Knative Service through
knative-local-gateway with a timeout and retries; endpoints that read a caller's token are
denied without one at the gateway, public ones are not; TLS and JWT settings agree."""
import re

from .deployment_sets import DeploymentSet
from .findings import Finding
from .functions_index import Target

LOCAL_GATEWAY = "knative-local-gateway.istio-system.svc.cluster.local"
NETWORKING, SECURITY = "networking.istio.io", "security.istio.io"
_AUTHORITY = re.compile(r"^([a-z0-9-]+)\.([a-z0-9-]+)(\.svc(\.cluster\.local)?)?$")


def run(dset: DeploymentSet, services: dict, targets: list[Target]) -> list[Finding]:
    found = []
    vss = dset.of_kind(NETWORKING, "VirtualService")
    for vs in vss:
        found += _route_targets(dset, vs, services)
    http = [t for t in targets if t.trigger == "http" and t.route]
    # Bound to a real Gateway = reachable from outside; `mesh` (or no binding) = sidecars only.
    edge = [vs for vs in vss if any(g != "mesh" for g in (vs.body.get("spec") or {}).get("gateways") or [])]
    mesh = [vs for vs in vss if vs not in edge]
    host = next((h for vs in edge for h in (vs.body.get("spec") or {}).get("hosts") or []), "")
    for target in http:
        if edge:
            found += _routed(dset, edge, target)
        if target.internal:
            found += _routed_in_mesh(dset, mesh, target)
    found += _authorization(dset, http, host)
    found += _tls(dset)
    found += _jwt(dset, services, targets)
    return found


def _route_targets(dset, vs, services) -> list[Finding]:
    found, file = [], dset.where(vs)
    for i, route in enumerate((vs.body.get("spec") or {}).get("http") or []):
        at = f"spec.http[{i}]"
        authority = (route.get("rewrite") or {}).get("authority")
        hosts = [((d.get("destination") or {}).get("host")) for d in route.get("route") or []]
        if route.get("redirect") or route.get("directResponse"):
            continue
        if not authority:
            found.append(Finding(file, vs.label, at + ".rewrite.authority", "missing: knative-local-gateway needs the Knative Service's host"))
            continue
        m = _AUTHORITY.match(authority)
        if not m or (m.group(1) not in services or m.group(2) != "fnshop"):
            found.append(Finding(file, vs.label, at + ".rewrite.authority",
                                 f"{authority!r} names no Knative Service of namespace fnshop"))
        if any(h != LOCAL_GATEWAY for h in hosts):
            found.append(Finding(file, vs.label, at + ".route", f"destinations must be {LOCAL_GATEWAY}"))
        if not route.get("timeout"):
            found.append(Finding(file, vs.label, at + ".timeout", "missing: every route sets its timeout"))
        if not route.get("retries"):
            found.append(Finding(file, vs.label, at + ".retries", "missing: every route sets its retry policy"))
    return found


def _routed(dset, vss, target: Target) -> list[Finding]:
    method, path = target.method, _sample_path(target.route)
    for vs in vss:
        for i, route in enumerate((vs.body.get("spec") or {}).get("http") or []):
            if any(_http_match(m, method, path) for m in route.get("match") or [{}]):
                authority = (route.get("rewrite") or {}).get("authority", "")
                if target.internal:
                    return [Finding(dset.where(vs), vs.label, f"spec.http[{i}]",
                                    f"routes {method} {target.route} ({target.name}), an /internal/ "
                                    f"endpoint, from outside")]
                if authority.split(".")[0] == target.service:
                    return []
                return [Finding(dset.where(vs), vs.label, f"spec.http[{i}]",
                                f"{method} {target.route} ({target.name}) is caught by route "
                                f"{route.get('name', i)!r} for {authority!r}; put its own route first")]
    if target.internal:
        return []
    return [Finding(target.file, "", "", f"{method} {target.route} ({target.name}) has no VirtualService route")]


def _routed_in_mesh(dset, vss, target: Target) -> list[Finding]:
    """An /internal/ endpoint is reached by service-to-service calls through a mesh route."""
    method, path = target.method, _sample_path(target.route)
    for vs in vss:
        for i, route in enumerate((vs.body.get("spec") or {}).get("http") or []):
            if any(_http_match(m, method, path) for m in route.get("match") or [{}]):
                if (route.get("rewrite") or {}).get("authority", "").split(".")[0] == target.service:
                    return []
                return [Finding(dset.where(vs), vs.label, f"spec.http[{i}]",
                                f"{method} {target.route} ({target.name}) is caught by route {route.get('name', i)!r}")]
    return [Finding(target.file, "", "", f"{method} {target.route} ({target.name}) is internal but no mesh "
                                         f"VirtualService routes it")]


def _sample_path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000001", template)


def _string_match(spec: dict | None, value: str) -> bool:
    if not spec:
        return True
    if "exact" in spec:
        return value == spec["exact"]
    if "prefix" in spec:
        return value.startswith(spec["prefix"])
    if "regex" in spec:
        try:
            return re.fullmatch(spec["regex"], value) is not None  # Envoy regexes match whole
        except re.error:
            return False
    return True


def _http_match(match: dict, method: str, path: str) -> bool:
    others = set(match) - {"uri", "method", "name", "ignoreUriCase"}
    if others:
        return False  # headers, ports, ...: a plain client request does not carry them
    return _string_match(match.get("uri"), path) and _string_match(match.get("method"), method)


def _authorization(dset, http: list[Target], host: str) -> list[Finding]:
    """Simulate a request without a token to the public host at the ingress gateway:
    token-reading endpoints must be denied, public ones not, /internal/ ones always."""
    policies = [p for p in dset.of_kind(SECURITY, "AuthorizationPolicy")
                if (p.body.get("metadata") or {}).get("namespace") == "istio-system"]
    found = []
    for target in http:
        path = _sample_path(target.route)
        denied_by = next((p for p in policies if _denies_anonymous(p, target.method, path, host)), None)
        if target.internal:
            if denied_by is None:
                found.append(Finding(target.file, "", "", f"{target.method} {target.route} ({target.name}) is "
                                     f"internal, but no gateway AuthorizationPolicy denies it from outside"))
        elif target.needs_token and denied_by is None:
            found.append(Finding(target.file, "", "", f"{target.method} {target.route} ({target.name}) reads a "
                                 f"token, but no gateway AuthorizationPolicy denies it without one"))
        elif not target.needs_token and denied_by is not None:
            found.append(Finding(dset.where(denied_by), denied_by.label, "spec.rules",
                                 f"denies {target.method} {target.route} ({target.name}), a public endpoint, without a token"))
    return found


def _denies_anonymous(policy, method: str, path: str, host: str) -> bool:
    spec = policy.body.get("spec") or {}
    if spec.get("action") != "DENY":
        return False
    for rule in spec.get("rules") or []:
        sources = [f.get("source") or {} for f in rule.get("from") or []] or [{}]
        if not any(_matches_anonymous(s) for s in sources):
            continue
        ops = [t.get("operation") or {} for t in rule.get("to") or []] or [{}]
        if any(_operation_matches(op, method, path, host) for op in ops):
            return True
    return False


def _matches_anonymous(source: dict) -> bool:
    if "*" in (source.get("notRequestPrincipals") or []):
        return True
    return not source  # a rule without `from` applies to every caller


def _operation_matches(op: dict, method: str, path: str, host: str) -> bool:
    # A client may send the Host with the port; a policy must match both spellings.
    if op.get("hosts") and not all(any(_istio_path(h, form) for h in op["hosts"])
                                   for form in (host, f"{host}:443")):
        return False
    if op.get("methods") and method not in op["methods"]:
        return False
    if op.get("notMethods") and method in op["notMethods"]:
        return False
    if op.get("paths") and not any(_istio_path(p, path) for p in op["paths"]):
        return False
    if op.get("notPaths") and any(_istio_path(p, path) for p in op["notPaths"]):
        return False
    return True


def _istio_path(pattern: str, path: str) -> bool:
    """AuthorizationPolicy string match: exact, `prefix*`, `*suffix` or `*`."""
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return path.endswith(pattern[1:])
    return path == pattern


def _tls(dset) -> list[Finding]:
    found = []
    certs = dset.of_kind("cert-manager.io", "Certificate")
    issuers = {d.name for d in dset.of_kind("cert-manager.io", "ClusterIssuer")}
    gateways = {f"{(g.body.get('metadata') or {}).get('namespace', 'fnshop')}/{g.name}": g
                for g in dset.of_kind(NETWORKING, "Gateway")}
    for cert in certs:
        ref = (cert.body.get("spec") or {}).get("issuerRef") or {}
        if ref.get("kind") == "ClusterIssuer" and ref.get("name") not in issuers:
            found.append(Finding(dset.where(cert), cert.label, "spec.issuerRef.name", f"no ClusterIssuer {ref.get('name')!r}"))
    for key, gw in gateways.items():
        namespace = key.split("/")[0]
        for i, server in enumerate((gw.body.get("spec") or {}).get("servers") or []):
            secret = (server.get("tls") or {}).get("credentialName")
            if not secret:
                continue
            cert = next((c for c in certs if (c.body.get("spec") or {}).get("secretName") == secret
                         and (c.body.get("metadata") or {}).get("namespace") == namespace), None)
            if cert is None:
                found.append(Finding(dset.where(gw), gw.label, f"spec.servers[{i}].tls.credentialName",
                                     f"no Certificate in {namespace} writes Secret {secret!r}"))
                continue
            dns = set((cert.body.get("spec") or {}).get("dnsNames") or [])
            for host in set(server.get("hosts") or []) - dns:
                found.append(Finding(dset.where(gw), gw.label, f"spec.servers[{i}].hosts",
                                     f"{host!r} is not in Certificate {cert.name}'s dnsNames"))
    for vs in dset.of_kind(NETWORKING, "VirtualService"):
        spec = vs.body.get("spec") or {}
        ns = (vs.body.get("metadata") or {}).get("namespace", "fnshop")
        for gw_ref in spec.get("gateways") or []:
            if gw_ref == "mesh":  # Istio's reserved name for all sidecars, not a Gateway object
                continue
            key = gw_ref if "/" in gw_ref else f"{ns}/{gw_ref}"
            gw = gateways.get(key)
            if gw is None:
                found.append(Finding(dset.where(vs), vs.label, "spec.gateways", f"no Gateway {key}"))
                continue
            served = {h for s in (gw.body.get("spec") or {}).get("servers") or [] for h in s.get("hosts") or []}
            for host in set(spec.get("hosts") or []) - served:
                found.append(Finding(dset.where(vs), vs.label, "spec.hosts", f"{host!r} is not served by Gateway {key}"))
    return found


def _jwt(dset, services, targets) -> list[Finding]:
    cm = dset.find("", "ConfigMap", "fnshop", "fnshop-config")
    data = (cm.body.get("data") or {}) if cm else {}
    found = []
    for ra in dset.of_kind(SECURITY, "RequestAuthentication"):
        for i, rule in enumerate((ra.body.get("spec") or {}).get("jwtRules") or []):
            at, file = f"spec.jwtRules[{i}]", dset.where(ra)
            for field, key in (("issuer", "JWT_ISSUER"), ("jwksUri", "JWT_JWKS_URL")):
                if key in data and rule.get(field) != data[key]:
                    found.append(Finding(file, ra.label, f"{at}.{field}", f"{rule.get(field)!r} differs from fnshop-config {key} {data[key]!r}"))
            if "JWT_AUDIENCE" in data and data["JWT_AUDIENCE"] not in (rule.get("audiences") or []):
                found.append(Finding(file, ra.label, f"{at}.audiences", f"lacks fnshop-config JWT_AUDIENCE {data['JWT_AUDIENCE']!r}"))
            host = re.sub(r"^https?://", "", rule.get("jwksUri") or "").split("/")[0]
            m = _AUTHORITY.match(host)
            domains = {t.domain for t in targets}
            future = m and m.group(1).split("-")[0] not in domains  # its domain is not written yet
            if m and m.group(2) == "fnshop" and m.group(1) not in services and not future:
                found.append(Finding(file, ra.label, f"{at}.jwksUri", f"no Knative Service {m.group(1)!r} serves it"))
    return found
