"""Orders over HTTP: placing exactly once per Idempotency-Key (also when the twins race), never
overselling the last units, refusals that leave nothing behind, reading, cancelling."""
from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest_checkout import *  # noqa: F403 (fixtures)
from tests.integration.conftest_checkout import ADDRESS, count, events_of

REPEAT = range(int(os.environ.get("CHECKOUT_REPEAT", "1")))  # CHECKOUT_REPEAT=5 for a soak of the races


def orders_of(pg, user_id: str) -> int:
    return count(pg, "SELECT count(*) FROM orders WHERE user_id = %s", user_id)


@pytest.mark.parametrize("round_", REPEAT)
def test_many_buyers_race_for_the_last_units_and_exactly_the_stock_is_sold(shop, pg, unique, round_):
    stock, buyers = 3, 10
    product_id = shop.product(unique, stock=stock)
    customers = [shop.customer() for _ in range(buyers)]
    for user_id, token in customers:
        assert shop.add(user_id, token, product_id, 1).status_code == 200
    with ThreadPoolExecutor(buyers) as pool:
        responses = list(pool.map(lambda customer: shop.order(customer[1]), customers))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * stock + [409] * (buyers - stock), [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        problem = refused.json()
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert problem["shortages"] == [{"product_id": product_id, "requested": 1, "available": 0}]
    assert shop.stock(product_id) == {"product_id": product_id, "available": 0, "reserved": stock}
    assert count(pg, "SELECT count(*) FROM order_lines WHERE product_id = %s", product_id) == stock
    assert count(pg, "SELECT coalesce(sum(quantity), 0) FROM reservation_lines l JOIN reservations r USING (order_id)"
                     " WHERE l.product_id = %s AND r.status = 'held'", product_id) == stock


@pytest.mark.parametrize("round_", REPEAT)
def test_the_same_key_sent_at_once_places_one_order(shop, pg, unique, round_):
    user_id, token = shop.customer()
    product_id = shop.product(unique, stock=5)
    assert shop.add(user_id, token, product_id, 2).status_code == 200
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: shop.order(token, key), range(6)))
    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 5
    assert orders_of(pg, user_id) == 1
    assert shop.stock(product_id)["reserved"] == 2


