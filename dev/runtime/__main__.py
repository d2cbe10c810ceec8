"""`python -m dev.runtime`: run the platform locally from its Knative and Istio manifests.

Runs in the foreground until Ctrl-C or SIGTERM, then stops every child before exiting.
"""
from __future__ import annotations

import signal
import sys
import threading

from .config import from_env_and_args
from .manifests import ManifestError
from .runtime import Runtime


def main(argv: list[str] | None = None) -> int:
    config = from_env_and_args(argv)
    try:
        runtime = Runtime(config)
    except ManifestError as exc:
        print(f"runtime: {exc}", file=sys.stderr)
        return 2
    stop_requested = threading.Event()

    def request_stop(signum, frame):  # the handler only flags; stopping happens on the main thread
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        runtime.start()
    except OSError as exc:
        print(f"runtime: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        runtime.stop()
        return 1
    while not stop_requested.wait(0.5):
        pass
    runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
