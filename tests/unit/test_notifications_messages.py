"""What users are told, in plain Python: one notification per event kind, stable ids, money."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fnkit.events import data_errors
from notifications.messages import KINDS, compose, is_notification_id, is_user_id, money, notification_id

ORDER = "6a1f3c9e-1d2b-4c3a-9f8e-7d6c5b4a3e21"
PAYMENT = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
TOTAL = {"amount": 5699, "currency": "EUR"}
LINE = {"product_id": "0b7c6d5e-4f3a-4b2c-8d1e-9f8a7b6c5d4e", "sku": "MUG-1", "name": "Mug",
        "unit_price": {"amount": 5699, "currency": "EUR"}, "quantity": 1, "line_total": TOTAL}
EVENTS = {
    "com.fnshop.order.created": {"order_id": ORDER, "user_id": "u-1", "status": "pending", "lines": [LINE],
                                 "total": TOTAL, "item_count": 1, "created_at": "2026-01-01T10:00:00+00:00"},
    "com.fnshop.order.paid": {"order_id": ORDER, "user_id": "u-1", "total": TOTAL,
                              "lines": [{"product_id": LINE["product_id"], "quantity": 1}],
                              "payment_id": PAYMENT, "paid_at": "2026-01-01T10:05:00+00:00"},
    "com.fnshop.order.cancelled": {"order_id": ORDER, "user_id": "u-1", "total": TOTAL, "reason": "payment_overdue",
                                   "cancelled_at": "2026-01-01T10:20:00+00:00"},
    "com.fnshop.payment.failed": {"payment_id": PAYMENT, "order_id": ORDER, "user_id": "u-1", "amount": TOTAL,
                                  "failure_code": "card_declined", "failure_message": "The card was declined.",
                                  "failed_at": "2026-01-01T10:04:00+00:00"},
    "com.fnshop.payment.refunded": {"payment_id": PAYMENT, "order_id": ORDER, "user_id": "u-1",
                                    "refund_id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", "amount": {"amount": 1000, "currency": "EUR"},
                                    "refunded_total": {"amount": 1000, "currency": "EUR"}, "fully_refunded": False,
                                    "refunded_at": "2026-01-02T09:00:00+00:00"},
}


def test_the_sample_events_match_their_schemas():
    assert set(EVENTS) == set(KINDS)
    for event_type, data in EVENTS.items():
        assert data_errors(event_type, data) == [], event_type


@pytest.mark.parametrize("event_type, kind, title, words", [
    ("com.fnshop.order.created", "order_placed", "Order placed", ["6a1f3c9e", "1 item ", "EUR 56.99"]),
    ("com.fnshop.order.paid", "order_paid", "Order confirmed", ["EUR 56.99", "6a1f3c9e"]),
    ("com.fnshop.order.cancelled", "order_cancelled", "Order cancelled", ["not paid in time"]),
    ("com.fnshop.payment.failed", "payment_failed", "Payment failed", ["The card was declined.", "try again"]),
    ("com.fnshop.payment.refunded", "payment_refunded", "Refund issued", ["EUR 10.00"]),
])
def test_each_kind_says_what_happened(event_type, kind, title, words):
    n = compose(event_type, EVENTS[event_type], "/fnshop/x", "evt-1", None)
    assert (n.kind, n.title, n.user_id, n.order_id) == (kind, title, "u-1", ORDER)
    for word in words:
        assert word in n.body, n.body
    assert n.occurred_at.tzinfo is not None
    public = n.to_public()
    assert public["read_at"] is None and public["occurred_at"] == n.occurred_at.isoformat()


def test_the_business_time_wins_over_the_event_time():
    n = compose("com.fnshop.order.paid", EVENTS["com.fnshop.order.paid"], "/s", "e", "2030-01-01T00:00:00Z")
    assert n.occurred_at == datetime(2026, 1, 1, 10, 5, tzinfo=timezone.utc)


def test_ids_are_stable_per_event_and_distinct_across_events():
    assert notification_id("/fnshop/orders-create", "e-1") == notification_id("/fnshop/orders-create", "e-1")
    assert notification_id("/fnshop/orders-create", "e-1") != notification_id("/fnshop/orders-create", "e-2")
    assert notification_id("/a", "e-1") != notification_id("/b", "e-1")
    assert is_notification_id(notification_id("/a", "e-1"))


def test_money_and_ids():
    assert money({"amount": 5, "currency": "EUR"}) == "EUR 0.05"
    assert money({"amount": 1200, "currency": "JPY"}) == "JPY 1200"
    assert is_user_id("3b7e-user@example") and not is_user_id("../etc") and not is_user_id("")
    assert not is_notification_id("6A1F3C9E-1D2B-4C3A-9F8E-7D6C5B4A3E21x")
