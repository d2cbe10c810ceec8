"""One instance of a revision: a functions-framework process on its own loopback port, its
readiness probe, its log stream, and a small pool of keep-alive connections to it."""
from __future__ import annotations

import collections
import http.client
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from .http11 import UpstreamConnection
from .launcher import Launcher, stop_process
from .services import Revision

# gunicorn closes a kept-alive connection after 2 s of silence; never reuse one that old.
UPSTREAM_IDLE_SECONDS = 1.5
PROBE_INTERVAL_SECONDS = 0.01  # the activator probes aggressively too: cold start is the cost here


class StartFailed(RuntimeError):
    """The process exited, or never answered /healthz, before becoming ready."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Instance:
    def __init__(self, revision: Revision, label: str, env: dict[str, str], run_dir: Path,
                 log_line: Callable[[str, str], None]):
        self.revision, self.label = revision, label
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = "starting"  # starting -> ready -> stopping -> stopped (or failed)
        self.in_flight = 0
        self.idle_since = time.monotonic()
        self.picked = 0  # how many requests it got: ties in load balancing go to the least used
        # gunicorn 27 puts a control socket in $XDG_RUNTIME_DIR: one folder per process.
        runtime_dir = run_dir / label
        runtime_dir.mkdir(parents=True, exist_ok=True)
        self._env = {**env, "XDG_RUNTIME_DIR": str(runtime_dir), "PORT": str(self.port)}
        self._log_line = log_line
        self._idle: collections.deque = collections.deque()
        self._idle_lock = threading.Lock()
        self.process = None
        self.exited = threading.Event()
        self.on_exit: Callable[["Instance"], None] | None = None  # told when the process ends

    def start(self, launcher: Launcher) -> None:
        args = [sys.executable, "-m", "functions_framework", "--target", self.revision.target,
                "--source", str(self.revision.source), "--host", "127.0.0.1", "--port", str(self.port)]
        # The image's working directory is the domain's folder: relative paths mean the same here.
        self.process = launcher.spawn(args, self._env, cwd=str(self.revision.source.parent))
        threading.Thread(target=self._pump_logs, name=f"logs-{self.label}", daemon=True).start()

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited.is_set():
                raise StartFailed(f"{self.label} exited with status {self.process.wait()} before it was ready")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return
            except OSError:
                pass
            time.sleep(PROBE_INTERVAL_SECONDS)
        raise StartFailed(f"{self.label} did not answer /healthz within {timeout:.0f}s")

    def stop(self) -> None:
        self.close_connections()
        if self.process is not None:
            stop_process(self.process)
            self.exited.wait(5)  # let the log pump flush the last lines

    # Keep-alive connections: a LIFO, so the warmest one is reused first.
    def connection(self, timeout: float | None) -> tuple[UpstreamConnection, bool]:
        """A connection and whether it was reused (a reused one may have been closed by the server)."""
        now = time.monotonic()
        with self._idle_lock:
            while self._idle:
                conn, since = self._idle.pop()
                if now - since < UPSTREAM_IDLE_SECONDS:
                    conn.settimeout(timeout)
                    return conn, True
                conn.close()
        return UpstreamConnection(self.port, timeout), False

    def give_back(self, conn: UpstreamConnection) -> None:
        if self.state == "ready":
            with self._idle_lock:
                self._idle.append((conn, time.monotonic()))
        else:
            conn.close()

    def close_connections(self) -> None:
        with self._idle_lock:
            while self._idle:
                self._idle.pop()[0].close()

    def _pump_logs(self) -> None:
        """Stream the process's output, one line at a time, with the instance's name in front."""
        for raw in iter(self.process.stdout.readline, b""):
            self._log_line(self.label, raw.decode(errors="replace").rstrip("\n"))
        self.process.stdout.close()
        self.exited.set()
        if self.on_exit is not None:
            self.on_exit(self)


def process_env(manifest_env: dict[str, str], shell_env: dict[str, str], revision: Revision,
                functions_dir: Path) -> dict[str, str]:
    """The manifest's environment, then the shell's on top (stack.env must beat the cluster's
    hostnames), then what Knative itself sets, which nothing overrides."""
    env = {"WORKERS": "1", **manifest_env, **shell_env}
    env.update({
        "FUNCTION_TARGET": revision.target, "K_SERVICE": revision.service, "K_REVISION": revision.name,
        "K_CONFIGURATION": revision.service, "PYTHONPATH": str(functions_dir), "PYTHONUNBUFFERED": "1",
    })
    return env
