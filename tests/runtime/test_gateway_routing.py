"""The gateway follows the fixture VirtualService: matches, rewrites, headers, timeouts,
retries and weights, with problem+json for what it answers itself."""
from __future__ import annotations

import collections
import uuid

PROBLEM = "application/problem+json"


def test_exact_path_and_method_reach_the_service(runtime):
    response = runtime.get("/api/echo?x=1")
    assert response.status_code == 200
    echo = response.json()
    assert (echo["service"], echo["path"], echo["query"]) == ("probe-echo", "/api/echo", "x=1")
    assert echo["setting"] == "from-configmap"  # envFrom the manifests' ConfigMap
    assert echo["headers"]["host"] == "probe-echo.fnshop.svc.cluster.local"  # rewrite.authority


def test_wrong_method_or_unknown_path_is_404_problem(runtime):
    for method, path in [("POST", "/api/echo"), ("GET", "/api/nothing-here"), ("GET", "/api/items/abc"),
                         ("GET", "/api/mesh-only")]:  # the mesh-only VirtualService is not the gateway's
        response = runtime.request(method, path)
        assert response.status_code == 404, (method, path)
        assert response.headers["Content-Type"] == PROBLEM
        assert response.json()["status"] == 404


def test_regex_and_prefix_matches_and_route_headers(runtime):
    get = runtime.get("/api/items/42")
    post = runtime.request("POST", "/api/items/new", json={"a": 1})
    assert get.status_code == post.status_code == 200
    assert get.json()["headers"]["x-route"] == "items"
    assert post.json()["body"] == '{"a": 1}'
    assert post.json()["method"] == "POST"


def test_prefix_rewrite_keeps_the_rest_of_the_path_and_the_query(runtime):
    echo = runtime.get("/api/v1/things/7?full=1").json()
    assert echo["path"] == "/inner/things/7" and echo["query"] == "full=1"
    assert echo["headers"]["x-envoy-original-path"] == "/api/v1/things/7"


def test_trace_and_client_headers_are_forwarded(runtime):
    traceparent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    echo = runtime.get("/api/echo", headers={"traceparent": traceparent, "X-Custom": "yes", "X-Request-Id": "rid-1"}).json()
    headers = echo["headers"]
    assert headers["traceparent"] == traceparent
    assert headers["x-custom"] == "yes" and headers["x-request-id"] == "rid-1"
    assert headers["x-forwarded-for"] == "127.0.0.1" and headers["x-forwarded-proto"] == "http"


def test_route_timeout_answers_504_problem(runtime):
    runtime.get("/api/echo").raise_for_status()  # warm: the 1 s route timeout would include a cold start
    response = runtime.get("/api/timeout?seconds=3")
    assert response.status_code == 504
    assert response.headers["Content-Type"] == PROBLEM
    assert "timeout" in response.json()["detail"]


def test_retries_on_5xx_as_declared(runtime):
    key = uuid.uuid4().hex
    retried = runtime.get(f"/api/flaky?key={key}&fail=2")  # attempts: 3, retryOn: 5xx
    assert retried.status_code == 200 and retried.json()["attempt"] == 3
    once = runtime.get(f"/api/flaky-once?key={key}-b&fail=1")  # attempts: 0
    assert once.status_code == 503 and once.json()["attempt"] == 1


def test_weights_split_traffic_between_destinations(runtime):
    # 80/20 between two Knative Services; the gateway's weighted round robin is deterministic.
    counts = collections.Counter(runtime.get("/api/split").json()["service"] for _ in range(50))
    assert counts == {"probe-blue": 40, "probe-green": 10}


def test_knative_traffic_split_and_tag_route(runtime):
    # probe-canary: 75% latest revision, 25% revision probe-canary-00001 (tag `old`).
    counts = collections.Counter(runtime.get("/api/canary").json()["revision"] for _ in range(20))
    assert counts == {"probe-canary-latest": 15, "probe-canary-00001": 5}
    tagged = {runtime.get("/api/canary-old").json()["revision"] for _ in range(3)}
    assert tagged == {"probe-canary-00001"}


def test_route_to_an_unknown_service_is_503_problem(runtime):
    response = runtime.get("/api/nowhere")
    assert response.status_code == 503 and response.headers["Content-Type"] == PROBLEM


def test_cluster_local_service_url_is_served_by_the_runtime(runtime):
    # What JWT_JWKS_URL=http://<svc>.fnshop.svc.cluster.local/... becomes in a function's env.
    response = runtime.get("/_runtime/services/probe-echo/some/path?q=1")
    assert response.status_code == 200
    assert response.json()["path"] == "/some/path"


def test_head_keeps_the_connection_usable(runtime):
    head = runtime.request("HEAD", "/api/v1/things")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) > 0  # the length a GET would have
    assert runtime.get("/api/v1/things").json()["method"] == "GET"  # same keep-alive connection
