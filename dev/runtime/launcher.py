"""Start child processes so that none outlives the runtime, even if it is SIGKILLed.

Each child asks Linux for SIGTERM when its parent dies (PR_SET_PDEATHSIG). Linux ties that to
the *thread* that forked, not the process, so every child is forked from one launcher thread
that lives as long as the runtime; forking from a request thread would kill the child as soon
as that thread ended. Each child also gets its own session, so a Ctrl-C in the terminal
reaches only the runtime, which then stops the children in order.
"""
from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent(parent_pid: int):
    def preexec() -> None:  # runs in the child between fork and exec: no imports, no locks
        if _libc is not None:
            _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class Launcher:
    def __init__(self):
        self._requests: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="process-launcher", daemon=True)
        self._thread.start()

    def spawn(self, args: list[str], env: dict[str, str], cwd: str | None = None) -> subprocess.Popen:
        future: Future = Future()
        self._requests.put((future, args, env, cwd))
        return future.result()

    def close(self) -> None:
        self._requests.put(None)

    def _serve(self) -> None:
        parent = os.getpid()
        while True:
            item = self._requests.get()
            if item is None:
                return
            future, args, env, cwd = item
            try:
                process = subprocess.Popen(
                    args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent(parent),
                )
                future.set_result(process)
            except BaseException as exc:  # surface spawn errors (ENOENT...) to the caller
                future.set_exception(exc)


def stop_process(process: subprocess.Popen, grace_seconds: float = 10.0) -> None:
    """SIGTERM (gunicorn drains in-flight requests), then SIGKILL the whole process group."""
    if process.poll() is None:
        try:
            process.terminate()
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            pass
    try:  # gunicorn workers share the master's session/process group: take any straggler too
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
