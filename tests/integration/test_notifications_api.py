"""Notifications as real functions on the real stack: the consumer records one per event (once,
however often it is delivered) and writes the user's list through to Redis; the list is read
from Redis, from PostgreSQL on a miss or when Redis is unreachable; read marks; who may see what;
the notification.created events it emits match their schema."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from cloudevents.http import CloudEvent

from tests.e2e.support import decode, post_event
from tests.integration.conftest_checkout import conforms  # responses checked against docs/openapi
from tests.support.kafka_events import TopicReader
from tests.support.processes import FunctionProcess, free_port

TOTAL = {"amount": 2500, "currency": "EUR"}


@pytest.fixture(scope="module")
def notifications(start_function) -> dict[str, str]:
    return {target: start_function(target)
            for target in ("notifications_record", "notifications_list", "notifications_mark_read")}


def order_event(event_type: str, user_id: str, order_id: str, at: datetime, event_id: str | None = None) -> CloudEvent:
    base = {"order_id": order_id, "user_id": user_id, "total": TOTAL}
    data = {
        "com.fnshop.order.created": {**base, "status": "pending", "item_count": 1, "created_at": at.isoformat(),
                                     "lines": [{"product_id": str(uuid.uuid4()), "sku": "S", "name": "Mug",
                                                "unit_price": TOTAL, "quantity": 1, "line_total": TOTAL}]},
        "com.fnshop.order.paid": {**base, "lines": [{"product_id": str(uuid.uuid4()), "quantity": 1}],
                                  "payment_id": str(uuid.uuid4()), "paid_at": at.isoformat()},
    }[event_type]
    return CloudEvent({"id": event_id or str(uuid.uuid4()), "source": "/fnshop/test", "type": event_type,
                       "subject": order_id, "datacontenttype": "application/json"}, data)


def listed(url: str, token: str, user_id: str, **params) -> requests.Response:
    return conforms(requests.get(f"{url}/api/notifications/{user_id}", headers={"Authorization": f"Bearer {token}"},
                                 params=params, timeout=30))


def mark(url: str, token: str) -> requests.Response:
    return conforms(requests.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=10))


def test_one_notification_per_event_written_through_to_redis(notifications, relay, issuer, rds, stack_env, pg):
    user_id, order_id = f"u-{uuid.uuid4().hex[:10]}", str(uuid.uuid4())
    token = issuer.token(user_id=user_id)
    start = datetime.now(timezone.utc)
    reader = TopicReader(stack_env["KAFKA_BOOTSTRAP_SERVERS"], "notifications")
    try:
        placed = order_event("com.fnshop.order.created", user_id, order_id, start)
        for _ in range(3):  # delivered three times: one notification
            assert post_event(notifications["notifications_record"], placed).status_code == 200
        paid = order_event("com.fnshop.order.paid", user_id, order_id, start + timedelta(seconds=5))
        assert post_event(notifications["notifications_record"], paid).status_code == 200

        answer = listed(notifications["notifications_list"], token, user_id)
        assert answer.status_code == 200 and answer.headers["X-Cache"] == "hit"  # written through
        items = answer.json()["items"]
        assert [i["kind"] for i in items] == ["order_paid", "order_placed"]  # newest first
        assert all(i["order_id"] == order_id and i["user_id"] == user_id and i["read_at"] is None for i in items)
        assert "EUR 25.00" in items[0]["body"]
        with pg.cursor() as cur:
            cur.execute("SELECT count(*) FROM notifications WHERE user_id = %s", (user_id,))
            assert cur.fetchone()[0] == 2

        announced = reader.records(10, until=lambda seen: sum(dict(r.headers).get("ce_subject", b"").decode()
                                                              in {i["id"] for i in items} for r in seen) >= 2)
        events = [decode(r) for r in announced if dict(r.headers).get("ce_subject", b"").decode() in {i["id"] for i in items}]
        assert sorted(e.data["kind"] for e in events) == ["order_paid", "order_placed"]
        assert {e.data["caused_by"]["id"] for e in events} == {placed["id"], paid["id"]}
    finally:
        reader.close()

    rds.delete(f"notifications:{user_id}")  # a miss: PostgreSQL answers and fills Redis again
    miss = listed(notifications["notifications_list"], token, user_id, limit=1)
    assert miss.headers["X-Cache"] == "miss" and [i["kind"] for i in miss.json()["items"]] == ["order_paid"]
    assert listed(notifications["notifications_list"], token, user_id).headers["X-Cache"] == "hit"


def test_who_may_see_a_list(notifications, issuer):
    user_id = f"u-{uuid.uuid4().hex[:10]}"
    url = notifications["notifications_list"]
    assert listed(url, issuer.token(user_id=user_id), user_id).json() == {"items": []}
    assert listed(url, issuer.token(), user_id).status_code == 403
    assert listed(url, issuer.admin_token(), user_id).status_code == 200
    assert requests.get(f"{url}/api/notifications/{user_id}", timeout=10).status_code == 401
    assert requests.get(f"{url}/api/notifications/..%2Fx", timeout=10,
                        headers={"Authorization": f"Bearer {issuer.token(user_id=user_id)}"}).status_code in (400, 404)
    assert listed(url, issuer.token(user_id=user_id), "bad id!").status_code == 400
    assert listed(url, issuer.token(user_id=user_id), user_id, limit=0).status_code == 400


def test_marking_read(notifications, issuer):
    user_id = f"u-{uuid.uuid4().hex[:10]}"
    token = issuer.token(user_id=user_id)
    event = order_event("com.fnshop.order.created", user_id, str(uuid.uuid4()), datetime.now(timezone.utc))
    assert post_event(notifications["notifications_record"], event).status_code == 200
    notification_id = listed(notifications["notifications_list"], token, user_id).json()["items"][0]["id"]
    url = f"{notifications['notifications_mark_read']}/api/notifications/{notification_id}/read"
    assert mark(url, issuer.token()).status_code == 403
    first = mark(url, token)
    assert first.status_code == 200 and first.json()["read_at"] is not None
    again = mark(url, token)
    assert again.json()["read_at"] == first.json()["read_at"]  # the first read time stays
    cached = listed(notifications["notifications_list"], token, user_id)
    assert cached.headers["X-Cache"] == "hit" and cached.json()["items"][0]["read_at"] == first.json()["read_at"]
    assert mark(f"{notifications['notifications_mark_read']}/api/notifications/{uuid.uuid4()}/read", token).status_code == 404
    assert mark(f"{notifications['notifications_mark_read']}/api/notifications/nope/read", token).status_code == 400


def test_concurrent_events_of_one_user_all_reach_the_cached_list(notifications, issuer):
    """Writers finishing out of order cannot put an older list back (versioned write-through)."""
    user_id = f"u-{uuid.uuid4().hex[:10]}"
    at = datetime.now(timezone.utc)
    events = [order_event("com.fnshop.order.created", user_id, str(uuid.uuid4()), at + timedelta(seconds=i))
              for i in range(12)]
    with ThreadPoolExecutor(6) as pool:
        assert {r.status_code for r in pool.map(lambda e: post_event(notifications["notifications_record"], e), events)} == {200}
    answer = listed(notifications["notifications_list"], issuer.token(user_id=user_id), user_id)
    assert answer.headers["X-Cache"] == "hit" and len(answer.json()["items"]) == 12


def test_redis_unreachable_falls_back_to_postgresql(notifications, issuer, function_env, log_dir):
    user_id = f"u-{uuid.uuid4().hex[:10]}"
    token = issuer.token(user_id=user_id)
    event = order_event("com.fnshop.order.created", user_id, str(uuid.uuid4()), datetime.now(timezone.utc))
    assert post_event(notifications["notifications_record"], event).status_code == 200
    folder = log_dir / "redis-away"
    folder.mkdir(exist_ok=True)
    # A Redis nobody listens on: the real one keeps serving the rest of the suite (the e2e test stops it for real).
    away = FunctionProcess("notifications_list", {**function_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
                           folder).start()
    try:
        started = time.perf_counter()
        answer = listed(away.url, token, user_id)
        took = time.perf_counter() - started
        assert answer.status_code == 200 and answer.headers["X-Cache"] == "miss"
        assert [i["kind"] for i in answer.json()["items"]] == ["order_placed"]
        assert took < 1.0, f"fallback took {took:.2f}s"
    finally:
        away.stop()
