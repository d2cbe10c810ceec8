"""Inventory over HTTP: admin-set stock, all-or-nothing reservations idempotent per order id,
no overselling under concurrency, commit/release, expiry by the scheduled sweep, events."""
from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.conftest_checkout import *  # noqa: F403 (fixtures)
from tests.integration.conftest_checkout import count, events_of

REPEAT = range(int(os.environ.get("CHECKOUT_REPEAT", "1")))


def reserve(shop, order_id: str, lines: list[tuple[str, int]], url: str | None = None):
    return requests.post(f"{url or shop.urls['inventory_reserve']}/internal/inventory/reservations", timeout=30, json={
        "order_id": order_id, "lines": [{"product_id": p, "quantity": q} for p, q in lines]})


def internal(shop, target: str, order_id: str, verb: str, body: dict | None = None):
    return requests.post(f"{shop.urls[target]}/internal/inventory/reservations/{order_id}/{verb}", json=body,
                         timeout=30)


def test_stock_is_read_by_anyone_and_set_by_admins(shop, unique, readers):
    product_id = shop.product(unique, stock=None)
    assert shop.stock(product_id) == {"product_id": product_id, "available": 0, "reserved": 0}
    _, token = shop.customer()
    assert shop.call("inventory_set", "PUT", f"/api/inventory/{product_id}", token, json={"available": 5}).status_code == 403
    assert shop.call("inventory_set", "PUT", f"/api/inventory/{product_id}", json={"available": 5}).status_code == 401
    for body in ({"available": -1}, {"available": "5"}, {}, {"available": 5, "reserved": 0}):
        bad = shop.call("inventory_set", "PUT", f"/api/inventory/{product_id}", shop.admin, json=body)
        assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/problem+json"
    assert shop.set_stock(product_id, 20) == {"product_id": product_id, "available": 20, "reserved": 0}
    missing = shop.call("inventory_set", "PUT", f"/api/inventory/{uuid.uuid4()}", shop.admin, json={"available": 1})
    assert missing.status_code == 404
    assert shop.call("inventory_get", "GET", f"/api/inventory/{uuid.uuid4()}").status_code == 404
    assert shop.call("inventory_get", "GET", "/api/inventory/not-a-uuid").json()["errors"][0]["field"] == "product_id"
    order_id = str(uuid.uuid4())
    assert reserve(shop, order_id, [(product_id, 16)]).status_code == 201  # 20 -> 4: crosses the threshold (5)
    low = events_of(readers["inventory"], product_id, "com.fnshop.inventory.low")["com.fnshop.inventory.low"]
    assert low.data == {"product_id": product_id, "available": 4, "reserved": 16, "threshold": 5}


def test_reservation_is_all_or_nothing_and_idempotent_per_order(shop, pg, unique, readers):
    a, b = shop.product(unique, stock=5), shop.product(unique + "B", stock=1)
    order_id = str(uuid.uuid4())
    short = reserve(shop, order_id, [(a, 2), (b, 2)])
    assert short.status_code == 409 and short.json()["shortages"] == [{"product_id": b, "requested": 2, "available": 1}]
    assert shop.stock(a)["available"] == 5 and count(pg, "SELECT count(*) FROM reservations WHERE order_id = %s", order_id) == 0
    first = reserve(shop, order_id, [(a, 2), (b, 1)])
    assert first.status_code == 201 and first.json()["status"] == "held"
    again = reserve(shop, order_id, [(b, 1), (a, 2)])
    assert again.status_code == 200 and again.json() == first.json()
    assert reserve(shop, order_id, [(a, 3)]).status_code == 409  # same order, other lines
    assert shop.stock(a) == {"product_id": a, "available": 3, "reserved": 2}
    event = events_of(readers["inventory"], order_id, "com.fnshop.inventory.reserved")["com.fnshop.inventory.reserved"]
    assert sorted((line["product_id"], line["quantity"]) for line in event.data["lines"]) == sorted([(a, 2), (b, 1)])
    for lines in ([], [(a, 0)], [(a, 1), (a, 1)], [("x", 1)]):
        assert reserve(shop, str(uuid.uuid4()), lines).status_code == 400


