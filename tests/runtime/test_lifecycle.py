"""Start-up and shut-down of the runtime itself: status output, extras, and no orphans."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.runtime.conftest import start_runtime, stop_runtime


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def test_status_lines_and_the_relay_deployment(runtime):
    runtime.wait_for(lambda: any(x["running"] for x in runtime.status()["extras"]), what="the relay Deployment to run")
    log = runtime.log()
    assert "SERVICE" in log and "probe-echo" in log  # the status table printed at start
    assert "GET http://127.0.0.1:" in log  # each service with its URL through the gateway
    runtime.wait_for(lambda: "probe-relay" in runtime.log() and "relay up, setting from-configmap" in runtime.log(),
                     what="the relay's prefixed log line")
    status = runtime.status()
    assert {s["name"] for s in status["services"]} >= {"probe-echo", "probe-warm", "probe-canary"}
    assert status["public_host"] is None  # the fixture VirtualService binds hosts: ["*"]


def children_of(runtime) -> list[int]:
    pid = runtime.get("/api/echo").json()["pid"]
    relay = runtime.wait_for(lambda: next((x["pid"] for x in runtime.status()["extras"] if x["running"]), None),
                             what="the relay")
    return [pid, relay]


def test_sigterm_stops_every_child(tmp_path):
    runtime = start_runtime(tmp_path)
    pids = children_of(runtime)
    assert all(alive(p) for p in pids)
    assert stop_runtime(runtime) == 0
    assert not [p for p in pids if alive(p)]
    assert "runtime: stopped" in runtime.log()


def test_no_orphans_even_when_the_runtime_is_killed(tmp_path):
    runtime = start_runtime(tmp_path)
    pids = children_of(runtime)
    os.kill(runtime.process.pid, signal.SIGKILL)
    runtime.process.wait()
    deadline = time.monotonic() + 10
    while [p for p in pids if alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)], "children outlived a SIGKILLed runtime"
