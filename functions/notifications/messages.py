"""What a user is told about an order or payment event, in plain Python. No I/O here.

One notification per event of the types in KINDS; its id is derived from the CloudEvent
(source and id), so a redelivered event maps onto the same notification. payment.succeeded
is not here on purpose: order.paid follows it and tells the same news.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

DEFAULT_PAGE_SIZE = 20
_NAMESPACE = uuid.UUID("7d0c4bd1-5c1e-4d0f-9a51-3c0f3b8c2a61")  # fixed forever: ids must stay stable

KINDS = {
    "com.fnshop.order.created": "order_placed",
    "com.fnshop.order.paid": "order_paid",
    "com.fnshop.order.cancelled": "order_cancelled",
    "com.fnshop.payment.failed": "payment_failed",
    "com.fnshop.payment.refunded": "payment_refunded",
}
# When it happened, by the event's own business timestamp (the CloudEvent `time` is the fallback).
_OCCURRED_FIELD = {"com.fnshop.order.created": "created_at", "com.fnshop.order.paid": "paid_at",
                   "com.fnshop.order.cancelled": "cancelled_at", "com.fnshop.payment.failed": "failed_at",
                   "com.fnshop.payment.refunded": "refunded_at"}
_CANCEL_REASONS = {"cancelled_by_customer": "you cancelled it", "cancelled_by_admin": "our team cancelled it",
                   "payment_overdue": "it was not paid in time"}
_ZERO_DECIMAL = {"JPY", "KRW", "CLP", "ISK", "VND"}  # ISO 4217 currencies without minor units
_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")  # the token subjects carts accept too


@dataclass(frozen=True)
class Notification:
    id: str
    user_id: str
    kind: str
    title: str
    body: str
    order_id: str | None
    payment_id: str | None
    event_type: str
    occurred_at: datetime
    read_at: datetime | None = None

    def to_public(self) -> dict:
        return {"id": self.id, "user_id": self.user_id, "kind": self.kind, "title": self.title, "body": self.body,
                "order_id": self.order_id, "payment_id": self.payment_id, "occurred_at": self.occurred_at.isoformat(),
                "read_at": self.read_at.isoformat() if self.read_at else None}


def is_user_id(value: str) -> bool:
    return bool(_USER_ID.match(value))


def is_notification_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def notification_id(event_source: str, event_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{event_source}\n{event_id}"))


def money(value: dict) -> str:
    """{"amount": 5699, "currency": "EUR"} -> "EUR 56.99"."""
    amount, currency = value["amount"], value["currency"]
    if currency in _ZERO_DECIMAL:
        return f"{currency} {amount}"
    return f"{currency} {amount // 100}.{amount % 100:02d}"


def compose(event_type: str, data: dict, event_source: str, event_id: str, event_time: str | None) -> Notification:
    """The notification for an event of KINDS (KeyError for any other type)."""
    kind = KINDS[event_type]
    short = data["order_id"][:8]
    if kind == "order_placed":
        items = data["item_count"]
        title = "Order placed"
        body = (f"We received your order {short} of {items} item{'s' if items != 1 else ''} "
                f"({money(data['total'])}). Pay it to confirm it.")
    elif kind == "order_paid":
        title, body = "Order confirmed", f"Your payment of {money(data['total'])} for order {short} was received."
    elif kind == "order_cancelled":
        title = "Order cancelled"
        body = f"Order {short} was cancelled: {_CANCEL_REASONS.get(data['reason'], data['reason'])}."
    elif kind == "payment_failed":
        title = "Payment failed"
        body = (f"Your payment of {money(data['amount'])} for order {short} did not go through "
                f"({data['failure_message'] or data['failure_code']}). You can try again.")
    else:
        title = "Refund issued"
        body = f"{money(data['amount'])} of your payment for order {short} was refunded."
    occurred = data.get(_OCCURRED_FIELD[event_type]) or event_time
    return Notification(notification_id(event_source, event_id), data["user_id"], kind, title, body,
                        data.get("order_id"), data.get("payment_id"), event_type, datetime.fromisoformat(occurred))
