"""Single-function deploys without a cluster: the Service is rendered from the overlay and
validated, traffic patches are validated, and nothing is applied."""
from __future__ import annotations

import json

import pytest
from conftest import edit

from fnmanifests import deploy, paths


@pytest.fixture()
def offline(monkeypatch, repo, tmp_path_factory):
    """The tool pointed at a repo copy, with kubectl reporting no cluster."""
    monkeypatch.setenv("FNSHOP_ROOT", str(repo))
    state = tmp_path_factory.mktemp("state")
    (state / "schemas").symlink_to(paths.schema_dir())
    (state / "bin").symlink_to(paths.bin_dir())
    monkeypatch.setenv("FNSHOP_STATE", str(state))
    monkeypatch.setattr(deploy, "cluster_status", lambda: "no cluster (test)")
    return repo, state


def test_deploy_renders_validates_and_stops_without_a_cluster(store, offline, capsys):
    repo, state = offline
    assert deploy.main(["deploy", "--fn", "products-get", "--overlay", "prod"]) == 0
    out = capsys.readouterr().out
    assert "products-get: rendered and valid" in out and "not applied: no cluster (test)" in out
    rendered = (state / "deploy/prod/products-get.yaml").read_text()
    assert "registry.fnshop.example/fnshop/products:" in rendered
    assert "autoscaling.knative.dev/min-scale: '2'" in rendered  # the prod warm minimum


def test_deploy_refuses_an_invalid_service(store, offline, capsys):
    repo, _ = offline
    edit(repo / "knative/base/products.yaml", "timeoutSeconds: 10", "timeoutSeconds: ten")
    assert deploy.main(["deploy", "--fn", "products-list"]) == 1
    assert "spec.template.spec.timeoutSeconds: 'ten' is not of type 'integer'" in capsys.readouterr().err


def test_deploy_names_the_services_when_the_name_is_wrong(store, offline, capsys):
    assert deploy.main(["deploy", "--fn", "products-lst"]) == 1
    assert "no Knative Service 'products-lst' in the overlay; there are: " in capsys.readouterr().err


def test_canary_splits_between_two_revisions(store, offline):
    _, state = offline
    assert deploy.main(["canary", "--fn", "products-get", "--percent", "10",
                        "--latest", "products-get-00002", "--previous", "products-get-00001"]) == 0
    patch = json.loads((state / "deploy/dev/products-get.traffic-patch.json").read_text())
    assert patch == {"spec": {"traffic": [
        {"revisionName": "products-get-00001", "percent": 90, "tag": "stable"},
        {"revisionName": "products-get-00002", "percent": 10, "tag": "canary"}]}}


def test_canary_refuses_a_share_outside_1_to_99(store, offline, capsys):
    assert deploy.main(["canary", "--fn", "products-get", "--percent", "100"]) == 1
    assert "PERCENT must be between 1 and 99" in capsys.readouterr().err


def test_promote_sends_everything_to_the_latest_revision(store, offline):
    _, state = offline
    assert deploy.main(["promote", "--fn", "products-get"]) == 0
    patch = json.loads((state / "deploy/dev/products-get.traffic-patch.json").read_text())
    assert patch == {"spec": {"traffic": [{"latestRevision": True, "percent": 100}]}}


def test_hold_keeps_the_current_revision_at_100_percent(store, offline):
    _, state = offline
    assert deploy.main(["deploy", "--fn", "products-get", "--hold"]) == 0
    rendered = (state / "deploy/dev/products-get.yaml").read_text()
    assert "revisionName: products-get-current" in rendered and "percent: 0" in rendered


def test_bad_traffic_is_refused():
    doc = deploy.Doc("f", 0, {"kind": "Service", "metadata": {"name": "x"}, "spec": {"traffic": [
        {"revisionName": "x-1", "percent": 60, "tag": "a"},
        {"revisionName": "x-2", "latestRevision": True, "percent": 30, "tag": "a"}]}})
    messages = {f.message for f in deploy._traffic_rules(doc)}
    assert messages == {"percents must add up to 100", "tags must be unique",
                        "set revisionName or latestRevision: true, not both"}
