"""The consumers as real functions on the real stack, fed the real events the checkout emits
(read back from Kafka, schema-checked) the way the dispatcher POSTs them: payment.succeeded
marks the order paid, order.paid commits the stock and counts co-purchases, order.cancelled
(the overdue schedule) releases it. Every redelivery changes nothing."""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.e2e.support import events_from, first, post_event
from tests.integration.conftest_checkout import *  # noqa: F403 (fixtures)
from tests.integration.conftest_checkout import ADDRESS, count

CONSUMERS = ("orders_apply_payment", "inventory_apply_order", "recommendations_record_copurchases")


@pytest.fixture(scope="module")
def consumers(start_checkout_function, shop) -> dict[str, str]:
    return {target: start_checkout_function(target) for target in CONSUMERS}


def processed(pg, consumer: str, event) -> int:
    return count(pg, "SELECT count(*) FROM processed_events WHERE consumer = %s AND event_source = %s AND event_id = %s",
                 consumer, event["source"], event["id"])


def test_payment_to_paid_order_to_committed_stock_and_copurchases(shop, consumers, readers, pg, unique):
    user_id, token = shop.customer()
    kettle, mug = shop.product(unique, amount=3999, stock=5), shop.product(unique + "M", amount=850, stock=5)
    assert shop.add(user_id, token, kettle, 1).status_code == 200
    assert shop.add(user_id, token, mug, 2).status_code == 200
    order = shop.order(token).json()
    payment = shop.pay(token, order["id"]).json()
    assert payment["status"] == "succeeded"

    succeeded = first(events_from(readers["payments"], lambda seen: first(seen, "com.fnshop.payment.succeeded", payment["id"])),
                      "com.fnshop.payment.succeeded", payment["id"])
    for _ in range(2):  # the second POST is a redelivery
        assert post_event(consumers["orders_apply_payment"], succeeded).status_code == 200
    assert processed(pg, "orders_apply_payment", succeeded) == 1
    assert shop.call("orders_get", "GET", f"/api/orders/{order['id']}", token).json()["status"] == "paid"

    paid_events = events_from(readers["orders"], lambda seen: first(seen, "com.fnshop.order.paid", order["id"]))
    paid = first(paid_events, "com.fnshop.order.paid", order["id"])
    assert sorted((l["product_id"], l["quantity"]) for l in paid.data["lines"]) == sorted([(kettle, 1), (mug, 2)])
    assert paid.data["payment_id"] == payment["id"] and paid["source"].endswith("/orders-apply-payment")
    assert count(pg, "SELECT count(*) FROM outbox WHERE attributes->>'subject' = %s AND attributes->>'type' = %s",
                 order["id"], "com.fnshop.order.paid") == 1  # the redelivery emitted nothing

    for _ in range(2):
        assert post_event(consumers["inventory_apply_order"], paid).status_code == 200
        assert post_event(consumers["recommendations_record_copurchases"], paid).status_code == 200
    assert shop.stock(kettle) == {"product_id": kettle, "available": 4, "reserved": 0}
    assert shop.stock(mug) == {"product_id": mug, "available": 3, "reserved": 0}
    assert count(pg, "SELECT count(*) FROM reservations WHERE order_id = %s AND status = 'committed'", order["id"]) == 1
    assert count(pg, "SELECT orders FROM copurchases WHERE product_id = %s AND other_id = %s", kettle, mug) == 1
    assert count(pg, "SELECT orders FROM copurchases WHERE product_id = %s AND other_id = %s", mug, kettle) == 1
    assert count(pg, "SELECT orders FROM product_purchases WHERE product_id = %s", mug) == 1


def test_a_failed_payment_leaves_the_order_payable(shop, consumers, readers, unique):
    user_id, token, order = shop.ordered(unique)
    declined = shop.pay(token, order["id"], card={"card_number": "4000000000000002"})
    assert declined.status_code == 402
    failed = first(events_from(readers["payments"], lambda seen: first(seen, "com.fnshop.payment.failed",
                                                                      declined.json()["payment_id"])),
                   "com.fnshop.payment.failed", declined.json()["payment_id"])
    assert post_event(consumers["orders_apply_payment"], failed).status_code == 200  # acknowledged, not applied
    assert shop.call("orders_get", "GET", f"/api/orders/{order['id']}", token).json()["status"] == "pending"
    assert shop.pay(token, order["id"]).status_code == 201


def test_overdue_orders_are_cancelled_and_their_stock_released(shop, consumers, start_checkout_function, readers, pg,
                                                               unique):
    quick_orders = start_checkout_function("orders_create", ORDER_PAYMENT_DEADLINE_SECONDS="1")
    user_id, token = shop.customer()
    product = shop.product(unique, stock=3)
    assert shop.add(user_id, token, product, 2).status_code == 200
    placed = requests.post(f"{quick_orders}/api/orders", json={"shipping_address": ADDRESS}, timeout=30,
                           headers={**shop.auth(token, str(uuid.uuid4()))})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    time.sleep(1.2)
    assert shop.pay(token, order["id"]).status_code == 409  # past its deadline
    sweeper = f"{start_checkout_function('orders_cancel_overdue')}/internal/orders/cancel-overdue"
    for _ in range(10):  # earliest deadline first, ORDER_OVERDUE_BATCH per run: older leftovers go first
        sweep = requests.post(sweeper, json={}, timeout=60)
        assert sweep.status_code == 200
        status = shop.call("orders_get", "GET", f"/api/orders/{order['id']}", token).json()["status"]
        if status == "cancelled" or sweep.json()["cancelled"] == 0:
            break
    assert status == "cancelled"
    cancelled = first(events_from(readers["orders"], lambda seen: first(seen, "com.fnshop.order.cancelled", order["id"])),
                      "com.fnshop.order.cancelled", order["id"])
    assert cancelled.data["reason"] == "payment_overdue"
    assert shop.stock(product)["reserved"] == 2  # held until the inventory consumer sees the event
    for _ in range(2):
        assert post_event(consumers["inventory_apply_order"], cancelled).status_code == 200
    assert shop.stock(product) == {"product_id": product, "available": 3, "reserved": 0}
    assert count(pg, "SELECT count(*) FROM outbox WHERE attributes->>'subject' = %s AND attributes->>'type' = %s",
                 order["id"], "com.fnshop.inventory.released") == 1


def test_a_domain_refusal_is_dead_lettered_not_retried(shop, consumers, readers, unique):
    """order.paid for an order whose reservation is gone: retrying cannot help, a human must look."""
    user_id, token, order = shop.ordered(unique)
    assert shop.call("orders_cancel", "POST", f"/api/orders/{order['id']}/cancel", token).status_code == 200
    created = first(events_from(readers["orders"], lambda seen: first(seen, "com.fnshop.order.created", order["id"])),
                    "com.fnshop.order.created", order["id"])
    from cloudevents.http import CloudEvent

    forged = CloudEvent({"id": str(uuid.uuid4()), "source": "/fnshop/test", "type": "com.fnshop.order.paid",
                         "subject": order["id"], "datacontenttype": "application/json"},
                        {"order_id": order["id"], "user_id": user_id, "total": created.data["total"],
                         "lines": [{"product_id": created.data["lines"][0]["product_id"], "quantity": 1}],
                         "payment_id": str(uuid.uuid4()), "paid_at": "2026-01-01T00:00:00+00:00"})
    refused = post_event(consumers["inventory_apply_order"], forged)
    assert refused.status_code == 422 and refused.json()["cause_status"] == 409
