"""Kafka-fed function targets: the `@consumer(...)` decorator under `@functions_framework.cloud_event`.

    @functions_framework.cloud_event
    @consumer("com.fnshop.payment.succeeded", "com.fnshop.payment.failed")
    def orders_apply_payment(cur, event: Received): ...

A KafkaSource POSTs one CloudEvent per request and acts on the HTTP status. Per delivery:

1. The event is checked: a type fnshop has a JSON Schema for, a subject (the entity id) and,
   for the types this consumer handles, data matching the schema. Otherwise 400: a poison
   event fails the same way every time.
2. A known type the consumer does not handle is acknowledged (200) and ignored: a KafkaSource has
   no filter, it delivers every event of its topics.
3. One PostgreSQL transaction claims (consumer, source, id) in `processed_events` and runs the
   handler with the cursor, so the claim commits exactly when the effect does. An existing claim
   means a redelivery: 200, nothing runs. A concurrent twin waits on the claim's row lock, then
   sees it. The handler may return a callable to run after commit (a cache write-through); it
   must tolerate failures, which are only logged: the effect is already committed.
4. Failures become the status the Knative data plane acts on. Its contract (knative/specs
   data-plane.md, as eventing-kafka-broker implements it) retries 5xx, 404, 408, 409 and 429 and
   sends any other non-2xx to the dead-letter sink at once. So:
     400  bad event (step 1)                                   dead-lettered, not retried
     422  `Permanent`, or a domain Problem below 500            dead-lettered, not retried
          (e.g. a 409 "order already cancelled": retrying cannot change it, a human must look)
     503  `Retry`, a domain Problem of 500 and up, PostgreSQL     retried with the declared backoff
          unreachable, a deadlock or serialization failure
     500  anything else (a bug)                                 retried, then dead-lettered
   Older KafkaSource data planes retried every non-2xx; with them a poison event only reaches
   the dead-letter sink after the retries, with the same end state.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Callable

from . import db, logs
from .errors import FieldError, Problem
from .events import UnknownEventType, schema_for
from .validation import field_errors

log = logs.get("fnkit.consumer")


@dataclass(frozen=True)
class Received:
    """The CloudEvent being consumed (attributes as delivered, data already checked)."""

    id: str
    source: str
    type: str
    subject: str
    time: str | None
    data: dict


class Permanent(Exception):
    """Will fail the same way on every delivery: dead-letter it now (422)."""


class Retry(Exception):
    """A dependency is away or busy: deliver again later (503)."""


def received(event, check_data: bool = True) -> Received:
    """The checked event, or a 400 Problem saying what is wrong with it."""
    attrs = event.get_attributes()
    event_type = str(attrs.get("type", ""))
    try:
        schema = schema_for(event_type)
    except UnknownEventType:
        raise Problem(400, "Invalid event", f"unknown event type {event_type!r}", slug="invalid-event",
                      errors=[FieldError("type", "has no JSON Schema in eventing/schemas")]) from None
    errors = [FieldError("data" if e.field == "(body)" else f"data.{e.field}", e.message)
              for e in (field_errors(schema, event.data) if check_data else [])]
    if not attrs.get("subject"):
        errors.append(FieldError("subject", "is required (the entity id)"))
    if errors:
        raise Problem(400, "Invalid event", f"{event_type} {attrs.get('id')} breaks its contract",
                      slug="invalid-event", errors=errors)
    return Received(str(attrs["id"]), str(attrs["source"]), event_type, str(attrs["subject"]),
                    attrs.get("time"), event.data)


def status_of(error: BaseException) -> Problem:
    """The answer for a failed handler (see the table in the module docstring)."""
    if isinstance(error, Problem):
        if error.status >= 500:
            return Problem(503, "Retry later", str(error.detail or error.title), slug="consumer-retry",
                           headers={"Retry-After": "1"})
        return Problem(422, "Event cannot be applied", f"{error.status} {error.title}: {error.detail or ''}",
                       slug="consumer-permanent", extensions={"cause_status": error.status})
    if isinstance(error, Permanent):
        return Problem(422, "Event cannot be applied", str(error), slug="consumer-permanent")
    if isinstance(error, Retry) or _transient_database_error(error):
        return Problem(503, "Retry later", f"{type(error).__name__}: {error}", slug="consumer-retry",
                       headers={"Retry-After": "1"})
    return Problem(500, "Internal error", "the consumer failed unexpectedly; it was logged")


def _transient_database_error(error: BaseException) -> bool:
    import psycopg2
    from psycopg2 import errors

    return isinstance(error, (psycopg2.OperationalError, errors.DeadlockDetected, errors.SerializationFailure,
                              errors.LockNotAvailable))


def claim(cur, consumer_name: str, event: Received) -> bool:
    """Record the event as applied by this consumer; False when it already was."""
    cur.execute(
        "INSERT INTO processed_events (consumer, event_source, event_id, event_type) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        (consumer_name, event.source, event.id, event.type),
    )
    return cur.fetchone() is not None


def apply(consumer_name: str, event: Received, handler: Callable) -> str:
    """Claim and apply in one transaction; returns "applied" or "duplicate". Raises the Problem
    to answer when the handler fails."""
    try:
        with db.transaction() as cur:
            if not claim(cur, consumer_name, event):
                return "duplicate"
            follow_up = handler(cur, event)
    except Exception as exc:
        problem = status_of(exc)
        (log.exception if problem.status == 500 else log.warning)(
            "event not applied", extra={"consumer": consumer_name, "event_id": event.id, "event_type": event.type,
                                        "status": problem.status, "error": f"{type(exc).__name__}: {exc}"})
        raise problem from exc
    if callable(follow_up):
        try:
            follow_up()
        except Exception as exc:  # committed already; the follow-up is best effort by contract
            log.warning("after-commit step failed", extra={"consumer": consumer_name, "event_id": event.id,
                                                           "error": f"{type(exc).__name__}: {exc}"})
    return "applied"


def consumer(*types: str):
    """Make `handler(cur, event: Received)` a CloudEvent target applying `types` once each."""
    handled = frozenset(types)

    def decorate(handler):
        import flask

        from . import http

        if flask.has_app_context():  # functions-framework loads main.py inside the app context
            http.install(flask.current_app._get_current_object())

        @functools.wraps(handler)
        def target(cloud_event):
            started = time.perf_counter()
            flask.g.route = "cloudevent"
            event_type = str(cloud_event.get_attributes().get("type", ""))
            # Data is checked only for the types handled here: every consumer of a topic would
            # otherwise dead-letter a broken event it ignores anyway.
            event = received(cloud_event, check_data=event_type in handled)
            flask.g.route = event.type  # metrics per event type, not per path
            if event.type not in handled:
                log.debug("event type not handled here", extra={"event_id": event.id, "event_type": event.type})
                return None
            outcome = apply(handler.__name__, event, handler)
            log.info("event " + outcome, extra={
                "consumer": handler.__name__, "event_id": event.id, "event_type": event.type,
                "subject": event.subject, "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
            return None

        target.handles = handled
        return target

    return decorate
