"""The first vertical slice: products over HTTP against real PostgreSQL, Redis and Kafka."""
from __future__ import annotations

import pytest
import requests

from fnkit.events import data_errors
from tests.support.kafka_events import TopicReader
from tests.support.catalog import create_product, new_product
from tests.support.openapi import assert_conforms


@pytest.fixture(scope="module")
def products(products_api):
    return {"list": products_api["products_list"], "get": products_api["products_get"],
            "create": products_api["products_create"], **products_api}


def create(products, issuer, body):
    return create_product(products, issuer.admin_token(), body)


def test_create_then_get_misses_then_hits_cache_then_lists(products, issuer, unique, pg, rds, stack_env):
    reader = TopicReader(stack_env["KAFKA_BOOTSTRAP_SERVERS"], "products")
    try:
        created = create(products, issuer, new_product(unique))
        assert created.status_code == 201, created.text
        product = created.json()
        assert created.headers["Location"] == f"/api/products/{product['id']}"
        assert product["price"] == {"amount": 3999, "currency": "EUR"}

        with pg.cursor() as cur:
            cur.execute("SELECT sku, price_minor FROM products WHERE id = %s", (product["id"],))
            assert cur.fetchone() == (f"SKU-{unique}", 3999)

        event, record = reader.event_for(product["id"])
    finally:
        reader.close()
    assert event["specversion"] == "1.0"
    assert event["type"] == "com.fnshop.product.created"
    assert event["source"] == "/fnshop/products-create"
    assert event["datacontenttype"] == "application/json"
    assert record.key == product["id"].encode()
    assert event.data == product
    assert data_errors(event["type"], event.data) == []

    rds.delete(f"product:{product['id']}")
    first = assert_conforms(requests.get(f"{products['get']}/api/products/{product['id']}", timeout=5))
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    assert rds.ttl(f"product:{product['id']}") > 0
    second = requests.get(f"{products['get']}/api/products/{product['id']}", timeout=5)
    assert second.headers["X-Cache"] == "hit"
    assert second.json() == first.json() == product

    listed = assert_conforms(requests.get(f"{products['list']}/api/products", params={"category": "kitchen", "limit": 100}, timeout=5))
    assert listed.status_code == 200
    assert product["id"] in [item["id"] for item in listed.json()["items"]]


def test_list_pages_with_cursor_without_gaps_or_repeats(products, issuer, unique):
    category = f"pages-{unique.lower()}"
    ids = {create(products, issuer, new_product(f"{unique}-{n}", category=category)).json()["id"] for n in range(5)}
    seen, cursor = [], None
    for _ in range(5):
        params = {"category": category, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{products['list']}/api/products", params=params, timeout=5).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "category": "kitchen", "price": {"amount": 1, "currency": "EUR"}}, "sku"),
    ({"sku": "AB-1", "name": "x", "category": "kitchen", "price": {"amount": -1, "currency": "EUR"}}, "price.amount"),
    ({"sku": "AB-1", "name": "x", "category": "kitchen", "price": {"amount": 1, "currency": "euro"}}, "price.currency"),
    ({"sku": "AB-1", "name": "", "category": "kitchen", "price": {"amount": 1, "currency": "EUR"}}, "name"),
    ({"sku": "AB-1", "name": "x", "category": "kitchen", "price": {"amount": 1.5, "currency": "EUR"}}, "price.amount"),
    ({"sku": "AB-1", "name": "x", "category": "kitchen", "price": {"amount": 1, "currency": "EUR"}, "stock": 3}, "stock"),
])
def test_invalid_product_is_a_problem_naming_the_field_and_writes_nothing(products, issuer, pg, body, field):
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM products")
        before = cur.fetchone()[0]
    response = create(products, issuer, body)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and field in [e["field"] for e in problem["errors"]]
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM products")
        assert cur.fetchone()[0] == before


def test_malformed_and_non_json_bodies(products, issuer):
    headers = {"Authorization": f"Bearer {issuer.admin_token()}"}
    broken = requests.post(f"{products['create']}/api/products", data="{not json",
                           headers={**headers, "Content-Type": "application/json"}, timeout=5)
    assert broken.status_code == 400 and broken.json()["errors"][0]["field"] == "(body)"
    text = requests.post(f"{products['create']}/api/products", data="sku=1",
                         headers={**headers, "Content-Type": "text/plain"}, timeout=5)
    assert text.status_code == 415 and text.headers["Content-Type"] == "application/problem+json"


def test_duplicate_sku_is_a_conflict(products, issuer, unique):
    assert create(products, issuer, new_product(unique)).status_code == 201
    again = create(products, issuer, new_product(unique))
    assert again.status_code == 409 and again.json()["field"] == "sku"


@pytest.mark.parametrize("authorization", [None, "Bearer", "Basic YWRtaW46YWRtaW4=", "Bearer not.a.jwt"])
def test_missing_or_unusable_token_is_401(products, unique, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.post(f"{products['create']}/api/products", json=new_product(unique), headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_and_wrong_audience_tokens_are_401(products, issuer, unique):
    for token in (issuer.token(roles=["admin"], ttl=-60), issuer.token(roles=["admin"], aud="someone-else")):
        response = requests.post(f"{products['create']}/api/products", json=new_product(unique),
                                 headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert response.status_code == 401, response.text


def test_customer_may_not_create_products(products, issuer, unique):
    response = requests.post(f"{products['create']}/api/products", json=new_product(unique),
                             headers={"Authorization": f"Bearer {issuer.token(roles=['customer'])}"}, timeout=5)
    assert response.status_code == 403 and response.json()["title"] == "Forbidden"


def test_get_unknown_and_malformed_ids(products):
    unknown = assert_conforms(requests.get(f"{products['get']}/api/products/8d9c5e0e-0000-4000-8000-000000000000", timeout=5))
    assert unknown.status_code == 404 and unknown.headers["Content-Type"] == "application/problem+json"
    malformed = requests.get(f"{products['get']}/api/products/not-a-uuid", timeout=5)
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["field"] == "product_id"


@pytest.mark.parametrize("params, field", [({"limit": "0"}, "limit"), ({"limit": "abc"}, "limit"), ({"cursor": "garbage"}, "cursor")])
def test_bad_list_parameters(products, params, field):
    response = assert_conforms(requests.get(f"{products['list']}/api/products", params=params, timeout=5))
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == field


def test_trace_id_is_kept_and_metrics_are_labelled(products):
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = requests.get(f"{products['list']}/api/products", headers={"traceparent": traceparent}, timeout=5)
    assert response.headers["traceparent"].startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    fresh = requests.get(f"{products['list']}/api/products", timeout=5).headers["traceparent"]
    assert fresh.startswith("00-") and "4bf92f3577b34da6a3ce929d0e0e4736" not in fresh
    metrics = requests.get(f"{products['list']}/metrics", timeout=5).text
    assert 'function="products-list"' in metrics and 'route="/api/products"' in metrics
