"""End to end through the gateway and real event delivery (outbox relay -> Kafka -> dispatcher ->
consumer functions), on the real stack:

- order -> pay: the order becomes paid, its stock committed, and the customer sees "order placed"
  and "order confirmed" at GET /api/notifications/{user_id}; the same with Redis stopped
  (PostgreSQL answers; Redis is started again after);
- an event delivered twice through Kafka has one effect;
- a poison event is dead-lettered by every consumer of its topic (not retried: 400), an
  unreachable sink is retried as declared and then dead-lettered, and delivery goes on;
- with Kafka stopped during checkout the orders and payments still succeed, and every effect
  happens once after Kafka is back.

Prints the measured latencies (event published -> effect visible through the API).
"""
from __future__ import annotations

import json
import time
import uuid

from kafka import KafkaProducer

from tests.e2e.conftest import BROKEN_DEAD_LETTERS, BROKEN_SOURCE
from tests.e2e.support import decode, offsets_now, reader_from, stopped, wait_for

ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH",
           "country": "GB"}
CARD = {"type": "card", "card_number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}
ORDERS_CONSUMERS = ("inventory-apply-order", "notifications-record", "recommendations-record-copurchases")


def scalar(pg, sql: str, *params):
    with pg.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


class Shopper:
    def __init__(self, platform, stock: int = 5, amount: int = 1999):
        self.platform = platform
        self.user_id = f"e2e-{uuid.uuid4().hex[:10]}"
        self.token = platform.issuer.token(user_id=self.user_id)
        created = platform.call("POST", "/api/products", platform.admin, json={
            "sku": f"E2E-{uuid.uuid4().hex[:8].upper()}", "name": "Teapot", "category": "kitchen",
            "price": {"amount": amount, "currency": "EUR"}})
        assert created.status_code == 201, created.text
        self.product = created.json()["id"]
        assert platform.call("PUT", f"/api/inventory/{self.product}", platform.admin,
                             json={"available": stock}).status_code == 200

    def order(self, quantity: int = 1) -> dict:
        added = self.platform.call("POST", f"/api/cart/{self.user_id}/items", self.token,
                                   json={"product_id": self.product, "quantity": quantity})
        assert added.status_code == 200, added.text
        placed = self.platform.call("POST", "/api/orders", self.token, str(uuid.uuid4()), json={"shipping_address": ADDRESS})
        assert placed.status_code == 201, placed.text
        return placed.json()

    def pay(self, order_id: str) -> dict:
        paid = self.platform.call("POST", "/api/payments", self.token, str(uuid.uuid4()),
                                  json={"order_id": order_id, "payment_method": CARD})
        assert paid.status_code == 201, paid.text
        return paid.json()

    def order_status(self, order_id: str) -> str:
        return self.platform.call("GET", f"/api/orders/{order_id}", self.token).json()["status"]

    def stock(self) -> dict:
        return self.platform.call("GET", f"/api/inventory/{self.product}").json()

    def notifications(self) -> tuple[list[dict], str]:
        answer = self.platform.call("GET", f"/api/notifications/{self.user_id}", self.token)
        assert answer.status_code == 200, answer.text
        return answer.json()["items"], answer.headers.get("X-Cache", "")

    def kinds(self) -> list[str]:
        return [n["kind"] for n in self.notifications()[0]]


def timed(condition, timeout: float = 30.0, what: str = "condition") -> float:
    started = time.monotonic()
    wait_for(condition, timeout=timeout, interval=0.02, what=what)
    return time.monotonic() - started


def checkout(platform, quantity: int = 1) -> dict:
    """Order and pay; the seconds until each effect was visible through the API."""
    shopper = Shopper(platform)
    order = shopper.order(quantity)
    placed_seen = timed(lambda: "order_placed" in shopper.kinds(), what="the order_placed notification")
    payment = shopper.pay(order["id"])
    paid_seen = timed(lambda: shopper.order_status(order["id"]) == "paid", what="the order to be paid")
    committed_seen = timed(lambda: shopper.stock()["reserved"] == 0, what="the stock to be committed")
    notified = timed(lambda: "order_paid" in shopper.kinds(), what="the order_paid notification")
    assert shopper.stock() == {"product_id": shopper.product, "available": 5 - quantity, "reserved": 0}
    return {"shopper": shopper, "order": order, "payment": payment, "placed_notification": placed_seen,
            "paid": paid_seen, "committed": committed_seen, "paid_notification": paid_seen + committed_seen + notified}


def test_order_to_paid_order_committed_stock_and_both_notifications(platform, pg):
    cold = checkout(platform)  # the first one also starts every function it needs
    warm = [checkout(platform, quantity=2) for _ in range(2)]
    shopper, order = warm[-1]["shopper"], warm[-1]["order"]
    items, cache = shopper.notifications()
    assert cache == "hit" and [i["kind"] for i in items] == ["order_paid", "order_placed"]
    assert all(i["order_id"] == order["id"] for i in items)
    assert scalar(pg, "SELECT count(*) FROM reservations WHERE order_id = %s AND status = 'committed'", order["id"]) == 1
    wait_for(lambda: scalar(pg, "SELECT count(*) FROM product_purchases WHERE product_id = %s", shopper.product),
             what="the co-purchase consumer")  # its own consumer group: it may trail the others
    assert scalar(pg, "SELECT orders FROM product_purchases WHERE product_id = %s", shopper.product) == 1
    print("\nlatency (s), order created -> 'order placed' visible: cold %.2f, warm %s" % (
        cold["placed_notification"], ", ".join(f"{w['placed_notification']:.2f}" for w in warm)))
    print("latency (s), payment answered -> order paid visible: cold %.2f, warm %s" % (
        cold["paid"], ", ".join(f"{w['paid']:.2f}" for w in warm)))
    print("latency (s), payment answered -> 'order confirmed' visible: cold %.2f, warm %s" % (
        cold["paid_notification"], ", ".join(f"{w['paid_notification']:.2f}" for w in warm)))


def test_the_same_with_redis_stopped(platform, pg):
    shopper = Shopper(platform)
    order = shopper.order()  # the cart lives in Redis: filled before the cut
    with stopped("redis"):
        payment = shopper.pay(order["id"])
        wait_for(lambda: shopper.order_status(order["id"]) == "paid", timeout=30, what="the order to be paid")
        wait_for(lambda: shopper.stock()["reserved"] == 0, timeout=30, what="the stock to be committed")
        wait_for(lambda: shopper.kinds() == ["order_paid", "order_placed"], timeout=30, what="both notifications")
        items, cache = shopper.notifications()
        assert cache == "miss"  # PostgreSQL answered
        assert payment["status"] == "succeeded"
    # Redis came back empty: the first read misses and fills it, the next one hits.
    assert shopper.notifications() == (items, "miss")
    assert shopper.notifications() == (items, "hit")


def _reproduce(bootstrap: str, topic: str, record) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    try:
        producer.send(topic, key=record.key, value=record.value, headers=record.headers).get(10)
    finally:
        producer.close()


def _record(bootstrap: str, topic: str, offsets: dict, event_type: str, subject: str):
    reader = reader_from(bootstrap, topic, offsets)
    try:
        match = lambda r: dict(r.headers).get("ce_type") == event_type.encode() and \
            dict(r.headers).get("ce_subject") == subject.encode()  # noqa: E731
        return next(r for r in reader.records(20, until=lambda seen: any(match(r) for r in seen)) if match(r))
    finally:
        reader.close()


def _drained(bootstrap: str, platform, sources: tuple[str, ...], topic: str) -> bool:
    from dev.eventing import groups

    return all(groups.lag(bootstrap.split(","), platform.group(s), [topic]) == 0 for s in sources)


def test_a_redelivered_event_has_one_effect(platform, pg, stack_env):
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    payments_at, orders_at = offsets_now(bootstrap, "payments"), offsets_now(bootstrap, "orders")
    done = checkout(platform)
    shopper, order, payment = done["shopper"], done["order"], done["payment"]
    succeeded = _record(bootstrap, "payments", payments_at, "com.fnshop.payment.succeeded", payment["id"])
    paid = _record(bootstrap, "orders", orders_at, "com.fnshop.order.paid", order["id"])
    _reproduce(bootstrap, "payments", succeeded)  # the same CloudEvent (id, source) once more on Kafka
    _reproduce(bootstrap, "orders", paid)
    wait_for(lambda: _drained(bootstrap, platform, ("orders-apply-payment",), "payments")
             and _drained(bootstrap, platform, ORDERS_CONSUMERS, "orders"), timeout=30, what="the redeliveries")
    assert shopper.stock() == {"product_id": shopper.product, "available": 4, "reserved": 0}
    assert shopper.kinds() == ["order_paid", "order_placed"]
    assert scalar(pg, "SELECT orders FROM product_purchases WHERE product_id = %s", shopper.product) == 1
    assert scalar(pg, "SELECT count(*) FROM outbox WHERE attributes->>'subject' = %s AND attributes->>'type' = %s",
                  order["id"], "com.fnshop.order.paid") == 1
    event_id = decode(paid)["id"]
    assert scalar(pg, "SELECT count(*) FROM processed_events WHERE event_id = %s", event_id) == 3  # one per consumer


def test_a_poison_event_is_dead_lettered_and_delivery_goes_on(platform, stack_env):
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    dead_topics = [f"{s}.dead-letters" for s in ORDERS_CONSUMERS] + [BROKEN_DEAD_LETTERS]
    dead_at = {topic: offsets_now(bootstrap, topic) for topic in dead_topics}
    poison_id = f"poison-{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    try:  # breaks the order.paid contract: no consumer can apply it, however often it is sent
        producer.send("orders", key=b"poison", value=json.dumps({"order_id": "not-an-order"}).encode(), headers=[
            ("ce_specversion", b"1.0"), ("ce_id", poison_id.encode()), ("ce_source", b"/e2e/poison"),
            ("ce_type", b"com.fnshop.order.paid"), ("ce_subject", b"poison"),
            ("content-type", b"application/json")]).get(10)
    finally:
        producer.close()

    for topic in dead_topics:
        reader = reader_from(bootstrap, topic, dead_at[topic])
        try:
            records = reader.records(30, until=lambda seen: any(dict(r.headers).get("ce_id") == poison_id.encode()
                                                                for r in seen))
        finally:
            reader.close()
        dead = [r for r in records if dict(r.headers).get("ce_id") == poison_id.encode()]
        assert len(dead) == 1, topic
        headers = dict(dead[0].headers)
        assert dead[0].key == b"poison" and json.loads(dead[0].value) == {"order_id": "not-an-order"}
        expected = b"404" if topic == BROKEN_DEAD_LETTERS else b"400"
        assert headers["ce_knativeerrorcode"] == expected, topic
    log = platform.log()
    retries = [line for line in log.splitlines() if poison_id in line and "delivery failed, retrying" in line]
    assert len([line for line in retries if f'"source": "{BROKEN_SOURCE}"' in line]) == 2  # `retry: 2`, then dead
    assert not [line for line in retries if f'"source": "{BROKEN_SOURCE}"' not in line]  # a 400 is never retried
    checkout(platform)  # and the consumers go on


def test_checkout_while_kafka_is_down(platform, pg, stack_env):
    shopper = Shopper(platform)
    cut = time.monotonic()
    with stopped("kafka"):
        print(f"\nKafka stopped in {time.monotonic() - cut:.1f}s")
        order = shopper.order()
        payment = shopper.pay(order["id"])
        assert payment["status"] == "succeeded" and shopper.order_status(order["id"]) == "pending"
    back = time.monotonic()
    print(f"Kafka down and started again in {back - cut:.1f}s")
    wait_for(lambda: shopper.order_status(order["id"]) == "paid", timeout=60, what="the order to be paid")
    paid_after = time.monotonic() - back
    wait_for(lambda: shopper.stock()["reserved"] == 0, timeout=30, what="the stock to be committed")
    wait_for(lambda: shopper.kinds() == ["order_paid", "order_placed"], timeout=30, what="both notifications")
    assert shopper.stock() == {"product_id": shopper.product, "available": 4, "reserved": 0}
    assert scalar(pg, "SELECT count(*) FROM outbox WHERE attributes->>'subject' = ANY(%s) AND published_at IS NULL",
                  [order["id"], payment["id"]]) == 0
    for event_type, subject in (("com.fnshop.order.paid", order["id"]), ("com.fnshop.inventory.reserved", order["id"])):
        assert scalar(pg, "SELECT count(*) FROM outbox WHERE attributes->>'subject' = %s AND attributes->>'type' = %s",
                      subject, event_type) == 1
    assert scalar(pg, "SELECT count(*) FROM notifications WHERE user_id = %s", shopper.user_id) == 2
    print(f"\nKafka back -> order paid visible: {paid_after:.1f}s")
