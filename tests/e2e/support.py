"""Helpers of the eventing tests (tests/e2e and the eventing modules of tests/integration):
cutting a stack service for a while, posting CloudEvents to consumer functions, reading events
back from Kafka with their schema checked, and waiting for effects."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from cloudevents.kafka import KafkaMessage, from_binary

from fnkit.events import data_errors

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "dev" / "stack" / "stack.py"


def stack(command: str, service: str) -> None:
    """`dev/stack/stack.py stop|start SERVICE` on the stack of this checkout (FNSHOP_STATE_DIR)."""
    subprocess.run([sys.executable, str(STACK), command, service], check=True, capture_output=True, timeout=120)


@contextmanager
def stopped(service: str):
    """The stack service is down inside the block and always started again after it."""
    stack("stop", service)
    try:
        yield
    finally:
        stack("start", service)


def wait_for(condition, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def decode(record):
    """The CloudEvent of a binary-mode Kafka record, checked against its JSON Schema."""
    event = from_binary(KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value))
    assert data_errors(event["type"], event.data) == [], (event["type"], event.data)
    return event


def events_from(reader, until, timeout: float = 15.0) -> list:
    """Decoded (schema-checked) events a TopicReader sees until `until(events)` holds."""
    seen: list = []

    def done(records) -> bool:
        seen[:] = [decode(r) for r in records if dict(r.headers).get("ce_type", b"").startswith(b"com.fnshop.")]
        return bool(until(seen))

    reader.records(timeout, until=done)
    return seen


def first(events: list, event_type: str, subject: str):
    return next((e for e in events if e["type"] == event_type and e["subject"] == subject), None)


def post_event(url: str, event, timeout: float = 30) -> requests.Response:
    """POST a CloudEvent (as read from Kafka) to a consumer, binary mode, as the dispatcher does."""
    headers = {f"ce-{k}": str(v) for k, v in event.get_attributes().items() if k != "datacontenttype"}
    headers["Content-Type"] = event.get_attributes().get("datacontenttype", "application/json")
    return requests.post(url, headers=headers, data=json.dumps(event.data), timeout=timeout)


def offsets_now(bootstrap: str, topic: str) -> dict[int, int]:
    """The topic's end offsets. With `reader_from` this replaces a TopicReader kept open across a
    Kafka outage: kafka-python 3.0 leaks the socket of every failed reconnect (ResourceWarnings,
    errors under the suite's warning filter), so no client of this process lives through one."""
    from tests.support.kafka_events import TopicReader

    reader = TopicReader(bootstrap, topic)
    try:
        return {tp.partition: reader.consumer.position(tp) for tp in reader.consumer.assignment()}
    finally:
        reader.close()


def reader_from(bootstrap: str, topic: str, offsets: dict[int, int]):
    """A TopicReader that starts at `offsets` (from offsets_now) instead of the end."""
    from kafka import TopicPartition

    from tests.support.kafka_events import TopicReader

    reader = TopicReader(bootstrap, topic)
    for partition, offset in offsets.items():
        reader.consumer.seek(TopicPartition(topic, partition), offset)
    return reader
