"""The repository's own manifests, as `task up` will run them: every route of the gateway
reaches a Knative Service the runtime can start, and what the policies name is known."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from dev.runtime.config import from_env_and_args
from dev.runtime.runtime import Runtime


@pytest.fixture(scope="module")
def repo_runtime():
    runtime = Runtime(from_env_and_args([], environ={}))  # reads the manifests; starts nothing
    yield runtime
    runtime.stop()


def test_every_service_is_runnable(repo_runtime):
    assert repo_runtime.problems == []
    if not repo_runtime.services:
        pytest.skip("no Knative Services in knative/ yet")
    for service in repo_runtime.services.values():
        assert service.latest.source.is_file()


def test_every_gateway_route_reaches_a_known_service(repo_runtime):
    if not repo_runtime.routes:
        pytest.skip("no gateway VirtualService in istio/ yet")
    unreachable = [f"{route.name} -> {destination.host}" for route in repo_runtime.routes
                   for destination in route.destinations
                   if not route.direct_response and repo_runtime.resolve(route, destination) is None]
    assert unreachable == []


def test_jwks_uris_are_served_by_a_known_service(repo_runtime):
    for rule in repo_runtime.authenticator.rules:
        host = urlsplit(rule.jwks_uri or "").hostname or ""
        assert repo_runtime.service_for_host(host, None) or host.split(".")[0] in repo_runtime.mesh_routes, rule.jwks_uri


def test_the_outbox_relay_deployment_runs_with_the_platform(repo_runtime):
    relays = [spec for spec in repo_runtime.extra_specs if "fnkit.relay" in spec.args]
    if not relays:
        pytest.skip("no outbox relay Deployment in knative/ yet")
    assert relays[0].args[1:] == ("-m", "fnkit.relay")
