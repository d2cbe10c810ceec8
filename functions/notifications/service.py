"""Notification operations: recording one per order/payment event (the Kafka consumer),
listing a user's newest (Redis first, PostgreSQL when Redis misses or is down) and marking one
read. The caller of list/mark_read has a verified principal; ownership is checked here."""
from __future__ import annotations

from typing import Callable

from fnkit import db, outbox
from fnkit.auth import Principal
from fnkit.config import env_int
from fnkit.consumer import Received
from fnkit.errors import not_found
from fnkit.events import Event

from . import messages, store

TOPIC = "notifications"


def record(cur, event: Received) -> Callable[[], object]:
    """Consumer handler: store the event's notification in the consumer's transaction and
    announce it; after commit, write the user's list through to Redis."""
    notification = messages.compose(event.type, event.data, event.source, event.id, event.time)
    if store.insert(cur, notification):
        store.bump_version(cur, notification.user_id)
        outbox.enqueue(cur, TOPIC, Event("com.fnshop.notification.created", notification.id, {
            "notification_id": notification.id, "user_id": notification.user_id, "kind": notification.kind,
            "title": notification.title, "body": notification.body, "order_id": notification.order_id,
            "payment_id": notification.payment_id, "occurred_at": notification.occurred_at.isoformat(),
            "caused_by": {"id": event.id, "source": event.source, "type": event.type}}))
    return lambda: refresh(notification.user_id)


def refresh(user_id: str) -> list[dict]:
    """The user's newest notifications from PostgreSQL, written through to Redis."""
    version, items = store.snapshot(user_id, env_int("NOTIFICATIONS_CACHE_SIZE"))
    public = [item.to_public() for item in items]
    store.remember(user_id, version, public, env_int("NOTIFICATIONS_CACHE_TTL_SECONDS"))
    return public


def list_for(principal: Principal, user_id: str, limit: int) -> tuple[list[dict], bool]:
    """(newest first, whether they came from Redis)."""
    principal.require_self_or_admin(user_id)
    items = store.cached(user_id)
    if items is not None:
        return items[:limit], True
    return refresh(user_id)[:limit], False


def mark_read(principal: Principal, notification_id: str) -> dict:
    with db.transaction() as cur:
        notification = store.find(cur, notification_id, lock=True)
        if notification is None:
            raise not_found(f"no notification with id {notification_id}")
        principal.require_self_or_admin(notification.user_id)
        changed = notification.read_at is None
        if changed:
            notification = store.mark_read(cur, notification_id)
            store.bump_version(cur, notification.user_id)
    if changed:
        refresh(notification.user_id)
    return notification.to_public()
