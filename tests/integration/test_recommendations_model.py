"""The recommendation model on the real stack: products created through the products functions,
co-purchases recorded by the order.paid consumer from real CloudEvents, the training target, and
reads through Redis or, when Redis is away or the cached model incomplete, PostgreSQL.

The database is shared with the other tests, so every test makes its own products in its own
category and trains a model over everything there is: assertions only look at its products.
Co-purchase lists hold only those; the content-similar ones that fill a list up may also hold
products of other tests with alike texts (test_recommendations_content.py covers them)."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import pytest
import requests
from cloudevents.http import CloudEvent

from tests.e2e.support import post_event
from tests.support.catalog import create_product, new_product
from tests.support.openapi import assert_conforms
from tests.support.processes import FunctionProcess, free_port

TARGETS = ("recommendations_record_copurchases", "recommendations_train", "recommendations_get")
TRAINING_LOCK = 0x7EC0_0DE1  # recommendations.model_store._TRAINING_LOCK
STRATEGIES = ("co-purchase", "content-similar", "category-popular")  # recommendations.blend.STRATEGIES


@pytest.fixture(scope="module")
def api(start_function, products_api) -> dict[str, str]:
    return {target: start_function(target) for target in TARGETS} | products_api


@pytest.fixture(scope="module")
def without_redis(function_env, tmp_path_factory):
    """The read and the training as processes whose Redis is a closed port (an outage that
    disturbs no other test)."""
    env = {**function_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "REDIS_TIMEOUT_SECONDS": "0.2"}
    log_dir = tmp_path_factory.mktemp("recommendations-without-redis")
    processes = {target: FunctionProcess(target, env, log_dir).start() for target in ("recommendations_get",
                                                                                   "recommendations_train")}
    yield {target: process.url for target, process in processes.items()}
    for process in processes.values():
        process.stop()


class Shop:
    """Products of one test's category, and paid orders of them."""

    def __init__(self, api, issuer, unique):
        self.api, self.token, self.unique = api, issuer.admin_token(), unique
        self.category = f"rec-{unique.lower()}"

    def product(self, name: str, description: str | None = None) -> str:
        body = new_product(f"{self.unique}-{name.upper()}", name=f"{name} {self.unique}", category=self.category,
                           **({} if description is None else {"description": description}))
        return create_product(self.api, self.token, body).json()["id"]

    def paid(self, *product_ids: str, times: int = 1) -> None:
        """`times` paid orders of these products, each recorded by the consumer from its event."""
        for _ in range(times):
            order_id = str(uuid.uuid4())
            event = CloudEvent({"type": "com.fnshop.order.paid", "source": "/fnshop/orders-apply-payment",
                                "subject": order_id, "datacontenttype": "application/json"},
                               {"order_id": order_id, "user_id": "u-1", "total": {"amount": 100, "currency": "EUR"},
                                "lines": [{"product_id": p, "quantity": 1} for p in product_ids],
                                "payment_id": str(uuid.uuid4()), "paid_at": datetime.now(timezone.utc).isoformat()})
            assert post_event(self.api["recommendations_record_copurchases"], event).status_code == 200

    def delete(self, product_id: str) -> None:
        response = requests.delete(f"{self.api['products_delete']}/api/products/{product_id}",
                                   headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        assert response.status_code == 204


@pytest.fixture()
def shop(api, issuer, unique) -> Shop:
    return Shop(api, issuer, unique)


def train(url: str) -> dict:
    response = assert_conforms(requests.post(f"{url}/internal/recommendations/train", json={"job": "test"}, timeout=60))
    assert response.status_code == 200, response.text
    return response.json()


def recommend(url: str, product_id: str, **params) -> requests.Response:
    response = assert_conforms(requests.get(f"{url}/api/recommendations/{product_id}", params=params, timeout=10))
    if response.status_code == 200:
        strategies(response)  # every list read in these tests is blended in order
    return response


def ids(response: requests.Response, strategy: str | None = None) -> list[str]:
    """The items' ids, or those of one strategy's items."""
    return [item["id"] for item in response.json()["items"] if strategy in (None, item["strategy"])]


def strategies(response: requests.Response) -> list[str]:
    """The strategies of the items in their order, repeats collapsed; checks the blending order."""
    seen = [item["strategy"] for item in response.json()["items"]]
    runs = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert runs == [s for s in STRATEGIES if s in runs], runs  # co-purchase, then content, then popular
    return runs


@pytest.fixture()
def kitchen(shop):
    """kettle+mug bought together 3 times, kettle+tea once, tea+towel twice; `spare` never sold."""
    kettle, mug, tea, towel, spare = (shop.product(name) for name in ("Kettle", "Mug", "Tea", "Towel", "Spare"))
    shop.paid(kettle, mug, times=3)
    shop.paid(kettle, tea)
    shop.paid(tea, towel, times=2)
    return {"kettle": kettle, "mug": mug, "tea": tea, "towel": towel, "spare": spare}


def test_products_bought_together_come_first_from_the_cache(api, kitchen):
    trained = train(api["recommendations_train"])
    assert trained["cached"] is True and trained["pairs"] >= 3 and trained["products"] >= 4
    response = recommend(api["recommendations_get"], kitchen["kettle"])
    body = response.json()
    assert response.status_code == 200 and response.headers["X-Cache"] == "hit"
    assert body["strategy"] == "co-purchase" and body["model_version"] == trained["version"]
    assert ids(response)[:2] == ids(response, "co-purchase") == [kitchen["mug"], kitchen["tea"]]
    assert [item["score"] for item in body["items"][:2]] == pytest.approx([3 / 12 ** 0.5, 1 / 12 ** 0.5], abs=1e-6)
    assert body["items"][0]["price"] == {"amount": 3999, "currency": "EUR"}
    assert ids(recommend(api["recommendations_get"], kitchen["kettle"], limit=1)) == [kitchen["mug"]]
    assert ids(recommend(api["recommendations_get"], kitchen["towel"]))[:1] == [kitchen["tea"]]
    assert ids(recommend(api["recommendations_get"], kitchen["towel"]), "co-purchase") == [kitchen["tea"]]


def test_a_product_new_since_the_training_gets_the_popular_ones_of_its_category(api, shop, kitchen):
    train(api["recommendations_train"])
    newer = shop.product("Newer")  # created after the training: not in the model at all, not even its content lists
    response = recommend(api["recommendations_get"], newer)
    assert response.json()["strategy"] == "category-popular" and strategies(response) == ["category-popular"]
    # 4, 3, 3 (newer first), 2 and 0 orders
    assert ids(response) == [kitchen["kettle"], kitchen["tea"], kitchen["mug"], kitchen["towel"], kitchen["spare"]]
    assert [item["score"] for item in response.json()["items"]] == [4, 3, 3, 2, 0]
    # One never bought but there at the training has its content-similar products first, then the popular ones.
    # (Their texts share this test's name suffix and category, so they lead its content-similar list.)
    spare = recommend(api["recommendations_get"], kitchen["spare"])
    assert spare.json()["strategy"] == "content-similar" and strategies(spare)[0] == "content-similar"
    assert set(ids(spare)[:4]) == {kitchen["kettle"], kitchen["tea"], kitchen["mug"], kitchen["towel"]}


def test_deleted_or_sold_out_products_are_never_recommended(api, shop, kitchen, pg):
    train(api["recommendations_train"])
    shop.delete(kitchen["mug"])
    with pg.cursor() as cur:  # stock as the inventory function stores it
        cur.execute("INSERT INTO inventory (product_id, available) VALUES (%s, 0), (%s, 5)", (kitchen["tea"], kitchen["towel"]))
    response = recommend(api["recommendations_get"], kitchen["kettle"])
    # Both co-purchase neighbours are gone: content-similar and popular products stand in, minus the same two.
    assert response.json()["strategy"] == "content-similar" and ids(response, "co-purchase") == []
    mine = set(kitchen.values())
    assert {p for p in ids(response) if p in mine} == {kitchen["towel"], kitchen["spare"]}
    towel = recommend(api["recommendations_get"], kitchen["towel"])
    assert ids(towel, "co-purchase") == [] and kitchen["tea"] not in ids(towel)
    assert recommend(api["recommendations_get"], kitchen["mug"]).status_code == 404


def test_without_redis_reads_and_training_use_postgresql(api, without_redis, kitchen):
    trained = train(api["recommendations_train"])
    cached = recommend(api["recommendations_get"], kitchen["kettle"])
    fallback = recommend(without_redis["recommendations_get"], kitchen["kettle"])
    assert fallback.status_code == 200 and fallback.headers["X-Cache"] == "miss"
    assert fallback.json() == cached.json() and fallback.json()["model_version"] == trained["version"]

    # A training that cannot reach Redis still activates its model; readers with Redis do not
    # stay on the old cached version, they read the new one from PostgreSQL.
    uncached = train(without_redis["recommendations_train"])
    assert uncached["cached"] is False and uncached["version"] > trained["version"]
    after = recommend(api["recommendations_get"], kitchen["kettle"])
    assert after.headers["X-Cache"] == "miss" and after.json()["model_version"] == uncached["version"]
    assert after.json()["items"] == cached.json()["items"]


def test_a_half_written_cached_model_is_a_miss(api, kitchen, rds):
    trained = train(api["recommendations_train"])
    rds.hdel(f"recommendations:model:{trained['version']}", "complete")  # as if the run died while writing
    response = recommend(api["recommendations_get"], kitchen["kettle"])
    assert response.headers["X-Cache"] == "miss" and ids(response, "co-purchase") == [kitchen["mug"], kitchen["tea"]]


def test_readers_see_a_whole_model_while_new_versions_are_switched_in(api, kitchen):
    first = train(api["recommendations_train"])
    seen, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            body = requests.get(f"{api['recommendations_get']}/api/recommendations/{kitchen['kettle']}", timeout=10).json()
            seen.append((body["strategy"], body["model_version"],
                         [item["id"] for item in body["items"] if item["strategy"] == "co-purchase"]))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        versions = [train(api["recommendations_train"])["version"] for _ in range(3)]
    finally:
        stop.set()
        reader.join()
    assert seen and {strategy for strategy, _, _ in seen} == {"co-purchase"}
    assert {tuple(items) for _, _, items in seen} == {(kitchen["mug"], kitchen["tea"])}
    assert {version for _, version, _ in seen} <= {first["version"], *versions}


def test_old_versions_are_pruned_in_both_stores(api, pg, rds):
    versions = [train(api["recommendations_train"])["version"] for _ in range(3)]
    with pg.cursor() as cur:
        cur.execute("SELECT version, active FROM recommendation_models ORDER BY version")
        assert cur.fetchall() == [(versions[1], False), (versions[2], True)]
        cur.execute("SELECT count(*) FROM recommendation_neighbours WHERE version = %s", (versions[0],))
        assert cur.fetchone() == (0,)
    assert not rds.exists(f"recommendations:model:{versions[0]}")
    assert rds.hget(f"recommendations:model:{versions[2]}", "complete") == "1"
    assert 0 < rds.ttl(f"recommendations:model:{versions[2]}") <= 172800


def test_a_second_training_at_once_changes_nothing(api, stack_env):
    import psycopg2

    train(api["recommendations_train"])
    holder = psycopg2.connect(stack_env["DATABASE_URL"])
    try:
        with holder.cursor() as cur:  # a training in progress holds this lock until it commits
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (TRAINING_LOCK,))
            cur.execute("SELECT max(version) FROM recommendation_models")
            before = cur.fetchone()[0]
            response = assert_conforms(requests.post(f"{api['recommendations_train']}/internal/recommendations/train",
                                                     timeout=30))
            assert response.status_code == 409
            assert response.headers["Content-Type"] == "application/problem+json"
        holder.rollback()
        with holder.cursor() as cur:
            cur.execute("SELECT max(version) FROM recommendation_models")
            assert cur.fetchone()[0] == before
    finally:
        holder.close()


@pytest.mark.parametrize("product_id, params, status", [
    ("not-a-uuid", {}, 400),
    (str(uuid.uuid4()), {}, 404),
    (None, {"limit": "0"}, 400),
    (None, {"limit": "21"}, 400),
    (None, {"limit": "ten"}, 400),
])
def test_bad_requests_are_problems(api, shop, product_id, params, status):
    response = recommend(api["recommendations_get"], product_id or shop.product("Any"), **params)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    if status == 400:
        assert response.json()["errors"][0]["field"] in ("product_id", "limit")
