"""Check monitoring/: the PrometheusRule groups pass `promtool check rules` and the unit tests
in monitoring/tests/, and every dashboard query parses as PromQL (or LogQL for Loki panels).

    python dev/monitoring/check.py        (task monitoring:check)

promtool comes from Debian's `prometheus` package, unpacked into .state/bin (no daemon).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
STATE = Path(os.environ.get("FNSHOP_STATE_DIR", ROOT / ".state"))


def promtool() -> Path:
    tool = STATE / "bin" / "promtool"
    if tool.exists():
        return tool
    with tempfile.TemporaryDirectory() as scratch:
        download = ["apt-get", "download", "prometheus"]
        if subprocess.run(download, cwd=scratch, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
            subprocess.run(download, cwd=scratch, check=True, capture_output=True)
        deb = next(Path(scratch).glob("prometheus_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), f"{scratch}/root"], check=True)
        tool.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f"{scratch}/root/usr/bin/promtool", tool)
    return tool


def rule_groups() -> dict:
    """The `groups` of every PrometheusRule in monitoring/, as a plain Prometheus rule file."""
    groups = []
    for path in sorted(MONITORING.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "PrometheusRule":
                groups += doc["spec"]["groups"]
    return {"groups": groups}


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard file, datasource type, expression) of every panel target."""
    queries = []
    for path in sorted((MONITORING / "grafana").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                kind = (target.get("datasource") or panel.get("datasource") or {}).get("type", "prometheus")
                queries.append((path.name, kind, target["expr"]))
    return queries


def concrete(expr: str) -> str:
    """Grafana variables become values, so the query parses as the server would see it."""
    return expr.replace("$__rate_interval", "5m").replace("$function", "products-get").replace("$route", "/")


def referenced_metrics() -> set[str]:
    """Metric names the dashboards and rules read (recording rules excluded)."""
    import promql_parser

    recorded = {rule["record"] for group in rule_groups()["groups"] for rule in group["rules"] if "record" in rule}
    exprs = [rule["expr"] for group in rule_groups()["groups"] for rule in group["rules"]]
    exprs += [expr for _, kind, expr in dashboard_queries() if kind == "prometheus"]
    names: set[str] = set()
    for expr in exprs:
        promql_parser.walk(promql_parser.parse(concrete(expr)), pre_visit=lambda node: names.add(node.name)
                           if isinstance(node, promql_parser.VectorSelector) and node.name else None)
    return names - recorded - {"up"}


def main() -> int:
    import promql_parser

    failures = []
    for name, kind, expr in dashboard_queries():
        if kind == "prometheus":
            try:
                promql_parser.parse(concrete(expr))
            except ValueError as exc:
                failures.append(f"monitoring/grafana/{name}: {expr!r}: {exc}")
        elif kind == "loki" and not expr.lstrip().startswith("{"):
            failures.append(f"monitoring/grafana/{name}: LogQL must start with a stream selector: {expr!r}")
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "rules.yaml").write_text(yaml.safe_dump(rule_groups()))
        shutil.copy(MONITORING / "tests" / "rules-test.yaml", Path(scratch) / "rules-test.yaml")
        tool = str(promtool())
        for args in (["check", "rules", "rules.yaml"], ["test", "rules", "rules-test.yaml"]):
            result = subprocess.run([tool, *args], cwd=scratch, capture_output=True, text=True)
            if result.returncode != 0:
                failures.append(f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}")
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"monitoring: {len(failures)} problem(s); {len(dashboard_queries())} dashboard queries, "
          f"{sum(len(g['rules']) for g in rule_groups()['groups'])} rules")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
