"""Payments over HTTP with the simulated provider's test cards: the amount from the order,
one successful payment per order (also under concurrent requests), declines that leave the
order payable, bounded retries of transient failures, the Redis status cache, refunds."""
from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest_checkout import *  # noqa: F403 (fixtures)
from tests.integration.conftest_checkout import count, events_of

REPEAT = range(int(os.environ.get("CHECKOUT_REPEAT", "1")))
DECLINED, NO_FUNDS = {"card_number": "4000000000000002"}, {"card_number": "4000000000009995"}
FLAKY_ONCE, ALWAYS_DOWN = {"card_number": "4000000000000259"}, {"card_number": "4000000000000119"}


def payments_of(pg, order_id: str, status: str | None = None) -> int:
    extra = " AND status = %s" if status else ""
    return count(pg, f"SELECT count(*) FROM payments WHERE order_id = %s{extra}", order_id, *([status] if status else []))


def refund(shop, payment_id: str, body: dict | None = None, key: str | None = None, token: str | None = None):
    return shop.call("payments_refund", "POST", f"/api/payments/{payment_id}/refund", token or shop.admin,
                     key or str(uuid.uuid4()), json=body if body is not None else {})


def test_declined_card_keeps_the_order_pending_and_it_can_be_paid_again(shop, pg, unique, readers):
    _, token, order = shop.ordered(unique, amount=2500)
    for card, code in ((DECLINED, "card_declined"), (NO_FUNDS, "insufficient_funds")):
        declined = shop.pay(token, order["id"], card)
        assert declined.status_code == 402 and declined.headers["Content-Type"] == "application/problem+json"
        problem = declined.json()
        assert problem["decline_code"] == code
        failed = events_of(readers["payments"], problem["payment_id"], "com.fnshop.payment.failed")
        assert failed["com.fnshop.payment.failed"].data["failure_code"] == code
        status = shop.call("payments_get", "GET", f"/api/payments/{problem['payment_id']}", token).json()
        assert status["status"] == "failed" and status["failure"]["code"] == code
    assert shop.call("orders_get", "GET", f"/api/orders/{order['id']}", token).json()["status"] == "pending"
    paid = shop.pay(token, order["id"])
    assert paid.status_code == 201 and paid.json()["status"] == "succeeded"
    assert paid.json()["amount"] == {"amount": 2500, "currency": "EUR"}  # from the order, never the client
    assert payments_of(pg, order["id"], "failed") == 2 and payments_of(pg, order["id"], "succeeded") == 1
    again = shop.pay(token, order["id"])
    assert again.status_code == 409 and again.json()["payment_id"] == paid.json()["id"]


@pytest.mark.parametrize("round_", REPEAT)
def test_the_same_key_at_once_charges_once(shop, pg, unique, round_):
    _, token, order = shop.ordered(unique)
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: shop.pay(token, order["id"], key=key), range(6)))
    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert payments_of(pg, order["id"]) == 1


@pytest.mark.parametrize("round_", REPEAT)
def test_different_keys_at_once_pay_an_order_once(shop, pg, unique, round_):
    _, token, order = shop.ordered(unique)
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: shop.pay(token, order["id"]), range(6)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5, [r.text for r in responses]
    assert payments_of(pg, order["id"]) == 1 and payments_of(pg, order["id"], "succeeded") == 1


def test_transient_failures_are_retried_and_bounded(shop, pg, unique):
    _, token, order = shop.ordered(unique)
    down = shop.pay(token, order["id"], ALWAYS_DOWN)
    assert down.status_code == 503 and down.headers["Retry-After"]
    assert shop.call("payments_get", "GET", f"/api/payments/{down.json()['payment_id']}", token).json()["attempts"] == 3
    flaky = shop.pay(token, order["id"], FLAKY_ONCE)
    assert flaky.status_code == 201 and flaky.json()["attempts"] == 2
    assert payments_of(pg, order["id"], "failed") == 1 and payments_of(pg, order["id"], "succeeded") == 1


