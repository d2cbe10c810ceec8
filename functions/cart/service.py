"""Cart operations, independent of HTTP. The caller has checked who may touch the cart."""
from __future__ import annotations

from fnkit import db
from fnkit.config import env_int
from fnkit.errors import FieldError, Problem, not_found, unprocessable

from products import store as products

from . import store
from .lines import MAX_QUANTITY, snapshot_of


def view(user_id: str) -> dict:
    with store.redis_required():
        return store.read(user_id, env_int("CART_IDLE_TTL_SECONDS")).to_public()


def add_item(user_id: str, product_id: str, quantity: int) -> dict:
    snapshot = snapshot_of(_live_product(product_id))
    with store.redis_required():
        outcome, value = store.add(user_id, snapshot, quantity, MAX_QUANTITY, env_int("CART_MAX_LINES"),
                                   env_int("CART_IDLE_TTL_SECONDS"))
        if outcome == "currency":
            raise _refusal(f"the cart is in {value}; product {product_id} is priced in {snapshot.currency}",
                           "currency-mismatch", "product_id", product_id=product_id)
        if outcome == "quantity":
            raise _refusal(f"the cart already holds {value} of product {product_id}; a line holds at most "
                           f"{MAX_QUANTITY}", "quantity-limit", "quantity", product_id=product_id)
        if outcome == "lines":
            raise _refusal(f"a cart holds at most {value} different products", "too-many-lines", "product_id",
                           product_id=product_id)
        return store.read(user_id).to_public()


def set_quantity(user_id: str, product_id: str, quantity: int) -> dict:
    with store.redis_required():
        if not store.set_quantity(user_id, product_id, quantity, env_int("CART_IDLE_TTL_SECONDS")):
            raise not_found(f"product {product_id} is not in the cart")
        return store.read(user_id).to_public()


def remove_item(user_id: str, product_id: str) -> dict:
    with store.redis_required():
        if not store.remove(user_id, product_id, env_int("CART_IDLE_TTL_SECONDS")):
            raise not_found(f"product {product_id} is not in the cart")
        return store.read(user_id).to_public()


def clear(user_id: str) -> None:
    with store.redis_required():
        store.clear(user_id)


def _live_product(product_id: str) -> dict:
    product = products.cached(product_id)
    if product is None:
        with db.transaction() as cur:
            found = products.find(cur, product_id)
        product = found.to_public() if found else None
    if product is None:
        problem = unprocessable(f"product {product_id} does not exist or is no longer sold")
        problem.errors.append(FieldError("product_id", "no such product"))
        problem.extensions["product_id"] = product_id
        raise problem
    return product


def _refusal(detail: str, slug: str, field: str, **extensions) -> Problem:
    return Problem(422, "Unprocessable request", detail, slug=slug, errors=[FieldError(field, detail)],
                   extensions=extensions)
