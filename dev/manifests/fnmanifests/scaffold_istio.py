"""The generated parts of istio/: the one VirtualService (a route per public endpoint, most
specific first) and the gateway's "token required" AuthorizationPolicy."""
import re

from .yamlio import dump

from .functions_index import Target

LOCAL_GATEWAY = "knative-local-gateway.istio-system.svc.cluster.local"


def _specificity(target: Target):
    """Literal segments sort before {params} at the first place they differ, so
    /api/users/me is matched before /api/users/{user_id}; then by method."""
    segments = target.route.strip("/").split("/")
    return ([(seg.startswith("{"), seg) for seg in segments], target.method)


def _uri(template: str) -> dict:
    if "{" not in template:
        return {"exact": template}
    return {"regex": re.sub(r"\{[^}]+\}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))}


def _routes(targets: list[Target], policy: dict, resolve) -> list[dict]:
    routes = []
    for target in sorted(targets, key=_specificity):
        _, p = resolve(target, policy)
        method = {"regex": "GET|HEAD"} if target.method == "GET" else {"exact": target.method}
        routes.append({
            "name": target.service,
            "match": [{"uri": _uri(target.route), "method": method}],
            "rewrite": {"authority": f"{target.service}.fnshop.svc.cluster.local"},
            "route": [{"destination": {"host": LOCAL_GATEWAY, "port": {"number": 80}}}],
            "timeout": p["route"]["timeout"],
            "retries": p["route"]["retries"],
        })
    return routes


def virtual_service(targets: list[Target], policy: dict, resolve) -> dict:
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "fnshop-api", "namespace": "fnshop"},
            "spec": {"hosts": [policy["public_host"]], "gateways": ["istio-system/fnshop-gateway"],
                     "http": _routes(targets, policy, resolve)}}


def internal_routes(targets: list[Target], policy: dict, resolve) -> list[dict]:
    """One cluster-local base URL per domain for its /internal/ endpoints (INVENTORY_URL =
    http://inventory.fnshop.svc.cluster.local): an ExternalName Service so the name resolves,
    and a mesh VirtualService sending each path to its own Knative Service."""
    docs = []
    for domain in sorted({t.domain for t in targets}):
        own = [t for t in targets if t.domain == domain]
        host = f"{domain}.fnshop.svc.cluster.local"
        docs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": domain, "namespace": "fnshop"},
                     "spec": {"type": "ExternalName", "externalName": LOCAL_GATEWAY,
                              "ports": [{"name": "http", "port": 80}]}})
        docs.append({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                     "metadata": {"name": f"{domain}-internal", "namespace": "fnshop"},
                     "spec": {"hosts": [host], "gateways": ["mesh"], "http": _routes(own, policy, resolve)}})
    return docs


def require_jwt(targets: list[Target], host: str) -> dict:
    """DENY without a request principal, for endpoints that read the caller's token.
    Istio paths allow only a trailing `*`, so a template is cut at its first {param}; the
    methods keep public endpoints that share the prefix out (the cross-checks prove it)."""
    methods_by_path: dict[str, set] = {}
    for t in targets:
        if t.needs_token:
            path = t.route.split("{", 1)[0] + "*" if "{" in t.route else t.route
            methods_by_path.setdefault(path, set()).add(t.method)
    grouped: dict[tuple, list] = {}
    for path, methods in sorted(methods_by_path.items()):
        grouped.setdefault(tuple(sorted(methods)), []).append(path)
    # Only the public host: cluster-local calls pass the same gateway pods
    # (knative-local-gateway) with a service's own host name and must not be judged here.
    hosts = [host, f"{host}:*"]
    operations = [{"operation": {"hosts": hosts, "methods": list(m), "paths": paths}}
                  for m, paths in sorted(grouped.items())]
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": "fnshop-require-jwt", "namespace": "istio-system"},
            "spec": {"selector": {"matchLabels": {"istio": "ingressgateway"}}, "action": "DENY",
                     "rules": [{"from": [{"source": {"notRequestPrincipals": ["*"]}}], "to": operations}]}}


def files(targets: list[Target], policy: dict, header: str, policy_file: str) -> dict[str, str]:
    from .scaffold import resolved_policy  # late: scaffold imports this module
    public = [t for t in targets if t.trigger == "http" and t.route and not t.internal]
    inputs = f"the @endpoint routes of functions/*/main.py and {policy_file}"
    vs_note = ("# The public API's one route table. Knative behind Istio: every destination is\n"
               "# knative-local-gateway, `rewrite.authority` picks the cluster-local Knative Service.\n"
               "# First match wins: literal segments come before {params}. Reads retry on gateway\n"
               "# errors; writes only when the request never reached a pod (a timed-out POST may\n"
               "# still have been applied). Timeouts allow for a cold start through the activator.\n")
    jwt_note = ("# Operations that act for a user need a token: without one they are denied (403) at the\n"
                "# edge. Bad tokens were already rejected (401) by RequestAuthentication fnshop-jwt;\n"
                "# roles (admin, self) are checked by the functions themselves.\n")
    internal = [t for t in targets if t.trigger == "http" and t.route and t.internal]
    internal_note = ("# Service-to-service calls: each domain with /internal/ endpoints has one cluster-local\n"
                     "# base URL (e.g. INVENTORY_URL); the mesh routes each path to its function. The public\n"
                     "# gateway never routes /internal/ (the cross-checks prove it).\n")
    return {
        "istio/internal-routes.yaml": header.format(inputs=inputs) + internal_note +
        "---\n".join(dump(doc) for doc in internal_routes(internal, policy, resolved_policy)),
        "istio/virtualservice.yaml": header.format(inputs=inputs) + vs_note +
        dump(virtual_service(public, policy, resolved_policy)),
        "istio/authorization-jwt.yaml": header.format(inputs=inputs) + jwt_note +
        dump(require_jwt(public, policy["public_host"])),
    }
