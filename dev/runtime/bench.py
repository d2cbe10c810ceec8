"""Gateway-hop latency versus direct, side by side, and cold start through the gateway.

    .venv/bin/python -m dev.runtime.bench [--requests 3000] [--concurrency 1,8] [--cold 5]

Runs a runtime over the test fixtures (tests/runtime/fixtures: tiny functions, no database),
then times the same request against a warm instance directly and through the gateway,
interleaved so that both see the same machine state. Each worker keeps one keep-alive
connection, as a browser or load generator would. Numbers are per request, in milliseconds.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .instance import free_port

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "runtime" / "fixtures"


def _get(conn: http.client.HTTPConnection, path: str) -> float:
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status}")
    return (time.perf_counter() - started) * 1000


def _status(gateway: str) -> dict:
    conn = http.client.HTTPConnection(*urlsplit(gateway).netloc.split(":"))
    conn.request("GET", "/_runtime/status")
    return json.loads(conn.getresponse().read())


def _service(gateway: str, name: str) -> dict:
    return next(s for s in _status(gateway)["services"] if s["name"] == name)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(int(q * len(ordered)), len(ordered) - 1)]
    return {"p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "mean": statistics.fmean(ordered)}


def hop_latency(gateway: str, direct: str, path: str, requests: int, concurrency: int) -> tuple[dict, dict, float, float]:
    """Per-request latency direct vs through the gateway, plus the throughput of each."""
    results = {"direct": [], "gateway": []}
    elapsed = {"direct": 0.0, "gateway": 0.0}
    lock = threading.Lock()
    per_worker = max(requests // concurrency, 1)

    def worker() -> None:
        conns = {name: http.client.HTTPConnection(*urlsplit(url).netloc.split(":"))
                 for name, url in (("direct", direct), ("gateway", gateway))}
        for conn in conns.values():
            for _ in range(50):  # warm up connections and code paths
                _get(conn, path)
        mine = {"direct": [], "gateway": []}
        spent = {"direct": 0.0, "gateway": 0.0}
        for i in range(per_worker):
            for name in (("direct", "gateway") if i % 2 else ("gateway", "direct")):
                took = _get(conns[name], path)
                mine[name].append(took)
                spent[name] += took
        with lock:
            for name in mine:
                results[name] += mine[name]
                elapsed[name] = max(elapsed[name], spent[name])

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = lambda name: len(results[name]) / (elapsed[name] / 1000)
    return _percentiles(results["direct"]), _percentiles(results["gateway"]), rate("direct"), rate("gateway")


def cold_starts(gateway: str, service: str, path: str, rounds: int) -> list[float]:
    times = []
    host, port = urlsplit(gateway).netloc.split(":")
    for _ in range(rounds):
        deadline = time.monotonic() + 30
        while _service(gateway, service)["state"] != "cold":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service} did not scale to zero")
            time.sleep(0.05)
        conn = http.client.HTTPConnection(host, int(port))
        times.append(_get(conn, path))
        conn.close()
    return times


def bare_process_start(rounds: int) -> list[float]:
    """Launch -> first /healthz 200 of the same function without the runtime (the floor)."""
    times = []
    for _ in range(rounds):
        port = free_port()
        with tempfile.TemporaryDirectory() as run_dir:
            env = {**os.environ, "PYTHONPATH": str(FIXTURES / "functions"), "XDG_RUNTIME_DIR": run_dir}
            started = time.perf_counter()
            process = subprocess.Popen([sys.executable, "-m", "functions_framework", "--target", "probe_echo",
                                        "--source", str(FIXTURES / "functions" / "probe" / "main.py"),
                                        "--host", "127.0.0.1", "--port", str(port)], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    _get(conn, "/healthz")
                    break
                except (OSError, RuntimeError):
                    time.sleep(0.01)
            times.append((time.perf_counter() - started) * 1000)
            process.terminate()
            process.wait()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per side and concurrency level")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated worker counts")
    parser.add_argument("--cold", type=int, default=5, help="cold starts to time")
    args = parser.parse_args(argv)

    port = free_port()
    env = {**os.environ, "FNSHOP_GATEWAY_PORT": str(port), "FNSHOP_SCALE_TO_ZERO_GRACE_SECONDS": "0.3",
           "FNSHOP_KNATIVE_DIRS": str(FIXTURES / "knative"), "FNSHOP_ISTIO_DIRS": str(FIXTURES / "istio"),
           "FNSHOP_FUNCTIONS_DIR": str(FIXTURES / "functions"), "FNSHOP_RUN_DEPLOYMENTS": "0"}
    runtime = subprocess.Popen([sys.executable, "-m", "dev.runtime"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gateway = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if _service(gateway, "probe-warm")["state"] == "ready":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("runtime did not come up")
            time.sleep(0.05)
        direct = _service(gateway, "probe-warm")["revisions"][0]["instance_urls"][0]
        print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; fixture function probe_echo")
        print(f"{'':<16}{'direct p50':>11}{'p90':>8}{'p99':>8}{'req/s':>8}   {'gateway p50':>11}{'p90':>8}{'p99':>8}{'req/s':>8}"
              f"   {'hop p50':>8}{'hop p99':>8}")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            d, g, d_rate, g_rate = hop_latency(gateway, direct, "/api/warm/bench", args.requests, concurrency)
            print(f"{'concurrency ' + str(concurrency):<16}{d['p50']:>11.3f}{d['p90']:>8.3f}{d['p99']:>8.3f}{d_rate:>8.0f}"
                  f"   {g['p50']:>11.3f}{g['p90']:>8.3f}{g['p99']:>8.3f}{g_rate:>8.0f}"
                  f"   {g['p50'] - d['p50']:>8.3f}{g['p99'] - d['p99']:>8.3f}")
        if args.cold:
            bare = bare_process_start(args.cold)
            cold = cold_starts(gateway, "probe-idle", "/api/idle/bench", args.cold)
            print(f"cold start, bare process launch -> first 200: median {statistics.median(bare):.0f} ms "
                  f"(min {min(bare):.0f}, max {max(bare):.0f})")
            print(f"cold start, first request through the gateway: median {statistics.median(cold):.0f} ms "
                  f"(min {min(cold):.0f}, max {max(cold):.0f})")
    finally:
        runtime.send_signal(signal.SIGTERM)
        runtime.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
