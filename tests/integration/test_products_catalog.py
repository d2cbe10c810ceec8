"""Catalog behaviour beyond the first slice: search, filters, sorting, optimistic concurrency,
soft delete, and the cache-invalidation guarantee, on real PostgreSQL, Redis and Kafka."""
from __future__ import annotations

import pytest
import requests

from tests.support.catalog import create_product, new_product
from tests.support.kafka_events import TopicReader
from tests.support.openapi import assert_conforms


@pytest.fixture()
def admin(issuer):
    return {"Authorization": f"Bearer {issuer.admin_token()}"}


@pytest.fixture()
def product(products_api, issuer, unique):
    return create_product(products_api, issuer.admin_token(), new_product(unique)).json()


def get(products_api, product_id):
    return assert_conforms(requests.get(f"{products_api['products_get']}/api/products/{product_id}", timeout=5))


def patch(products_api, product_id, body, headers):
    return assert_conforms(requests.patch(f"{products_api['products_update']}/api/products/{product_id}",
                                          json=body, headers=headers, timeout=5))


def listing(products_api, **params):
    response = assert_conforms(requests.get(f"{products_api['products_list']}/api/products", params=params, timeout=5))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reader_never_sees_the_old_product_after_an_update_returns(products_api, product, admin, rds):
    assert get(products_api, product["id"]).headers["X-Cache"] == "miss"
    assert get(products_api, product["id"]).headers["X-Cache"] == "hit"
    changed = patch(products_api, product["id"], {"price": {"amount": 2500, "currency": "EUR"}},
                    {**admin, "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    after = get(products_api, product["id"])
    assert after.json()["price"]["amount"] == 2500 and after.json()["version"] == 2
    assert after.headers["X-Cache"] == "miss"


def test_stale_or_missing_if_match_changes_nothing(products_api, product, admin, pg):
    stale = patch(products_api, product["id"], {"name": "Other"}, {**admin, "If-Match": '"7"'})
    assert stale.status_code == 412
    missing = requests.patch(f"{products_api['products_update']}/api/products/{product['id']}",
                             json={"name": "Other"}, headers=admin, timeout=5)
    assert missing.status_code == 428 and missing.headers["Content-Type"] == "application/problem+json"
    bad = patch(products_api, product["id"], {"sku": "NEW-SKU"}, {**admin, "If-Match": '"1"'})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "sku"
    with pg.cursor() as cur:
        cur.execute("SELECT name, version FROM products WHERE id = %s", (product["id"],))
        assert cur.fetchone() == (product["name"], 1)


def test_customers_cannot_change_or_delete(products_api, product, issuer):
    customer = {"Authorization": f"Bearer {issuer.token(roles=['customer'])}", "If-Match": '"1"'}
    assert patch(products_api, product["id"], {"name": "x"}, customer).status_code == 403
    gone = requests.delete(f"{products_api['products_delete']}/api/products/{product['id']}", headers=customer, timeout=5)
    assert gone.status_code == 403


def test_soft_delete_hides_the_product_everywhere_and_emits_an_event(products_api, product, admin, pg, stack_env):
    get(products_api, product["id"])  # cache it
    reader = TopicReader(stack_env["KAFKA_BOOTSTRAP_SERVERS"], "products")
    try:
        deleted = assert_conforms(requests.delete(f"{products_api['products_delete']}/api/products/{product['id']}",
                                                  headers=admin, timeout=5))
        assert deleted.status_code == 204
        events = reader.records(timeout=10, until=lambda seen: any(
            dict(r.headers).get("ce_type") == b"com.fnshop.product.deleted"
            and dict(r.headers).get("ce_subject") == product["id"].encode() for r in seen))
    finally:
        reader.close()
    assert any(dict(r.headers).get("ce_type") == b"com.fnshop.product.deleted" for r in events)
    assert get(products_api, product["id"]).status_code == 404
    ids = [item["id"] for item in listing(products_api, category="kitchen", limit=100)["items"]]
    assert product["id"] not in ids
    with pg.cursor() as cur:
        cur.execute("SELECT deleted_at IS NOT NULL FROM products WHERE id = %s", (product["id"],))
        assert cur.fetchone() == (True,)


def test_search_ranks_name_matches_first_and_filters_by_price(products_api, issuer, unique):
    token = issuer.admin_token()
    word = f"zq{unique.lower()}"  # a word no other product has
    category = f"search-{unique.lower()}"
    in_name = create_product(products_api, token, new_product(f"{unique}-A", name=f"{word} teapot", category=category,
                                                              price={"amount": 1000, "currency": "EUR"})).json()
    in_text = create_product(products_api, token, new_product(f"{unique}-B", name="Teapot", category=category,
                                                              description=f"goes well with {word}",
                                                              price={"amount": 5000, "currency": "EUR"})).json()
    found = listing(products_api, q=word)
    assert [item["id"] for item in found["items"]] == [in_name["id"], in_text["id"]]
    cheap = listing(products_api, q=word, max_price=2000)
    assert [item["id"] for item in cheap["items"]] == [in_name["id"]]
    by_price = listing(products_api, category=category, sort="price_desc")
    assert [item["id"] for item in by_price["items"]] == [in_text["id"], in_name["id"]]


def test_every_sort_pages_through_all_products_once(products_api, issuer, unique):
    token = issuer.admin_token()
    category = f"sorts-{unique.lower()}"
    prices = [700, 100, 400, 400, 900]
    ids = {create_product(products_api, token, new_product(f"{unique}-{n}", category=category, name=f"Item {n}",
                                                           price={"amount": p, "currency": "EUR"})).json()["id"]
           for n, p in enumerate(prices)}
    for sort in ("newest", "price_asc", "price_desc", "name"):
        seen, cursor = [], None
        while True:
            page = listing(products_api, category=category, sort=sort, limit=2, **({"cursor": cursor} if cursor else {}))
            seen += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert {item["id"] for item in seen} == ids and len(seen) == len(ids), sort
        amounts = [item["price"]["amount"] for item in seen]
        if sort == "price_asc":
            assert amounts == sorted(amounts)
        if sort == "price_desc":
            assert amounts == sorted(amounts, reverse=True)


@pytest.mark.parametrize("params, field", [
    ({"sort": "cheapest"}, "sort"), ({"sort": "relevance"}, "sort"), ({"min_price": "-1"}, "min_price"),
    ({"min_price": "9", "max_price": "3"}, "min_price"), ({"in_stock": "maybe"}, "in_stock"),
])
def test_bad_filters_are_named(products_api, params, field):
    response = assert_conforms(requests.get(f"{products_api['products_list']}/api/products", params=params, timeout=5))
    assert response.status_code == 400 and field in [e["field"] for e in response.json()["errors"]]


def test_cursor_from_another_sort_is_refused(products_api, issuer, unique):
    category = f"mix-{unique.lower()}"
    for n in range(3):
        create_product(products_api, issuer.admin_token(), new_product(f"{unique}-{n}", category=category))
    cursor = listing(products_api, category=category, limit=1, sort="price_asc")["next_cursor"]
    response = requests.get(f"{products_api['products_list']}/api/products",
                            params={"category": category, "cursor": cursor, "sort": "name"}, timeout=5)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "cursor"


def test_in_stock_lists_only_products_with_available_stock(products_api, issuer, unique, pg):
    category = f"stock-{unique.lower()}"
    token = issuer.admin_token()
    stocked, empty, untracked = (create_product(products_api, token, new_product(f"{unique}-{n}", category=category)).json()
                                 for n in range(3))
    with pg.cursor() as cur:  # stock as the inventory function stores it
        cur.execute("INSERT INTO inventory (product_id, available) VALUES (%s, 4), (%s, 0)", (stocked["id"], empty["id"]))
    everything = {item["id"] for item in listing(products_api, category=category)["items"]}
    assert everything == {stocked["id"], empty["id"], untracked["id"]}
    assert [item["id"] for item in listing(products_api, category=category, in_stock="true")["items"]] == [stocked["id"]]
