"""Catalog operations: what each function does, independent of HTTP."""
from __future__ import annotations

from dataclasses import dataclass

import psycopg2.errors

from fnkit import db, outbox
from fnkit.config import env_int
from fnkit.errors import FieldError, conflict, invalid, not_found
from fnkit.events import Event

from . import store
from .catalog import Cursor, new_product_fields

TOPIC = "products"


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_cursor: str | None


def list_products(limit: int, cursor: str | None, category: str | None) -> Page:
    try:
        after = Cursor.decode(cursor) if cursor else None
    except ValueError:
        raise invalid([FieldError("cursor", "is not a cursor returned by this endpoint")]) from None
    with db.transaction() as cur:
        # One extra row tells whether another page exists without a COUNT.
        products = store.page(cur, limit + 1, after, category)
    more = len(products) > limit
    products = products[:limit]
    last = products[-1] if more else None
    return Page([p.to_public() for p in products], Cursor(last.created_at, last.id).encode() if last else None)


def get_product(product_id: str) -> tuple[dict, bool]:
    """The product and whether it came from the cache."""
    hit = store.cached(product_id)
    if hit is not None:
        return hit, True
    with db.transaction() as cur:
        product = store.find(cur, product_id)
    if product is None:
        raise not_found(f"no product with id {product_id}")
    public = product.to_public()
    store.remember(public, env_int("PRODUCT_CACHE_TTL_SECONDS"))
    return public, False


def create_product(payload: dict) -> dict:
    """Caller has checked the admin role; payload matches NEW_PRODUCT_SCHEMA."""
    fields = new_product_fields(payload)
    try:
        with db.transaction() as cur:
            product = store.insert(cur, fields).to_public()
            outbox.enqueue(cur, TOPIC, Event("com.fnshop.product.created", product["id"], product))
    except psycopg2.errors.UniqueViolation:
        raise conflict(f"a product with sku {fields['sku']} already exists", field="sku") from None
    return product
