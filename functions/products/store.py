"""Products in PostgreSQL, with Redis as a read-through cache in front of single reads."""
from __future__ import annotations

from fnkit import cache

from .catalog import SORTS, Cursor, ListQuery, Product

_COLUMNS = "id::text, sku, name, description, category, price_minor, currency, version, created_at, updated_at"
_SEARCH = "websearch_to_tsquery('english', %(text)s)"
_SORT_SQL = {"created_at": "created_at", "price_minor": "price_minor", "name": "name",
             "rank": f"ts_rank(search, {_SEARCH})::float8"}


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


def find(cur, product_id: str, lock: bool = False) -> Product | None:
    cur.execute(
        f"SELECT {_COLUMNS} FROM products WHERE id = %s AND deleted_at IS NULL{' FOR UPDATE' if lock else ''}",
        (product_id,),
    )
    row = cur.fetchone()
    return Product(**row) if row else None


def update(cur, product_id: str, fields: dict) -> Product:
    assignments = ", ".join(f"{column} = %({column})s" for column in fields)
    cur.execute(
        f"UPDATE products SET {assignments}, version = version + 1, updated_at = now() "
        f"WHERE id = %(product_id)s RETURNING {_COLUMNS}",
        {**fields, "product_id": product_id},
    )
    return Product(**cur.fetchone())


def soft_delete(cur, product_id: str) -> None:
    cur.execute("UPDATE products SET deleted_at = now(), version = version + 1 WHERE id = %s", (product_id,))


def page(cur, query: ListQuery, after: Cursor | None, limit: int) -> list[tuple[Product, float | None]]:
    """Up to `limit` live products matching the query, in its order, strictly after the cursor.
    Each comes with its search rank (None when not searching)."""
    column, descending = SORTS[query.order]
    sort_sql = _SORT_SQL[column]
    params: dict = {"text": query.text, "category": query.category, "min": query.min_price,
                    "max": query.max_price, "limit": limit}
    conditions = ["deleted_at IS NULL"]
    if query.text:
        conditions.append(f"search @@ {_SEARCH}")
    if query.category:
        conditions.append("category = %(category)s")
    if query.min_price is not None:
        conditions.append("price_minor >= %(min)s")
    if query.max_price is not None:
        conditions.append("price_minor <= %(max)s")
    if query.in_stock:
        conditions.append("EXISTS (SELECT 1 FROM inventory i WHERE i.product_id = products.id AND i.available > 0)")
    if after:
        conditions.append(f"({sort_sql}, id) {'<' if descending else '>'} (%(after_key)s, %(after_id)s)")
        params.update(after_key=after.key, after_id=after.id)
    direction = "DESC" if descending else "ASC"
    rank = f"ts_rank(search, {_SEARCH})::float8" if query.text else "NULL::float8"
    cur.execute(
        f"SELECT {_COLUMNS}, {rank} AS rank FROM products WHERE {' AND '.join(conditions)} "
        f"ORDER BY {sort_sql} {direction}, id {direction} LIMIT %(limit)s",
        params,
    )
    return [(Product(**{k: v for k, v in row.items() if k != "rank"}), row["rank"]) for row in cur.fetchall()]


def cached(product_id: str) -> dict | None:
    return cache.get_json(cache_key(product_id))


def remember(product: dict, ttl_seconds: int) -> None:
    cache.set_json(cache_key(product["id"]), product, ttl_seconds)


def forget(product_id: str) -> None:
    cache.delete(cache_key(product_id))
