"""What the dashboards and alerts read really exists: every metric name they reference is
exposed by a running function or the relay, and logs are JSON lines carrying the trace id."""
from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import requests

from tests.support.catalog import create_product, new_product

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("monitoring_check", ROOT / "dev" / "monitoring" / "check.py")
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def exposed_names(text: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


def test_every_metric_the_dashboards_read_is_exposed(products_api, relay, issuer, unique):
    create_product(products_api, issuer.admin_token(), new_product(unique))  # gives the relay something to publish
    requests.get(f"{products_api['products_list']}/api/products", timeout=5)
    requests.get(f"{products_api['products_get']}/api/products/00000000-0000-4000-8000-000000000000", timeout=5)
    exposed = exposed_names(requests.get(f"{products_api['products_list']}/metrics", timeout=5).text)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the relay samples its backlog once per cycle
        try:
            relay_names = exposed_names(requests.get(relay.metrics_url, timeout=2).text)
            if "fnshop_outbox_published_events_total" in relay_names:
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    missing = check.referenced_metrics() - exposed - relay_names
    assert not missing, f"dashboards/rules read metrics nobody exposes: {sorted(missing)}"


def test_logs_are_json_with_the_callers_trace_id(products_api, log_dir):
    trace = "5bf92f3577b34da6a3ce929d0e0e4736"
    requests.get(f"{products_api['products_list']}/api/products", timeout=5,
                 headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
    time.sleep(0.2)
    lines = [json.loads(line) for line in (log_dir / "products_list.log").read_text().splitlines() if line.startswith("{")]
    entry = next(line for line in lines if line.get("trace_id") == trace)
    assert entry["function"] == "products-list" and entry["msg"] == "request" and entry["status"] == 200
    assert entry["level"] == "info" and entry["path"] == "/api/products"
