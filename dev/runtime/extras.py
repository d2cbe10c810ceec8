"""Long-running processes that are not functions: the outbox relay and friends.

In the cluster these are apps/v1 Deployments (the relay runs `python -m fnkit.relay`); every
Deployment in the manifests whose container command is a Python command is run here too, with
the same environment rules as the functions. More can be given on the command line or in
FNSHOP_EXTRA_COMMANDS. Like a Deployment, an extra that exits is restarted, with backoff.
"""
from __future__ import annotations

import shlex
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .launcher import Launcher, stop_process
from .manifests import of_kind
from .services import container_env
from .status import Console


@dataclass(frozen=True)
class ExtraSpec:
    name: str
    args: tuple[str, ...]
    env: dict


def from_deployments(docs: list[dict], env_sources: dict) -> list[ExtraSpec]:
    specs = []
    for doc in of_kind(docs, "apps", "Deployment"):
        meta = doc.get("metadata", {})
        containers = (((doc.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        if not containers:
            continue
        command = [*(containers[0].get("command") or []), *(containers[0].get("args") or [])]
        if not command or not Path(command[0]).name.startswith("python"):
            print(f"runtime: Deployment {meta.get('name')} runs no Python command; not started locally", file=sys.stderr)
            continue
        env = container_env(containers[0], meta.get("namespace", "default"), env_sources, f"Deployment {meta['name']}")
        specs.append(ExtraSpec(meta["name"], (sys.executable, *command[1:]), env))
    return specs


def from_command_lines(lines: list[str]) -> list[ExtraSpec]:
    """`name=command args` (or just `command args`) -> specs; `python` means this interpreter."""
    specs = []
    for index, line in enumerate(l for l in lines if l.strip()):
        name, sep, command = line.partition("=")
        if not sep or " " in name.strip():
            name, command = f"extra-{index + 1}", line
        args = shlex.split(command)
        if args and args[0] in ("python", "python3"):
            args[0] = sys.executable
        specs.append(ExtraSpec(name.strip(), tuple(args), {}))
    return specs


class SupervisedProcess:
    def __init__(self, spec: ExtraSpec, env: dict[str, str], launcher: Launcher, console: Console, cwd: str):
        self.spec, self._env, self._launcher, self._console, self._cwd = spec, env, launcher, console, cwd
        self._stopping = threading.Event()
        self._process = None
        self.restarts = 0
        self._thread = threading.Thread(target=self._run, name=f"extra-{spec.name}", daemon=True)

    def start(self) -> "SupervisedProcess":
        self._thread.start()
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        self._stopping.set()
        if self._process is not None:
            stop_process(self._process)
        self._thread.join(10)

    def _run(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self._process = self._launcher.spawn(list(self.spec.args), self._env, cwd=self._cwd)
            except OSError as exc:
                self._console.line(f"runtime: cannot start {self.spec.name}: {exc}")
                return
            for raw in iter(self._process.stdout.readline, b""):
                self._console.log(self.spec.name, raw.decode(errors="replace").rstrip("\n"))
            code = self._process.wait()
            if self._stopping.is_set():
                return
            backoff = 1.0 if time.monotonic() - started > 30 else min(backoff * 2, 30.0)
            self.restarts += 1
            self._console.line(f"runtime: {self.spec.name} exited with {code}; restarting in {backoff:.0f}s")
            self._stopping.wait(backoff)
