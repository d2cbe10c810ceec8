"""Run function targets as real functions-framework processes on free loopback ports."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become ready:\n{log_path.read_text()[-3000:]}")


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL if the process has not ended within 10 s."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class FunctionProcess:
    def __init__(self, target: str, env: dict[str, str], log_dir: Path):
        self.target = target
        self.domain = target.split("_", 1)[0]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{target}.log"
        # gunicorn puts its control socket in XDG_RUNTIME_DIR: one folder per process, or they collide.
        runtime_dir = log_dir / "run" / target
        runtime_dir.mkdir(parents=True, exist_ok=True)
        self._env = {**os.environ, **env, "PYTHONPATH": str(FUNCTIONS), "FUNCTION_TARGET": target,
                     "XDG_RUNTIME_DIR": str(runtime_dir)}
        self.process: subprocess.Popen | None = None

    def start(self) -> "FunctionProcess":
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "functions_framework", "--target", self.target,
                 "--source", str(FUNCTIONS / self.domain / "main.py"), "--host", "127.0.0.1", "--port", str(self.port)],
                env=self._env, stdout=log, stderr=subprocess.STDOUT,
            )
        wait_until_ready(self.url, self.process, self.log_path)
        return self

    def stop(self) -> None:
        stop(self.process)


class BackgroundProcess:
    """A long-running helper such as the outbox relay (`python -m fnkit.relay`)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name, self.args = name, args
        self.log_path = log_dir / f"{name}.log"
        self._env = {**os.environ, **env, "PYTHONPATH": str(FUNCTIONS)}
        self.process: subprocess.Popen | None = None

    def start(self) -> "BackgroundProcess":
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, *self.args], env=self._env, stdout=log,
                                            stderr=subprocess.STDOUT)
        return self

    def stop(self) -> None:
        stop(self.process)