def test_a_key_replays_its_first_result_and_refuses_another_body(shop, pg, unique):
    user_id, token = shop.customer()
    product_id = shop.product(unique)
    shop.add(user_id, token, product_id, 1)
    key = str(uuid.uuid4())
    first = shop.order(token, key)
    again = shop.order(token, key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = shop.order(token, key, {"shipping_address": {**ADDRESS, "city": "Paris"}})
    assert other.status_code == 422 and other.headers["Content-Type"] == "application/problem+json"
    assert "Idempotency-Key" in other.json()["detail"]
    assert orders_of(pg, user_id) == 1


def test_out_of_stock_leaves_no_order_and_no_reservation(shop, pg, unique):
    user_id, token = shop.customer()
    plenty, scarce = shop.product(unique, stock=10), shop.product(unique + "S", stock=1)
    shop.add(user_id, token, plenty, 3)
    shop.add(user_id, token, scarce, 2)
    refused = shop.order(token)
    assert refused.status_code == 409, refused.text
    assert refused.json()["shortages"] == [{"product_id": scarce, "requested": 2, "available": 1}]
    assert orders_of(pg, user_id) == 0
    assert shop.stock(plenty) == {"product_id": plenty, "available": 10, "reserved": 0}  # all lines or none
    assert shop.stock(scarce) == {"product_id": scarce, "available": 1, "reserved": 0}
    assert len(shop.call("cart_get", "GET", f"/api/cart/{user_id}", token).json()["lines"]) == 2  # cart kept


def test_missing_key_bad_body_and_empty_cart_are_problems(shop, pg):
    user_id, token = shop.customer()
    missing = shop.call("orders_create", "POST", "/api/orders", token, json={"shipping_address": ADDRESS})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "Idempotency-Key"
    for body, field in (({}, "shipping_address"), ({"shipping_address": {**ADDRESS, "country": "UK1"}},
                                                    "shipping_address.country")):
        bad = shop.order(token, body=body)
        assert bad.status_code == 400 and field in [e["field"] for e in bad.json()["errors"]]
    empty = shop.order(token)
    assert empty.status_code == 422 and empty.json()["type"].endswith("/cart-not-orderable")
    assert shop.call("orders_create", "POST", "/api/orders", None, "k", json={}).status_code == 401
    assert orders_of(pg, user_id) == 0


def test_a_product_deleted_after_it_was_carted_is_refused_by_name(shop, pg, unique):
    user_id, token = shop.customer()
    product_id = shop.product(unique)
    shop.add(user_id, token, product_id, 1)
    with pg.cursor() as cur:
        cur.execute("UPDATE products SET deleted_at = now() WHERE id = %s", (product_id,))
    refused = shop.order(token)
    assert refused.status_code == 422 and refused.json()["unavailable_products"] == [product_id]
    assert orders_of(pg, user_id) == 0 and shop.stock(product_id)["reserved"] == 0


def test_order_is_priced_from_the_catalog_not_the_cart(shop, pg, unique):
    user_id, token = shop.customer()
    product_id = shop.product(unique, amount=1000)
    shop.add(user_id, token, product_id, 2)
    with pg.cursor() as cur:  # the price changes after the product was carted
        cur.execute("UPDATE products SET price_minor = 1100 WHERE id = %s", (product_id,))
    order = shop.order(token).json()
    assert order["lines"][0]["unit_price"]["amount"] == 1100 and order["total"]["amount"] == 2200


def test_read_own_orders_with_pages_and_not_others(shop, unique):
    user_id, token = shop.customer()
    product_id = shop.product(unique, stock=20)
    ids = []
    for _ in range(3):
        shop.add(user_id, token, product_id, 1)
        ids.append(shop.order(token).json()["id"])
    seen, cursor = [], None
    while True:
        page = shop.call("orders_list", "GET", "/api/orders", token, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        seen += [order["id"] for order in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    assert shop.call("orders_get", "GET", f"/api/orders/{ids[0]}", token).json()["id"] == ids[0]
    _, stranger = shop.customer()
    assert shop.call("orders_get", "GET", f"/api/orders/{ids[0]}", stranger).status_code == 403
    assert shop.call("orders_get", "GET", f"/api/orders/{ids[0]}", shop.admin).status_code == 200
    assert shop.call("orders_list", "GET", "/api/orders", stranger).json()["items"] == []
    assert shop.call("orders_get", "GET", f"/api/orders/{uuid.uuid4()}", token).status_code == 404
    assert shop.call("orders_get", "GET", "/api/orders/nope", token).json()["errors"][0]["field"] == "order_id"
    assert shop.call("orders_list", "GET", "/api/orders", token, params={"cursor": "junk"}).status_code == 400


def test_cancel_releases_stock_once_and_emits_events(shop, pg, unique, readers):
    user_id, token, order = shop.ordered(unique, quantity=2, stock=4)
    product_id = order["lines"][0]["product_id"]
    assert shop.stock(product_id)["available"] == 2
    _, stranger = shop.customer()
    assert shop.call("orders_cancel", "POST", f"/api/orders/{order['id']}/cancel", stranger).status_code == 403
    for _ in range(2):  # cancelling again is harmless
        cancelled = shop.call("orders_cancel", "POST", f"/api/orders/{order['id']}/cancel", token)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert shop.stock(product_id) == {"product_id": product_id, "available": 4, "reserved": 0}
    events = events_of(readers["orders"], order["id"], "com.fnshop.order.created", "com.fnshop.order.cancelled")
    assert events["com.fnshop.order.cancelled"].data["reason"] == "cancelled_by_customer"
    released = events_of(readers["inventory"], order["id"], "com.fnshop.inventory.released")
    assert released["com.fnshop.inventory.released"].data["reason"] == "cancelled"
    assert released["com.fnshop.inventory.released"].data["lines"] == [{"product_id": product_id, "quantity": 2}]
    assert count(pg, "SELECT count(*) FROM outbox WHERE attributes->>'subject' = %s"
                     " AND attributes->>'type' = 'com.fnshop.inventory.released'", order["id"]) == 1
    paid = shop.pay(token, order["id"])
    assert paid.status_code == 409 and count(pg, "SELECT count(*) FROM payments WHERE order_id = %s", order["id"]) == 0


def test_a_paid_order_cannot_be_cancelled(shop, unique):
    _, token, order = shop.ordered(unique)
    assert shop.pay(token, order["id"]).status_code == 201
    refused = shop.call("orders_cancel", "POST", f"/api/orders/{order['id']}/cancel", token)
    assert refused.status_code == 409 and "refund" in refused.json()["detail"]
