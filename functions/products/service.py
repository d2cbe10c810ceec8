"""Catalog operations: what each function does, independent of HTTP."""
from __future__ import annotations

from dataclasses import dataclass

import psycopg2.errors

from fnkit import cache, db, logs, outbox
from fnkit.config import env_int
from fnkit.errors import FieldError, Problem, conflict, invalid, not_found, precondition_failed
from fnkit.events import Event

from . import store
from .catalog import Cursor, ListQuery, Product, change_fields, new_product_fields

TOPIC = "products"
log = logs.get(__name__)


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_cursor: str | None


def list_products(query: ListQuery) -> Page:
    errors = [FieldError(field, message) for field, message in query.errors()]
    try:
        after = Cursor.decode(query.cursor, query.order) if query.cursor else None
    except ValueError:
        errors.append(FieldError("cursor", "is not a cursor returned by this endpoint for this sort"))
    if errors:
        raise invalid(errors)
    with db.transaction() as cur:
        # One extra row tells whether another page exists without a COUNT.
        rows = store.page(cur, query, after, query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = Cursor.after(query.order, *rows[-1]).encode() if more else None
    return Page([product.to_public() for product, _ in rows], next_cursor)


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


def update_product(product_id: str, expected_version: int, changes: dict) -> dict:
    """Apply a validated PATCH if the caller saw the current version (optimistic concurrency)."""
    with _invalidating(product_id), db.transaction() as cur:
        current = _current(cur, product_id, expected_version)
        product = store.update(cur, current.id, change_fields(changes)).to_public()
        outbox.enqueue(cur, TOPIC, Event("com.fnshop.product.updated", product_id, product))
    return product


def delete_product(product_id: str, expected_version: int | None) -> None:
    """Soft delete: orders and carts keep referring to the row; reads stop finding it."""
    with _invalidating(product_id), db.transaction() as cur:
        current = _current(cur, product_id, expected_version)
        store.soft_delete(cur, current.id)
        outbox.enqueue(cur, TOPIC, Event("com.fnshop.product.deleted", product_id, {"id": product_id, "sku": current.sku}))


def _current(cur, product_id: str, expected_version: int | None) -> Product:
    current = store.find(cur, product_id, lock=True)
    if current is None:
        raise not_found(f"no product with id {product_id}")
    if expected_version is not None and current.version != expected_version:
        raise precondition_failed(f"the product is at version {current.version}, not {expected_version}")
    return current


class _invalidating:
    """Drop the cached product before the write (so a Redis outage fails the write cleanly,
    changing nothing) and again after commit (so a reader that cached the old row while the
    write was in flight cannot keep it): a reader never sees a stale product once we return."""

    def __init__(self, product_id: str):
        self.product_id = product_id

    def __enter__(self):
        try:
            store.forget(self.product_id)
        except cache.unavailable_errors():
            raise Problem(503, "Service unavailable", "the product cache is unreachable; nothing was changed") from None

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            try:
                store.forget(self.product_id)
            except cache.unavailable_errors() as exc:
                # Only a reader racing this write could have refilled the key; its TTL bounds that.
                log.warning("post-commit cache invalidation failed", extra={"product_id": self.product_id, "error": str(exc)})
        return False
