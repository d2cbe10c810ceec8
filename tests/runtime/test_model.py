"""The manifest model without processes or sockets: parsing, matching, scaling inputs, policies."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from dev.runtime.authz import Policy, RequestFacts, decide, policies
from dev.runtime.instance import process_env
from dev.runtime.jwt_auth import Identity
from dev.runtime.manifests import ManifestError, _follow_resources, load_all, parse_duration
from dev.runtime.routes import Retries, WeightedRoundRobin, _http_route
from dev.runtime.scopes import Scope, Workload
from dev.runtime.services import cluster_defaults, container_env, env_sources, image_domain, knative_services

FUNCTIONS = Path(__file__).resolve().parent / "fixtures" / "functions"


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("1m30s", 90), ("250ms", 0.25), ("1.5s", 1.5), ("10m", 600),
                                           ("2", 2), (None, None)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_bad_duration_is_a_manifest_error():
    with pytest.raises(ManifestError):
        parse_duration("soon")


def test_weighted_round_robin_is_exact_and_interleaved():
    picker = WeightedRoundRobin([80, 20])
    picks = [picker.next() for _ in range(10)]
    assert picks.count(0) == 8 and picks.count(1) == 2
    assert picks[:5].count(1) == 1  # spread out, not 8 then 2


def route(**rule):
    rule.setdefault("route", [{"destination": {"host": "knative-local-gateway.istio-system.svc.cluster.local"}}])
    return _http_route(rule, "test", "fnshop")


def test_matching_kinds_and_rewrites():
    regex = route(match=[{"uri": {"regex": "/api/products/[^/]+"}, "method": {"regex": "GET|HEAD"}}],
                  rewrite={"uriRegexRewrite": {"match": "^/api/products/(.*)$", "rewrite": "/p/\\1"}})
    assert regex.match("HEAD", "/api/products/7", {}, {}) and not regex.match("POST", "/api/products/7", {}, {})
    assert not regex.match("GET", "/api/products/7/extra", {}, {})  # a regex must match the whole path
    assert regex.rewritten_path("/api/products/7", regex.match("GET", "/api/products/7", {}, {})) == "/p/7"
    prefix = route(match=[{"uri": {"prefix": "/API/v1/"}, "ignoreUriCase": True}], rewrite={"uri": "/"})
    matched = prefix.match("GET", "/api/V1/items", {}, {})
    assert matched and prefix.rewritten_path("/api/v1/items", matched) == "/items"
    exact = route(match=[{"uri": {"exact": "/a"}, "headers": {"X-Env": {"exact": "dev"}}, "queryParams": {"v": {"prefix": "2"}}}])
    assert exact.match("GET", "/a", {"x-env": "dev"}, {"v": "2.1"})
    assert not exact.match("GET", "/a", {"x-env": "prod"}, {"v": "2.1"})
    assert route().match("DELETE", "/anything", {}, {})  # no match block: everything


def test_retry_policies():
    default = Retries.parse(None)  # Istio's default when a route declares none
    assert default.attempts == 2 and default.retry_status(503) and not default.retry_status(500)
    assert default.retry_failure(connected=False) and not default.retry_failure(connected=True)
    reads = Retries.parse({"attempts": 2, "perTryTimeout": "4s", "retryOn": "gateway-error,connect-failure,refused-stream,reset"})
    assert reads.per_try_timeout == 4 and reads.retry_status(502) and not reads.retry_status(500)
    assert reads.retry_failure(connected=True)
    writes = Retries.parse({"attempts": 1, "retryOn": "connect-failure,refused-stream"})
    assert not writes.retry_status(503) and not writes.retry_failure(connected=True)


def service_doc(name="s", annotations=None, spec=None, traffic=None, image="fnshop/probe", template_name=None):
    doc = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": name, "namespace": "fnshop"},
           "spec": {"template": {"metadata": {"annotations": annotations or {}},
                                 "spec": {**(spec or {}), "containers": [{"image": image, "env": [{"name": "FUNCTION_TARGET", "value": "probe_echo"}]}]}}}}
    if template_name:
        doc["spec"]["template"]["metadata"]["name"] = template_name
    if traffic:
        doc["spec"]["traffic"] = traffic
    return doc


def test_scaling_annotations_and_defaults():
    docs = [service_doc("a", {"autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "3",
                              "autoscaling.knative.dev/scale-to-zero-pod-retention-period": "10m"}, {"timeoutSeconds": 10}),
            service_doc("b", spec={"containerConcurrency": 8}),
            service_doc("c", {"autoscaling.knative.dev/target": "10", "autoscaling.knative.dev/target-utilization-percentage": "50"})]
    services = knative_services(docs, FUNCTIONS)
    a, b, c = (services[n].latest for n in "abc")
    assert (a.min_scale, a.max_scale, a.retention_seconds, a.timeout_seconds, a.target_concurrency) == (1, 3, 600, 10, 100)
    assert (b.container_concurrency, b.target_concurrency) == (8, 8)  # target follows a hard limit
    assert c.target_concurrency == 5


def test_traffic_split_revisions_and_tags():
    doc = service_doc("c", template_name="c-00002", traffic=[
        {"latestRevision": True, "percent": 90}, {"revisionName": "c-00001", "percent": 10, "tag": "old"},
        {"revisionName": "c-00003", "percent": 0, "tag": "next"}])
    service = knative_services([doc], FUNCTIONS)["c"]
    assert list(service.revisions) == ["c-00002", "c-00001", "c-00003"]
    assert [(t.revision, t.percent) for t in service.traffic] == [("c-00002", 90), ("c-00001", 10)]
    assert service.tags == {"old": "c-00001", "next": "c-00003"}
    with pytest.raises(ManifestError):
        knative_services([service_doc(traffic=[{"latestRevision": True, "percent": 50}])], FUNCTIONS)


def test_a_service_without_its_function_is_reported_not_run():
    problems: list[str] = []
    services = knative_services([service_doc("ok"), service_doc("gone", image="fnshop/nowhere:dev")], FUNCTIONS, problems=problems)
    assert list(services) == ["ok"] and "nowhere" in problems[0]


def test_image_names_map_to_source_folders():
    assert image_domain("fnshop/products") == "products"
    assert image_domain("registry.fnshop.example/fnshop/products:dev") == "products"
    assert image_domain("fnshop/products@sha256:abc") == "products"


def test_cluster_autoscaler_config_is_read():
    docs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config-autoscaler", "namespace": "knative-serving"},
             "data": {"scale-to-zero-grace-period": "45s", "enable-scale-to-zero": "false"}}]
    defaults = cluster_defaults(docs)
    assert defaults.grace_seconds == 45 and not defaults.scale_to_zero
    assert cluster_defaults([]).grace_seconds == 30


def test_container_env_and_process_env_precedence():
    docs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "ns"}, "data": {"A": "cm", "B": "cm"}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec", "namespace": "ns"},
             "data": {"S": base64.b64encode(b"secret").decode()}}]
    container = {"envFrom": [{"configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "sec"}}],
                 "env": [{"name": "B", "value": "env"}, {"name": "K", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "S"}}}]}
    env = container_env(container, "ns", env_sources(docs), "test")
    assert env == {"A": "cm", "B": "env", "S": "secret", "K": "secret"}
    revision = knative_services([service_doc("x")], FUNCTIONS)["x"].latest
    final = process_env({"A": "manifest", "C": "manifest"}, {"A": "shell", "K_SERVICE": "shell"}, revision, FUNCTIONS)
    assert final["A"] == "shell" and final["C"] == "manifest"  # stack.env beats the cluster's values
    assert final["K_SERVICE"] == "x" and final["FUNCTION_TARGET"] == "probe_echo"  # Knative's own win


def facts(path="/api/x", method="GET", host="api.fnshop.example", claims=None):
    return RequestFacts(method, path, host, {}, "127.0.0.1", Identity(claims or {}))


def test_authorization_policies():
    docs = [{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "need-token", "namespace": "istio-system"},
             "spec": {"selector": {"matchLabels": {"istio": "ingressgateway"}}, "action": "DENY",
                      "rules": [{"from": [{"source": {"notRequestPrincipals": ["*"]}}],
                                 "to": [{"operation": {"hosts": ["api.fnshop.example", "api.fnshop.example:*"],
                                                       "methods": ["POST"], "paths": ["/api/orders", "/api/cart/*"]}}]}]}},
            {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": "callers", "namespace": "fnshop"},
             "spec": {"action": "ALLOW", "rules": [{"from": [{"source": {"namespaces": ["istio-system"]}}]}]}}]
    found = policies(docs)
    gateway, function = Workload.gateway(), Workload.revision("fnshop", "orders-create", "orders-create-latest")
    assert decide(found, gateway, facts("/api/cart/1", "POST"))
    assert decide(found, gateway, facts("/api/cart/1", "POST", claims={"iss": "i", "sub": "u"})) is None
    assert decide(found, gateway, facts("/api/cart/1", "GET")) is None
    assert decide(found, gateway, facts("/api/orders", "POST", host="other.example")) is None
    assert decide(found, function, facts()) is None  # requests arrive from the gateway's namespace
    allow_nothing = Policy("x", "ALLOW", None, Scope("fnshop", None, False))
    assert decide([allow_nothing], function, facts())


def test_policy_scopes():
    gateway, function = Workload.gateway(), Workload.revision("fnshop", "a", "a-1")
    assert Scope("istio-system", None, False).applies_to(function)  # root namespace: mesh-wide
    assert not Scope("istio-system", {"istio": "ingressgateway"}, False).applies_to(function)
    assert Scope("fnshop", {"serving.knative.dev/service": "a"}, False).applies_to(function)
    assert not Scope("fnshop", None, False).applies_to(gateway)
    assert Scope("fnshop", None, True).applies_to(gateway)


def test_objects_are_read_once_and_kustomizations_followed(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: base}\n")
    (tmp_path / "base" / "kustomization.yaml").write_text("resources: [cm.yaml]\nnamespace: fnshop\n")
    docs = _follow_resources(tmp_path / "base", tmp_path / "base" / "kustomization.yaml")
    assert docs[0]["metadata"]["namespace"] == "fnshop"
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: fnshop}\ndata: {k: plain}\n")
    merged = load_all([tmp_path / "base", tmp_path / "plain"])
    assert [d["data"]["k"] for d in merged] == ["base"]
