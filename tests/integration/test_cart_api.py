"""The cart over HTTP on real Redis: owner-only, price snapshots and totals, one currency,
bounds, idle TTL, and concurrent adds that never lose a line or a unit."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest_checkout import *  # noqa: F403 (fixtures)


def cart_path(user_id: str, product_id: str | None = None) -> str:
    return f"/api/cart/{user_id}" + (f"/items/{product_id}" if product_id else "")


def test_add_change_remove_clear_with_totals(shop, rds, unique):
    user_id, token = shop.customer()
    kettle, mug = shop.product(unique, amount=3999), shop.product(unique + "M", amount=850)
    assert shop.add(user_id, token, kettle, 1).status_code == 200
    cart = shop.add(user_id, token, mug, 2).json()
    assert [line["product_id"] for line in cart["lines"]] == [kettle, mug]
    assert cart["lines"][1]["unit_price"] == {"amount": 850, "currency": "EUR"}
    assert cart["lines"][1]["line_total"] == {"amount": 1700, "currency": "EUR"}
    assert cart["total"] == {"amount": 5699, "currency": "EUR"} and cart["item_count"] == 3
    assert 0 < rds.ttl(f"cart:{user_id}") <= 604800

    again = shop.add(user_id, token, mug, 3).json()  # adding more of a product grows its line
    assert again["lines"][1]["quantity"] == 5
    changed = shop.call("cart_update_item", "PATCH", cart_path(user_id, mug), token, json={"quantity": 1})
    assert changed.status_code == 200 and changed.json()["total"]["amount"] == 3999 + 850
    removed = shop.call("cart_remove_item", "DELETE", cart_path(user_id, kettle), token)
    assert removed.status_code == 200 and [line["product_id"] for line in removed.json()["lines"]] == [mug]
    assert shop.call("cart_remove_item", "DELETE", cart_path(user_id, kettle), token).status_code == 404
    assert shop.call("cart_update_item", "PATCH", cart_path(user_id, kettle), token, json={"quantity": 1}).status_code == 404
    cleared = shop.call("cart_clear", "DELETE", cart_path(user_id), token)
    assert cleared.status_code == 204 and cleared.content == b""
    empty = shop.call("cart_get", "GET", cart_path(user_id), token).json()
    assert empty == {"user_id": user_id, "currency": None, "lines": [], "item_count": 0, "total": None}
    assert not rds.exists(f"cart:{user_id}")


def test_snapshot_keeps_the_price_seen_when_added(shop, pg, unique):
    user_id, token = shop.customer()
    product_id = shop.product(unique, amount=1000)
    shop.add(user_id, token, product_id, 1)
    with pg.cursor() as cur:
        cur.execute("UPDATE products SET price_minor = 1500 WHERE id = %s", (product_id,))
    line = shop.call("cart_get", "GET", cart_path(user_id), token).json()["lines"][0]
    assert line["unit_price"]["amount"] == 1000  # orders re-price from the catalog


def test_only_the_owner_or_an_admin(shop, unique):
    user_id, token = shop.customer()
    product_id = shop.product(unique)
    _, stranger = shop.customer()
    assert shop.add(user_id, stranger, product_id, 1).status_code == 403
    assert shop.call("cart_get", "GET", cart_path(user_id), stranger).status_code == 403
    assert shop.call("cart_get", "GET", cart_path(user_id)).status_code == 401
    assert shop.add(user_id, shop.admin, product_id, 1).status_code == 200
    assert shop.call("cart_get", "GET", cart_path(user_id), shop.admin).json()["item_count"] == 1


def test_unknown_product_mixed_currency_and_bounds_are_refused(shop, rds, unique):
    user_id, token = shop.customer()
    eur, usd = shop.product(unique, currency="EUR"), shop.product(unique + "U", currency="USD")
    unknown = shop.add(user_id, token, str(uuid.uuid4()))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "product_id"
    assert not rds.exists(f"cart:{user_id}")
    assert shop.add(user_id, token, eur, 98).status_code == 200
    mixed = shop.add(user_id, token, usd, 1)
    assert mixed.status_code == 422 and mixed.json()["type"].endswith("/currency-mismatch")
    assert mixed.json()["product_id"] == usd
    over = shop.add(user_id, token, eur, 2)
    assert over.status_code == 422 and over.json()["type"].endswith("/quantity-limit")
    for body, field in (({"product_id": eur, "quantity": 0}, "quantity"), ({"product_id": eur, "quantity": 100}, "quantity"),
                        ({"product_id": "x", "quantity": 1}, "product_id"), ({"quantity": 1}, "product_id"),
                        ({"product_id": eur, "quantity": 1.5}, "quantity")):
        bad = shop.call("cart_add_item", "POST", f"/api/cart/{user_id}/items", token, json=body)
        assert bad.status_code == 400 and field in [e["field"] for e in bad.json()["errors"]], bad.text
    patch = shop.call("cart_update_item", "PATCH", cart_path(user_id, eur), token, json={"quantity": 0})
    assert patch.status_code == 400
    cart = shop.call("cart_get", "GET", cart_path(user_id), token).json()
    assert cart["item_count"] == 98 and cart["currency"] == "EUR"


@pytest.mark.parametrize("round_", range(2))
def test_concurrent_adds_never_lose_a_line_or_a_unit(shop, unique, round_):
    user_id, token = shop.customer()
    products = [shop.product(f"{unique}{n}") for n in range(6)]
    work = [product for product in products for _ in range(4)]  # 24 adds, 4 per product, all at once
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda product: shop.add(user_id, token, product, 2).status_code, work))
    assert statuses == [200] * len(work)
    cart = shop.call("cart_get", "GET", cart_path(user_id), token).json()
    assert sorted(line["product_id"] for line in cart["lines"]) == sorted(products)
    assert all(line["quantity"] == 8 for line in cart["lines"]) and cart["item_count"] == 48


def test_concurrent_adds_respect_the_quantity_bound(shop, unique):
    user_id, token = shop.customer()
    product_id = shop.product(unique)
    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda _: shop.add(user_id, token, product_id, 10).status_code, range(12)))
    assert sorted(statuses) == [200] * 9 + [422] * 3
    assert shop.call("cart_get", "GET", cart_path(user_id), token).json()["item_count"] == 90
