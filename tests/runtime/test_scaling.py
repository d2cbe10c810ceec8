"""Scaling as Knative does it, observed through the gateway and /_runtime/status."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.runtime.conftest import GRACE_SECONDS


def revision(runtime, service: str) -> dict:
    return runtime.service(service)["revisions"][0]


def test_first_request_scales_from_zero_and_is_held_until_ready(runtime):
    assert runtime.service("probe-idle")["state"] == "cold"
    started = time.monotonic()
    response = runtime.get("/api/idle/hello")
    cold_start = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json()["service"] == "probe-idle"
    idle = runtime.service("probe-idle")
    assert idle["state"] == "ready" and idle["instances"] == 1
    assert idle["revisions"][0]["started_total"] == 1
    print(f"cold start through the gateway: {cold_start * 1000:.0f} ms")


def test_idle_instance_scales_to_zero_after_grace_and_retention(runtime):
    runtime.get("/api/idle/again").raise_for_status()
    # probe-idle sets scale-to-zero-pod-retention-period: 1s on top of the grace period.
    runtime.wait_for(lambda: runtime.service("probe-idle")["state"] == "cold",
                     timeout=GRACE_SECONDS + 1 + 5, what="probe-idle to scale to zero")
    assert "probe-idle" in runtime.log() and "stopping" in runtime.log()
    # ... and the next request brings it back.
    before = revision(runtime, "probe-idle")["started_total"]
    assert runtime.get("/api/idle/back").status_code == 200
    assert revision(runtime, "probe-idle")["started_total"] == before + 1


def test_min_scale_keeps_an_instance_warm_without_traffic(runtime):
    runtime.wait_for(lambda: runtime.service("probe-warm")["state"] == "ready", what="probe-warm to start by itself")
    started = revision(runtime, "probe-warm")["started_total"]
    time.sleep(GRACE_SECONDS * 2 + 0.5)
    warm = runtime.service("probe-warm")
    assert warm["state"] == "ready" and warm["instances"] == 1
    assert runtime.get("/api/warm").status_code == 200
    assert revision(runtime, "probe-warm")["started_total"] == started  # served by the warm one


def test_burst_above_target_adds_instances_up_to_max_scale(runtime):
    # probe-burst: target 1 request per instance, max-scale 2.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: runtime.get("/api/burst/sleep?seconds=0.8"), range(8)))
    assert all(a.status_code == 200 for a in answers)
    burst = revision(runtime, "probe-burst")
    assert burst["peak_instances"] == 2, burst
    assert burst["instances"] <= 2
    # Both instances now serve: a second burst is spread over them (least in-flight first).
    runtime.wait_for(lambda: revision(runtime, "probe-burst")["ready"] == 2, what="two ready instances")
    with ThreadPoolExecutor(4) as pool:
        pids = {a.json()["pid"] for a in pool.map(lambda _: runtime.get("/api/burst/sleep?seconds=0.3"), range(4))}
    assert len(pids) == 2
    assert revision(runtime, "probe-burst")["peak_instances"] == 2


def test_container_concurrency_is_a_hard_limit(runtime):
    # probe-strict: containerConcurrency 1, max-scale 1: requests queue instead of overlapping.
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: runtime.get("/api/strict/sleep?seconds=0.2"), range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["concurrent"] for a in answers} == {1}
    assert revision(runtime, "probe-strict")["peak_instances"] == 1


def test_a_function_that_cannot_start_answers_503(runtime):
    response = runtime.get("/api/broken")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "exited" in response.json()["detail"]
    assert "fails at import on purpose" in runtime.log()  # its traceback was streamed
