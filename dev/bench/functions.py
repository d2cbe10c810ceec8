"""Function figures, each beside its baseline, measured in one run on this machine.

    dev/with-stack-env python -m dev.bench.functions [--rounds 3] [--requests 500]   (task bench)

1. cold start (launch -> first 200 on /healthz) of one target per domain, beside a bare
   functions-framework function (tests/runtime/fixtures/functions/probe);
2. products-get warm latency: Redis hit, cache miss (PostgreSQL + refill), and the bare
   primary-key SELECT from psycopg2 it is built on;
3. the 20th page of products-list: keyset cursor (what the function does) beside OFFSET.
Needs the stack (task stack:up) and the migrations; creates nothing but demo products.
"""
from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import redis

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
PROBE = ROOT / "tests" / "runtime" / "fixtures" / "functions" / "probe" / "main.py"
PROBE_TARGET = "probe_echo"
COLD_TARGETS = {"auth": "auth_jwks", "users": "users_me_get", "products": "products_get", "cart": "cart_get",
                "inventory": "inventory_get", "orders": "orders_get", "payments": "payments_get"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(target: str, source: Path, run_dir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(FUNCTIONS), "FUNCTION_TARGET": target,
           "XDG_RUNTIME_DIR": str(run_dir), "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "functions_framework", "--target", target, "--source",
                                str(source), "--host", "127.0.0.1", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, port


def cold_start_ms(target: str, source: Path, run_dir: Path) -> float:
    started = time.perf_counter()
    process, port = launch(target, source, run_dir)
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return (time.perf_counter() - started) * 1000
            except OSError:
                time.sleep(0.005)
            if process.poll() is not None:
                raise RuntimeError(f"{target} exited with {process.returncode}")
    finally:
        process.terminate()
        process.wait()


def timed(call, n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def row(name: str, p50: float, p99: float | None = None) -> None:
    print(f"  {name:<44} p50 {p50:8.2f} ms" + (f"   p99 {p99:8.2f} ms" if p99 is not None else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="fnshop-bench-"))

    print(f"cold start, launch -> first 200 (median of {args.rounds}):")
    probe = statistics.median(cold_start_ms(PROBE_TARGET, PROBE, run_dir) for _ in range(args.rounds))
    row("baseline: bare functions-framework function", probe)
    for domain, target in COLD_TARGETS.items():
        median = statistics.median(cold_start_ms(target, FUNCTIONS / domain / "main.py", run_dir)
                                   for _ in range(args.rounds))
        row(f"{target} (+{median - probe:.0f} ms)", median)

    pg = psycopg2.connect(os.environ["DATABASE_URL"])
    pg.autocommit = True
    cache = redis.Redis.from_url(os.environ["REDIS_URL"])
    with pg.cursor() as cur:
        cur.execute("SELECT id::text FROM products WHERE deleted_at IS NULL ORDER BY created_at LIMIT 1")
        found = cur.fetchone()
    if not found:
        sys.exit("bench: no products; run `dev/task seed` first")
    product_id = found[0]

    process, port = launch("products_get", FUNCTIONS / "products" / "main.py", run_dir)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                time.sleep(0.05)

        def get() -> None:
            conn.request("GET", f"/api/products/{product_id}")
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status

        def miss() -> None:
            cache.delete(f"product:{product_id}")
            get()

        def select() -> None:
            with pg.cursor() as cur:
                cur.execute("SELECT * FROM products WHERE id = %s", (product_id,))
                cur.fetchone()

        print(f"\nproducts-get, warm, one keep-alive connection ({args.requests} requests each):")
        get()
        row("baseline: primary-key SELECT from psycopg2", *timed(select, args.requests))
        row("products-get, Redis hit", *timed(get, args.requests))
        row("products-get, cache miss (DB read + refill)", *timed(miss, args.requests))
    finally:
        process.terminate()
        process.wait()

    print("\nthe 20th page of 20 products, SQL only (what products-list runs):")
    with pg.cursor() as cur:
        cur.execute("SELECT created_at, id FROM products WHERE deleted_at IS NULL "
                    "ORDER BY created_at DESC, id DESC OFFSET 379 LIMIT 1")
        cursor_row = cur.fetchone()
    if cursor_row is None:
        print("  (fewer than 400 products; run `dev/task seed -- --count 400`)")
        return

    def keyset() -> None:
        with pg.cursor() as cur:
            cur.execute("SELECT * FROM products WHERE deleted_at IS NULL AND (created_at, id) < (%s, %s) "
                        "ORDER BY created_at DESC, id DESC LIMIT 21", cursor_row)
            cur.fetchall()

    def offset() -> None:
        with pg.cursor() as cur:
            cur.execute("SELECT * FROM products WHERE deleted_at IS NULL "
                        "ORDER BY created_at DESC, id DESC OFFSET 380 LIMIT 21")
            cur.fetchall()

    row("baseline: OFFSET 380", *timed(offset, args.requests))
    row("keyset cursor", *timed(keyset, args.requests))


if __name__ == "__main__":
    main()
