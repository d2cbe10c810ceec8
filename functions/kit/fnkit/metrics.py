"""Prometheus metrics (prometheus-flask-exporter) on /metrics, labelled with the function name
and grouped by route template, so /api/products/{product_id} is one series, not one per id."""
from __future__ import annotations

import flask

from .config import function_name


def route(_request: flask.Request) -> str:
    """The label value; the exporter names the label after this function (`route`)."""
    return flask.g.get("route") or "unmatched"


def install(app: flask.Flask) -> None:
    from prometheus_flask_exporter import PrometheusMetrics

    PrometheusMetrics(
        app,
        path="/metrics",
        group_by=route,
        default_labels={"function": function_name()},
        excluded_paths=["/healthz", "/metrics"],
    )