@pytest.mark.parametrize("round_", REPEAT)
def test_concurrent_reservations_never_oversell(shop, pg, unique, round_):
    a, b = shop.product(unique, stock=7), shop.product(unique + "B", stock=7)
    # Lines in both orders of products: the fixed lock order keeps this free of deadlocks.
    requests_ = [[(a, 1), (b, 1)] if n % 2 else [(b, 1), (a, 1)] for n in range(16)]
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda lines: reserve(shop, str(uuid.uuid4()), lines).status_code, requests_))
    assert sorted(statuses) == [201] * 7 + [409] * 9
    for product in (a, b):
        assert shop.stock(product) == {"product_id": product, "available": 0, "reserved": 7}


def test_commit_and_release_are_idempotent_and_exclusive(shop, unique):
    product_id = shop.product(unique, stock=10)
    paid, dropped = str(uuid.uuid4()), str(uuid.uuid4())
    reserve(shop, paid, [(product_id, 3)])
    reserve(shop, dropped, [(product_id, 2)])
    for _ in range(2):
        assert internal(shop, "inventory_commit", paid, "commit").json()["status"] == "committed"
        assert internal(shop, "inventory_release", dropped, "release", {"reason": "cancelled"}).json()["status"] == "released"
    assert shop.stock(product_id) == {"product_id": product_id, "available": 7, "reserved": 0}  # 3 sold
    assert internal(shop, "inventory_release", paid, "release").status_code == 409
    assert internal(shop, "inventory_commit", dropped, "commit").status_code == 409
    assert internal(shop, "inventory_commit", str(uuid.uuid4()), "commit").status_code == 404
    assert internal(shop, "inventory_release", dropped, "release", {"reason": "because"}).status_code == 400


def test_release_before_a_late_reserve_leaves_a_tombstone(shop, unique):
    product_id = shop.product(unique, stock=3)
    order_id = str(uuid.uuid4())  # the caller gave up (timeout) and released before its reserve landed
    assert internal(shop, "inventory_release", order_id, "release", {"reason": "order_failed"}).status_code == 200
    late = reserve(shop, order_id, [(product_id, 1)])
    assert late.status_code == 409 and shop.stock(product_id)["available"] == 3


def test_expired_reservations_are_released_by_the_sweep(shop, start_checkout_function, unique, readers):
    short_lived = start_checkout_function("inventory_reserve", RESERVATION_TTL_SECONDS="1")
    product_id = shop.product(unique, stock=4)
    order_id = str(uuid.uuid4())
    assert reserve(shop, order_id, [(product_id, 3)], url=short_lived).status_code == 201
    sweep = f"{shop.urls['inventory_expire_reservations']}/internal/inventory/reservations/expire"
    assert requests.post(sweep, json={}, timeout=30).status_code == 200  # not yet expired: kept
    assert shop.stock(product_id)["reserved"] == 3
    time.sleep(1.2)
    # One run releases at most RESERVATION_EXPIRY_BATCH of the oldest; a database that other
    # runs left expired reservations in needs a few runs, as the schedule would do.
    for _ in range(20):
        swept = requests.post(sweep, json={"specversion": "1.0", "type": "dev.knative.sources.ping"}, timeout=30)
        assert swept.status_code == 200
        if shop.stock(product_id)["reserved"] == 0 or swept.json()["released"] == 0:
            break
    assert shop.stock(product_id) == {"product_id": product_id, "available": 4, "reserved": 0}
    released = events_of(readers["inventory"], order_id, "com.fnshop.inventory.released")
    assert released["com.fnshop.inventory.released"].data["reason"] == "expired"
    assert internal(shop, "inventory_commit", order_id, "commit").status_code == 409  # too late to sell
