"""The money path end to end, every function a real process on the real stack: tokens from the
test issuer -> cart -> order (inventory reserved over HTTP) -> payment -> events on Kafka ->
mark_paid commits the reservation."""
from __future__ import annotations

import pytest

from fnkit.events import data_errors
from tests.integration.conftest_checkout import *  # noqa: F403 (fixtures)
from tests.integration.conftest_checkout import ADDRESS, count


def assert_event(reader, subject: str, event_type: str) -> dict:
    event, record = reader.event_for(subject)
    assert event["type"] == event_type
    assert record.key == subject.encode()
    assert data_errors(event["type"], event.data) == []
    return event.data


def test_cart_to_order_to_payment(shop, readers, pg, unique, monkeypatch, stack_env):
    user_id, token = shop.customer()
    kettle = shop.product(unique, amount=3999, stock=5)
    mug = shop.product(unique + "M", amount=850, stock=5)
    assert shop.add(user_id, token, kettle, 1).status_code == 200
    cart = shop.add(user_id, token, mug, 2).json()
    assert cart["total"] == {"amount": 3999 + 2 * 850, "currency": "EUR"}

    placed = shop.order(token)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert placed.headers["Location"] == f"/api/orders/{order['id']}"
    assert order["status"] == "pending" and order["user_id"] == user_id
    assert order["total"] == {"amount": 5699, "currency": "EUR"} and order["item_count"] == 3
    assert order["shipping_address"] == ADDRESS
    assert shop.stock(kettle) == {"product_id": kettle, "available": 4, "reserved": 1}
    assert shop.stock(mug) == {"product_id": mug, "available": 3, "reserved": 2}
    assert shop.call("cart_get", "GET", f"/api/cart/{user_id}", token).json()["lines"] == []

    created = assert_event(readers["orders"], order["id"], "com.fnshop.order.created")
    assert created["total"] == order["total"] and len(created["lines"]) == 2
    reserved = assert_event(readers["inventory"], order["id"], "com.fnshop.inventory.reserved")
    assert sorted((line["product_id"], line["quantity"]) for line in reserved["lines"]) == sorted(
        [(kettle, 1), (mug, 2)])

    paid = shop.pay(token, order["id"])
    assert paid.status_code == 201, paid.text
    payment = paid.json()
    assert payment["status"] == "succeeded" and payment["amount"] == order["total"]
    assert payment["payment_method"]["last4"] == "4242" and "card_number" not in payment["payment_method"]
    succeeded = assert_event(readers["payments"], payment["id"], "com.fnshop.payment.succeeded")
    assert succeeded["order_id"] == order["id"] and succeeded["amount"] == order["total"]
    read = shop.call("payments_get", "GET", f"/api/payments/{payment['id']}", token)
    assert read.status_code == 200 and read.json()["status"] == "succeeded"

    # What the payment.succeeded consumer will do: mark the order paid, committing the stock.
    from orders import service as orders

    monkeypatch.setenv("INVENTORY_URL", shop.inventory_url)
    for _ in range(2):  # a redelivered event changes nothing
        assert orders.mark_paid(order["id"], payment["id"])["status"] == "paid"
    assert shop.stock(kettle) == {"product_id": kettle, "available": 4, "reserved": 0}
    assert count(pg, "SELECT count(*) FROM reservations WHERE order_id = %s AND status = 'committed'", order["id"]) == 1
    paid_event = assert_event(readers["orders"], order["id"], "com.fnshop.order.paid")
    assert paid_event["payment_id"] == payment["id"]
    final = shop.call("orders_get", "GET", f"/api/orders/{order['id']}", token).json()
    assert final["status"] == "paid" and final["payment_id"] == payment["id"]
