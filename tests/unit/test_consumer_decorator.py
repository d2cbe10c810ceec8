"""fnkit.consumer without sockets: a real functions-framework app (create_app over a tiny
fixture target) and its test client; the database transaction is a fake that records what the
consumer would commit. Statuses follow the Knative data-plane contract (see the module)."""
from __future__ import annotations

import json
import sys
import textwrap
import uuid
from contextlib import contextmanager

import psycopg2
import pytest

from fnkit import consumer as consumer_module
from fnkit.consumer import Permanent, Retry, status_of
from fnkit.errors import Problem, conflict

ORDER_ID = "6a1f3c9e-1d2b-4c3a-9f8e-7d6c5b4a3e21"
PAID = {"order_id": ORDER_ID, "user_id": "u-1", "total": {"amount": 1250, "currency": "EUR"},
        "lines": [{"product_id": "0b7c6d5e-4f3a-4b2c-8d1e-9f8a7b6c5d4e", "quantity": 2}],
        "payment_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "paid_at": "2026-01-01T10:00:00+00:00"}

FIXTURE = textwrap.dedent('''
    import functions_framework
    from fnkit.consumer import consumer

    CALLS = []
    BEHAVIOUR = {}

    @functions_framework.cloud_event
    @consumer("com.fnshop.order.paid")
    def unit_consumer(cur, event):
        CALLS.append(event)
        failure = BEHAVIOUR.get("raise")
        if failure is not None:
            raise failure
        return BEHAVIOUR.get("after")
''')


class FakeCursor:
    """Answers the processed_events claim: a first delivery inserts, a repeat finds the row."""

    def __init__(self, claimed: set):
        self.claimed, self.row = claimed, None

    def execute(self, sql, params):
        assert sql.startswith("INSERT INTO processed_events")
        key = params[:3]
        self.row = None if key in self.claimed else {"event_id": params[2]}
        self.pending = key

    def fetchone(self):
        return self.row


@pytest.fixture()
def app(tmp_path, monkeypatch):
    import functions_framework

    committed: set = set()

    @contextmanager
    def transaction():
        cur = FakeCursor(committed)
        yield cur  # an exception from the handler propagates: nothing is "committed"
        if cur.row is not None:
            committed.add(cur.pending)

    monkeypatch.setattr(consumer_module.db, "transaction", transaction)
    source = tmp_path / "main.py"
    source.write_text(FIXTURE)
    flask_app = functions_framework.create_app("unit_consumer", str(source), "cloudevent")
    flask_app.committed = committed
    return flask_app


def post(app, event_type="com.fnshop.order.paid", data=None, event_id=None, subject=ORDER_ID, **headers):
    headers = {"ce-specversion": "1.0", "ce-id": event_id or str(uuid.uuid4()), "ce-source": "/fnshop/test",
               "ce-type": event_type, "Content-Type": "application/json", **headers}
    if subject is not None:
        headers["ce-subject"] = subject
    return app.test_client().post("/", headers=headers, data=json.dumps(PAID if data is None else data))


def calls(app) -> list:
    return sys.modules["main"].CALLS  # functions-framework registers the source module as `main`


def behave(app, **behaviour) -> None:
    sys.modules["main"].BEHAVIOUR.clear()
    sys.modules["main"].BEHAVIOUR.update(behaviour)


def test_a_valid_event_runs_the_handler_once_per_id(app):
    behave(app)
    first = post(app, event_id="evt-1")
    assert first.status_code == 200
    again = post(app, event_id="evt-1")  # redelivery: the claim exists
    assert again.status_code == 200
    assert [event.id for event in calls(app)] == ["evt-1"]
    event = calls(app)[0]
    assert (event.type, event.subject, event.source, event.data) == ("com.fnshop.order.paid", ORDER_ID, "/fnshop/test", PAID)
    assert app.committed == {("unit_consumer", "/fnshop/test", "evt-1")}


def test_bad_events_are_400_and_never_reach_the_handler(app):
    behave(app)
    unknown = post(app, event_type="com.fnshop.nothing.happened")
    assert unknown.status_code == 400 and unknown.mimetype == "application/problem+json"
    assert unknown.json["errors"] == [{"field": "type", "message": "has no JSON Schema in eventing/schemas"}]
    broken = post(app, data={**PAID, "payment_id": "not-a-uuid", "extra": 1})
    assert broken.status_code == 400
    assert {e["field"] for e in broken.json["errors"]} == {"data.payment_id", "data.extra"}
    assert post(app, subject=None).json["errors"] == [{"field": "subject", "message": "is required (the entity id)"}]
    assert post(app, data=[1, 2]).json["errors"][0]["field"] == "data"
    assert calls(app) == [] and app.committed == set()


def test_not_a_cloudevent_at_all_is_refused_without_retries(app):
    # functions-framework answers these itself (400 for JSON, 415 otherwise): 4xx Knative does not retry.
    plain = app.test_client().post("/", data=b"hello", headers={"Content-Type": "text/plain"})
    json_only = app.test_client().post("/", json={"order_id": ORDER_ID})
    assert (plain.status_code, json_only.status_code) == (415, 400)


def test_known_types_it_does_not_handle_are_acknowledged_even_if_broken(app):
    behave(app)
    response = post(app, event_type="com.fnshop.order.created", data={"whatever": True})
    assert response.status_code == 200
    assert calls(app) == [] and app.committed == set()


@pytest.mark.parametrize("failure, status", [
    (conflict("order was already cancelled"), 422),        # domain refusal: retrying cannot help
    (Problem(404, "Not found", "no reservation"), 422),      # 404 would be retried by Knative: avoid it
    (Permanent("cannot apply"), 422),
    (Problem(503, "Service unavailable", "inventory away"), 503),
    (Retry("busy"), 503),
    (psycopg2.OperationalError("server closed the connection"), 503),
    (RuntimeError("a bug"), 500),
])
def test_failures_map_to_what_the_data_plane_should_do(app, failure, status):
    behave(app, **{"raise": failure})
    response = post(app, event_id=f"evt-{status}-{type(failure).__name__}")
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert app.committed == set()  # rolled back: the retry will apply it
    if status == 503:
        assert response.headers["Retry-After"] == "1"


def test_a_failed_attempt_is_applied_by_the_retry(app):
    behave(app, **{"raise": Retry("busy")})
    assert post(app, event_id="evt-r").status_code == 503
    behave(app)
    assert post(app, event_id="evt-r").status_code == 200
    assert len(calls(app)) == 2 and app.committed == {("unit_consumer", "/fnshop/test", "evt-r")}


def test_the_after_commit_step_runs_and_its_failure_does_not_fail_the_event(app):
    ran = []
    behave(app, after=lambda: ran.append(True))
    assert post(app).status_code == 200 and ran == [True]

    def broken():
        raise ConnectionError("redis away")

    behave(app, after=broken)
    assert post(app).status_code == 200  # committed already; only logged


def test_status_table_is_outside_the_retryable_4xx():
    retried_by_knative = {404, 408, 409, 429}
    for error in (conflict("x"), Problem(404, "Not found"), Problem(429, "Too many"), Permanent("x")):
        assert status_of(error).status not in retried_by_knative


def test_health_and_metrics_are_served_like_any_function(app):
    client = app.test_client()
    assert client.get("/healthz").json["status"] == "ok"
    assert client.get("/metrics").status_code == 200
