"""A real runtime (`python -m dev.runtime`) over the fixture manifests and fixture functions,
shared by the tests of this folder; each test uses its own fixture services where it watches
scaling, so they do not disturb each other."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dev.runtime.instance import free_port
from tests.support.tokens import TestIssuer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GRACE_SECONDS = 1.0


class RunningRuntime:
    def __init__(self, process: subprocess.Popen, url: str, log_path: Path):
        self.process, self.url, self.log_path = process, url, log_path
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url + path, timeout=kwargs.pop("timeout", 15), **kwargs)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.url + path, timeout=kwargs.pop("timeout", 15), **kwargs)

    def status(self) -> dict:
        return requests.get(self.url + "/_runtime/status", timeout=5).json()

    def service(self, name: str) -> dict:
        return next(s for s in self.status()["services"] if s["name"] == name)

    def wait_for(self, condition, timeout: float = 10.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; log tail:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_runtime(tmp: Path, extra_env: dict[str, str] | None = None, args: list[str] = ()) -> RunningRuntime:
    port = free_port()
    log_path = tmp / f"runtime-{port}.log"
    env = {**os.environ, "FNSHOP_GATEWAY_PORT": str(port), "FNSHOP_SCALE_TO_ZERO_GRACE_SECONDS": str(GRACE_SECONDS),
           "FNSHOP_KNATIVE_DIRS": str(FIXTURES / "knative"), "FNSHOP_ISTIO_DIRS": str(FIXTURES / "istio"),
           "FNSHOP_FUNCTIONS_DIR": str(FIXTURES / "functions"), **(extra_env or {})}
    with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([sys.executable, "-m", "dev.runtime", *args], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    runtime = RunningRuntime(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"runtime exited with {process.returncode}:\n{runtime.log()}")
        try:
            requests.get(runtime.url + "/_runtime/status", timeout=1)
            return runtime
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"runtime did not listen:\n{runtime.log()}")


def stop_runtime(runtime: RunningRuntime) -> int:
    if runtime.process.poll() is None:
        runtime.process.send_signal(signal.SIGTERM)
        try:
            return runtime.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            runtime.process.kill()
            raise
    return runtime.process.returncode


@pytest.fixture(scope="session")
def issuer(tmp_path_factory) -> TestIssuer:
    return TestIssuer(tmp_path_factory.mktemp("idp"))


@pytest.fixture(scope="session")
def runtime(tmp_path_factory, issuer):
    running = start_runtime(tmp_path_factory.mktemp("runtime"), {"PROBE_JWKS_FILE": str(issuer.jwks_path)})
    yield running
    assert stop_runtime(running) == 0, running.log()[-3000:]
