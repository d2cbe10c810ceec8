"""Products in PostgreSQL, with Redis as a read-through cache in front of single reads."""
from __future__ import annotations

from fnkit import cache

from .catalog import Cursor, Product

_COLUMNS = "id::text, sku, name, description, category, price_minor, currency, version, created_at, updated_at"

def cache_key(product_id: str) -> str:
    return f"product:{product_id}"

def insert(cur, fields: dict) -> Product:
    cur.execute(
        f"INSERT INTO products (id, sku, name, description, category, price_minor, currency) "
        f"VALUES (%(id)s, %(sku)s, %(name)s, %(description)s, %(category)s, %(price_minor)s, %(currency)s) "
        f"RETURNING {_COLUMNS}",
        fields,
    )
    return Product(**cur.fetchone())

def find(cur, product_id: str) -> Product | None:
    cur.execute(f"SELECT {_COLUMNS} FROM products WHERE id = %s AND deleted_at IS NULL", (product_id,))
    row = cur.fetchone()
    return Product(**row) if row else None

def page(cur, limit: int, after: Cursor | None, category: str | None) -> list[Product]:
    """Up to `limit` live products, newest first, strictly after the cursor."""
    conditions, params = ["deleted_at IS NULL"], []
    if category:
        conditions.append("category = %s")
        params.append(category)
    if after:
        conditions.append("(created_at, id) < (%s, %s)")
        params += [after.created_at, after.id]
    cur.execute(
        f"SELECT {_COLUMNS} FROM products WHERE {' AND '.join(conditions)} "
        f"ORDER BY created_at DESC, id DESC LIMIT %s",
        (*params, limit),
    )
    return [Product(**row) for row in cur.fetchall()]

def cached(product_id: str) -> dict | None:
    return cache.get_json(cache_key(product_id))

def remember(product: dict, ttl_seconds: int) -> None:
    cache.set_json(cache_key(product["id"]), product, ttl_seconds)
