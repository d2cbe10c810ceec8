"""CloudEvents 1.0: building events, checking their data against eventing/schemas, and the
Kafka binary-mode encoding (ce_ headers) shared by the outbox relay and the HTTP ingest."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .config import env, function_name
from .validation import field_errors

TYPE_PREFIX = "com.fnshop."


@dataclass(frozen=True)
class Event:
    """An event about to be published: `subject` is the entity id and also the Kafka key."""

    type: str
    subject: str
    data: dict
    source: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    def attributes(self) -> dict[str, str]:
        return {
            "specversion": "1.0",
            "id": self.id,
            "type": self.type,
            "source": self.source or f"{env('EVENT_SOURCE_PREFIX')}/{function_name()}",
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": "application/json",
            # Knative's KafkaSink turns `partitionkey` into the record key: events of one
            # entity land in one partition, so consumers see them in commit order.
            "partitionkey": self.subject,
        }


class UnknownEventType(ValueError):
    pass


_schemas: dict[str, dict] = {}


def schema_for(event_type: str) -> dict:
    if event_type not in _schemas:
        path = Path(env("EVENT_SCHEMAS_DIR")) / f"{event_type}.json"
        if not path.is_file():
            raise UnknownEventType(f"no JSON Schema for event type {event_type!r} at {path}")
        _schemas[event_type] = json.loads(path.read_text())
    return _schemas[event_type]


def data_errors(event_type: str, data: object) -> list[str]:
    """Why `data` does not match the schema of its type (empty when it does)."""
    return [f"{e.field}: {e.message}" for e in field_errors(schema_for(event_type), data)]


def check(event: Event) -> None:
    """Producers call this before publishing: an event that breaks its contract is a bug."""
    problems = data_errors(event.type, event.data)
    if problems:
        raise ValueError(f"event {event.type} does not match its schema: {'; '.join(problems)}")


def to_kafka(attributes: dict[str, str], data: object):
    """Encode as a binary-mode Kafka message: ce_* headers, JSON value, key = partitionkey."""
    from cloudevents.http import CloudEvent
    from cloudevents.kafka import to_binary

    return to_binary(CloudEvent(dict(attributes), data))