def test_only_the_owner_pays_and_bad_input_writes_nothing(shop, pg, unique):
    _, token, order = shop.ordered(unique)
    _, stranger = shop.customer()
    assert shop.pay(stranger, order["id"]).status_code == 403
    assert shop.pay(shop.admin, order["id"]).status_code == 403
    assert shop.pay(token, str(uuid.uuid4())).status_code == 404
    no_key = shop.call("payments_create", "POST", "/api/payments", token,
                       json={"order_id": order["id"], "payment_method": {"type": "card"}})
    assert no_key.status_code == 400 and no_key.json()["errors"][0]["field"] == "Idempotency-Key"
    for card, field in (({"card_number": "4242424242424241"}, "payment_method.card_number"),
                        ({"exp_year": 2020}, "payment_method.exp_year"),
                        ({"cvc": "12"}, "payment_method.cvc"), ({"type": "paypal"}, "payment_method.type"),
                        ({"amount": 1}, "payment_method.amount")):
        bad = shop.pay(token, order["id"], card)
        assert bad.status_code == 400 and field in [e["field"] for e in bad.json()["errors"]], bad.text
    amount = shop.call("payments_create", "POST", "/api/payments", token, str(uuid.uuid4()), json={
        "order_id": order["id"], "amount": 1, "payment_method": {"type": "card", "card_number": "4242424242424242",
                                                                 "exp_month": 1, "exp_year": 2040, "cvc": "123"}})
    assert amount.status_code == 400 and amount.json()["errors"][0]["field"] == "amount"
    assert payments_of(pg, order["id"]) == 0


def test_status_is_read_from_redis_first_then_postgres(shop, rds, unique):
    _, token, order = shop.ordered(unique)
    payment = shop.pay(token, order["id"]).json()
    path = f"/api/payments/{payment['id']}"
    assert rds.ttl(f"payment:{payment['id']}") > 0  # written through when it changed
    hit = shop.call("payments_get", "GET", path, token)
    assert hit.headers["X-Cache"] == "hit" and hit.json()["status"] == "succeeded"
    rds.delete(f"payment:{payment['id']}")
    miss = shop.call("payments_get", "GET", path, token)
    assert miss.headers["X-Cache"] == "miss" and miss.json() == hit.json()
    _, stranger = shop.customer()
    assert shop.call("payments_get", "GET", path, stranger).status_code == 403
    assert shop.call("payments_get", "GET", f"/api/payments/{uuid.uuid4()}", token).status_code == 404


def test_refunds_partial_then_full_never_more_and_idempotent(shop, pg, unique, readers):
    _, token, order = shop.ordered(unique, amount=1000, quantity=2)
    payment = shop.pay(token, order["id"]).json()
    assert refund(shop, payment["id"], {"amount": 500}, token=token).status_code == 403
    key = str(uuid.uuid4())
    partial = refund(shop, payment["id"], {"amount": 500, "reason": "one broke"}, key)
    assert partial.status_code == 201 and partial.json()["payment_status"] == "partially_refunded"
    assert refund(shop, payment["id"], {"amount": 500, "reason": "one broke"}, key).json() == partial.json()
    assert refund(shop, payment["id"], {"amount": 600}, key).status_code == 422  # same key, other body
    too_much = refund(shop, payment["id"], {"amount": 1501})
    assert too_much.status_code == 422 and too_much.json()["refundable"] == {"amount": 1500, "currency": "EUR"}
    rest = refund(shop, payment["id"])
    assert rest.status_code == 201 and rest.json()["amount"]["amount"] == 1500
    assert rest.json()["refunded_total"] == {"amount": 2000, "currency": "EUR"}
    assert refund(shop, payment["id"], {"amount": 1}).status_code == 409
    status = shop.call("payments_get", "GET", f"/api/payments/{payment['id']}", token).json()
    assert status["status"] == "refunded" and status["refunded"]["amount"] == 2000  # the cache was updated
    assert count(pg, "SELECT count(*) FROM outbox WHERE attributes->>'subject' = %s"
                     " AND attributes->>'type' = 'com.fnshop.payment.refunded'", payment["id"]) == 2
    events = events_of(readers["payments"], payment["id"], "com.fnshop.payment.refunded")
    assert events["com.fnshop.payment.refunded"].data["amount"]["amount"] in (500, 1500)


@pytest.mark.parametrize("round_", REPEAT)
def test_concurrent_refunds_never_exceed_the_capture(shop, pg, unique, round_):
    _, token, order = shop.ordered(unique, amount=1000)
    payment = shop.pay(token, order["id"]).json()
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: refund(shop, payment["id"], {"amount": 300}), range(8)))
    assert sorted(r.status_code for r in responses) == [201] * 3 + [422] * 5, [r.text for r in responses]
    assert count(pg, "SELECT refunded_minor FROM payments WHERE id = %s", payment["id"]) == 900
