"""Transactional outbox: an event is stored in the same transaction as the write it describes,
and the relay (fnkit.relay) publishes it after commit. A rolled-back write publishes nothing;
a crash after commit loses nothing."""
from __future__ import annotations

import json

from .events import Event, check


def enqueue(cur, topic: str, event: Event) -> None:
    """Call inside `db.transaction()`, after the entity write (so per-entity order = id order)."""
    check(event)
    cur.execute(
        "INSERT INTO outbox (event_id, topic, attributes, data) VALUES (%s, %s, %s, %s)",
        (event.id, topic, json.dumps(event.attributes()), json.dumps(event.data)),
    )
    # Delivered at commit only, so the relay wakes for committed rows and never for rolled-back ones.
    cur.execute("NOTIFY outbox")
