"""Trained models in PostgreSQL (tables of migration 0060), the counts they are built from, and
the live-catalog checks every read makes."""
from __future__ import annotations

import io

from .model import Neighbour

# Advisory lock key of the training: two at once would race to activate their versions.
_TRAINING_LOCK = 0x7EC0_0DE1


def try_lock_training(cur) -> bool:
    """Held until the transaction ends; False while another training runs."""
    cur.execute("SELECT pg_try_advisory_xact_lock(%s) AS locked", (_TRAINING_LOCK,))
    return cur.fetchone()["locked"]


def copurchase_counts(cur) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """Paid orders per product and each unordered pair once, among live products only.

    One statement, so the pair counts and the product counts come from one snapshot. Rows come
    as tuples: dicts (the kit's cursor) made reading 31k pairs 2.3 times slower."""
    with cur.connection.cursor() as rows:
        rows.execute(
            "SELECT c.product_id::text, c.other_id::text, c.orders, pa.orders, pb.orders"
            " FROM copurchases c"
            " JOIN products a ON a.id = c.product_id AND a.deleted_at IS NULL"
            " JOIN products b ON b.id = c.other_id AND b.deleted_at IS NULL"
            " JOIN product_purchases pa ON pa.product_id = c.product_id"
            " JOIN product_purchases pb ON pb.product_id = c.other_id"
            " WHERE c.product_id < c.other_id"  # stored both ways round; the model wants each pair once
        )
        found = rows.fetchall()
    purchases: dict[str, int] = {}
    for a, b, _, a_orders, b_orders in found:
        purchases[a], purchases[b] = a_orders, b_orders
    return purchases, [(a, b, orders) for a, b, orders, _, _ in found]


def save(cur, model: dict[str, tuple[Neighbour, ...]], size: int, pairs: int, training_ms: int) -> int:
    """Write a new, inactive version with its neighbours and category lists; returns it."""
    cur.execute("INSERT INTO recommendation_models (size, pairs, products, training_ms) VALUES (%s, %s, %s, %s)"
                " RETURNING version", (size, pairs, len(model), training_ms))
    version = cur.fetchone()["version"]
    # COPY: 48k rows (2,000 products) take 0.13 s, against 0.7 s as unnest() arrays (quoting and parsing them).
    # Ids are UUIDs and scores floats, so the text format needs no escaping.
    rows = io.StringIO("".join(f"{version}\t{product_id}\t{rank}\t{n.product_id}\t{n.score!r}\n"
                               for product_id, neighbours in model.items() for rank, n in enumerate(neighbours, 1)))
    cur.copy_expert("COPY recommendation_neighbours (version, product_id, rank, other_id, score) FROM STDIN", rows)
    # Every live product counts (0 orders too), so a category nobody bought from yet has a list;
    # among equals the newest come first.
    cur.execute(
        "INSERT INTO recommendation_category_popular (version, category, rank, product_id, orders)"
        " SELECT %(version)s, category, rank, id, orders FROM ("
        "   SELECT p.category, p.id, COALESCE(pp.orders, 0) AS orders, row_number() OVER ("
        "     PARTITION BY p.category ORDER BY COALESCE(pp.orders, 0) DESC, p.created_at DESC, p.id) AS rank"
        "   FROM products p LEFT JOIN product_purchases pp ON pp.product_id = p.id WHERE p.deleted_at IS NULL"
        " ) ranked WHERE rank <= %(size)s",
        {"version": version, "size": size},
    )
    return version


def activate(cur, version: int, keep: int) -> list[int]:
    """Make `version` the one readers use (visible at commit) and drop all but the newest `keep`
    versions; returns the dropped ones. Two statements: the one-active index is checked per row."""
    cur.execute("UPDATE recommendation_models SET active = false WHERE active")
    cur.execute("UPDATE recommendation_models SET active = true WHERE version = %s", (version,))
    cur.execute("DELETE FROM recommendation_models WHERE version NOT IN ("
                " SELECT version FROM recommendation_models ORDER BY version DESC LIMIT %s) RETURNING version", (keep,))
    return sorted(row["version"] for row in cur.fetchall())


def category_lists(cur, version: int) -> dict[str, list[tuple[str, int]]]:
    """Every category's popular products of one version, most bought first."""
    cur.execute("SELECT category, product_id::text, orders FROM recommendation_category_popular"
                " WHERE version = %s ORDER BY category, rank", (version,))
    lists: dict[str, list[tuple[str, int]]] = {}
    for row in cur.fetchall():
        lists.setdefault(row["category"], []).append((row["product_id"], row["orders"]))
    return lists


def subject(cur, product_id: str) -> tuple[str, int | None] | None:
    """(category, active model version or None) of a live product; None if there is no such product."""
    cur.execute("SELECT p.category, (SELECT version FROM recommendation_models WHERE active) AS version"
                " FROM products p WHERE p.id = %s AND p.deleted_at IS NULL", (product_id,))
    row = cur.fetchone()
    return (row["category"], row["version"]) if row else None


def neighbours(cur, version: int, product_id: str) -> list[tuple[str, float]]:
    cur.execute("SELECT other_id::text, score FROM recommendation_neighbours WHERE version = %s AND product_id = %s"
                " ORDER BY rank", (version, product_id))
    return [(row["other_id"], row["score"]) for row in cur.fetchall()]


def category_popular(cur, version: int, category: str) -> list[tuple[str, int]]:
    cur.execute("SELECT product_id::text, orders FROM recommendation_category_popular"
                " WHERE version = %s AND category = %s ORDER BY rank", (version, category))
    return [(row["product_id"], row["orders"]) for row in cur.fetchall()]


def available(cur, candidates: list[str], exclude: str, limit: int) -> list[dict]:
    """The first `limit` candidates, in their order, that may be recommended now: live, not
    `exclude`, and not out of stock (no inventory row means stock is not tracked: allowed)."""
    cur.execute(
        "SELECT p.id::text, p.name, p.category, p.price_minor, p.currency"
        " FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS c(id, position)"
        " JOIN products p ON p.id = c.id AND p.deleted_at IS NULL"
        " LEFT JOIN inventory i ON i.product_id = p.id"
        " WHERE p.id <> %(exclude)s AND (i.available IS NULL OR i.available > 0)"
        " ORDER BY c.position LIMIT %(limit)s",
        {"ids": candidates, "exclude": exclude, "limit": limit},
    )
    return cur.fetchall()
