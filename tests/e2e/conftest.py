"""The whole platform as `task up` runs it: the local runtime (`python -m dev.runtime`) over the
repository's manifests, with the outbox relay Deployment and the event dispatcher as its extras
(FNSHOP_EXTRA_COMMANDS, the wiring the lead's `task up` uses). Requests go through the gateway
with tokens of a test issuer (FNSHOP_JWKS_URI / JWT_JWKS_URL point at it).

The dispatcher reads a copy of eventing/ whose consumer groups carry a per-run suffix and start
at the topics' current ends, so a run sees only its own events (and leaves the real groups of
`task up` alone); everything else in the manifests is as committed. One extra test-only
KafkaSource delivers to a Service that does not exist, to watch retries end in its dead letters.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from dev.eventing import groups
from dev.eventing.manifests import load
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
BROKEN_SOURCE = "e2e-unreachable-sink"
BROKEN_DEAD_LETTERS = "fnshop-e2e-unreachable.dead-letters"


def eventing_copy(folder: Path, run: str) -> None:
    """eventing/ with per-run consumer groups, plus the unreachable-sink source."""
    for path in sorted((ROOT / "eventing").rglob("*.yaml")):
        docs = list(yaml.safe_load_all(path.read_text()))
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "KafkaSource":
                doc["spec"]["consumerGroup"] = f"{doc['spec'].get('consumerGroup', doc['metadata']['name'])}-e2e-{run}"
        target = folder / path.relative_to(ROOT / "eventing")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    (folder / "e2e-unreachable.yaml").write_text(yaml.safe_dump_all([
        {"apiVersion": "sources.knative.dev/v1", "kind": "KafkaSource",
         "metadata": {"name": BROKEN_SOURCE, "namespace": "fnshop"},
         "spec": {"topics": ["orders"], "consumerGroup": f"{BROKEN_SOURCE}-{run}", "initialOffset": "earliest",
                  "ordering": "ordered",
                  "sink": {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "no-such-function"}},
                  "delivery": {"retry": 2, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S", "timeout": "PT5S",
                               "deadLetterSink": {"ref": {"apiVersion": "eventing.knative.dev/v1alpha1",
                                                          "kind": "KafkaSink", "name": "e2e-unreachable-dead-letters"}}}}},
        {"apiVersion": "eventing.knative.dev/v1alpha1", "kind": "KafkaSink",
         "metadata": {"name": "e2e-unreachable-dead-letters", "namespace": "fnshop"},
         "spec": {"topic": BROKEN_DEAD_LETTERS, "numPartitions": 1}},
    ], sort_keys=False))


class Platform:
    def __init__(self, url: str, log_path: Path, eventing, issuer):
        self.url, self.log_path, self.eventing, self.issuer = url, log_path, eventing, issuer
        self.admin = issuer.admin_token()

    def call(self, method: str, path: str, token: str | None = None, key: str | None = None, **kw) -> requests.Response:
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}),
                   **({"Idempotency-Key": key} if key else {}), **kw.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=kw.pop("timeout", 60), **kw)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def group(self, source: str) -> str:
        return next(s.consumer_group for s in self.eventing.sources if s.name == source)


@pytest.fixture(scope="module")
def platform(tmp_path_factory, stack_env, issuer):
    """Module scope: the platform (its relay and its consumers) is gone before other tiers run,
    so their own relay fixture is the active one and nothing consumes their events."""
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"].split(",")
    run = uuid.uuid4().hex[:6]
    folder = tmp_path_factory.mktemp("eventing")
    eventing_copy(folder, run)
    groups.ensure_topic(bootstrap, BROKEN_DEAD_LETTERS)
    eventing = load(folder)
    for source in eventing.sources:
        groups.start_at_end(bootstrap, source.consumer_group, list(source.topics))
    port = free_port()
    log_path = tmp_path_factory.mktemp("e2e-logs") / "runtime.log"
    env = {**os.environ, **stack_env, "FNSHOP_GATEWAY_PORT": str(port), "FNSHOP_JWKS_URI": issuer.jwks_url,
           "JWT_JWKS_URL": issuer.jwks_url, "OUTBOX_POLL_SECONDS": "0.2", "RELAY_METRICS_PORT": "0",
           "FNSHOP_SCALE_TO_ZERO_GRACE_SECONDS": "600", "LOG_LEVEL": "INFO",
           "FNSHOP_EXTRA_COMMANDS": f"event-dispatcher=python -m dev.eventing --eventing {folder} dispatch --no-schedules"}
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "dev.runtime"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    running = Platform(f"http://127.0.0.1:{port}", log_path, eventing, issuer)
    try:
        deadline = time.monotonic() + 60
        while len(set(re.findall(r'"msg": "partitions assigned", "source": "([^"]+)"', running.log()))) < len(eventing.sources):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the platform did not come up:\n{running.log()[-4000:]}")
            time.sleep(0.1)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
