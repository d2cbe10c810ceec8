"""monitoring/: rules pass promtool (including their unit tests) and dashboards parse."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("monitoring_check", ROOT / "dev" / "monitoring" / "check.py")
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def test_rules_and_dashboards_pass_promtool_and_parse(capsys):
    assert check.main() == 0, capsys.readouterr().err


def test_dashboards_read_the_function_and_relay_metrics():
    assert {"flask_http_request_total", "flask_http_request_duration_seconds_bucket",
            "fnshop_outbox_pending_events", "fnshop_outbox_oldest_pending_age_seconds"} <= check.referenced_metrics()
