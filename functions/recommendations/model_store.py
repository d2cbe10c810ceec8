"""Trained models in PostgreSQL (tables of migrations 0060 and 0061), the counts and texts they
are built from, and the live-catalog checks every read makes."""
from __future__ import annotations

from typing import Iterable

from .content import Document
from .model import Neighbour

Model = dict[str, tuple[Neighbour, ...]]

# Advisory lock key of the training: two at once would race to activate their versions.
_TRAINING_LOCK = 0x7EC0_0DE1
_COPY_CHUNK = 1 << 16  # characters a COPY read returns


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


def live_documents(cur) -> list[Document]:
    """The text of every live product, for the content model (tuples, as in copurchase_counts)."""
    with cur.connection.cursor() as rows:
        rows.execute("SELECT id::text, name, category, description FROM products WHERE deleted_at IS NULL")
        return [Document(*row) for row in rows.fetchall()]


def save(cur, model: Model, content: Model, content_terms: int, size: int, pairs: int, training_ms: int) -> int:
    """Write a new, inactive version with its co-purchase and content neighbours and its category
    lists; returns it."""
    cur.execute("INSERT INTO recommendation_models (size, pairs, products, training_ms, content_products, content_terms)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING version",
                (size, pairs, len(model), training_ms, len(content), content_terms))
    version = cur.fetchone()["version"]
    # COPY: 48k rows (2,000 products) take 0.13 s, against 0.7 s as unnest() arrays (quoting and parsing them).
    # Ids are UUIDs and scores floats, so the text format (arrays too) needs no escaping. Content lists
    # go one row per product, their neighbours as arrays: see migration 0061.
    cur.copy_expert("COPY recommendation_neighbours (version, product_id, rank, other_id, score) FROM STDIN",
                    _Lines(f"{version}\t{product_id}\t{rank}\t{n.product_id}\t{n.score!r}\n"
                           for product_id, neighbours in model.items() for rank, n in enumerate(neighbours, 1)),
                    size=_COPY_CHUNK)
    cur.copy_expert("COPY recommendation_content_neighbours (version, product_id, other_ids, scores) FROM STDIN",
                    _Lines(f"{version}\t{product_id}\t{{{','.join(n.product_id for n in neighbours)}}}"
                           f"\t{{{','.join(repr(n.score) for n in neighbours)}}}\n"
                           for product_id, neighbours in content.items()),
                    size=_COPY_CHUNK)
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


def lists(cur, version: int, product_id: str, category: str) -> tuple[list, list, list]:
    """(co-purchase neighbours, content neighbours, category popular) of a product in one
    version, each [(id, score)] best first: the read on a cache miss, in one round trip."""
    cur.execute(
        "(SELECT 0 AS list, rank, other_id::text AS id, score FROM recommendation_neighbours"
        "  WHERE version = %(version)s AND product_id = %(product)s)"
        " UNION ALL (SELECT 1, n.rank, n.id::text, n.score FROM recommendation_content_neighbours c,"
        "  unnest(c.other_ids, c.scores) WITH ORDINALITY AS n(id, score, rank)"
        "  WHERE c.version = %(version)s AND c.product_id = %(product)s)"
        " UNION ALL (SELECT 2, rank, product_id::text, orders FROM recommendation_category_popular"
        "  WHERE version = %(version)s AND category = %(category)s)"
        " ORDER BY list, rank",
        {"version": version, "product": product_id, "category": category},
    )
    found: tuple[list, list, list] = ([], [], [])
    for row in cur.fetchall():
        found[row["list"]].append((row["id"], row["score"]))
    # The union made the orders of the popular list floats; as ints they read as in Redis.
    return found[0], found[1], [(product, int(orders)) for product, orders in found[2]]


class _Lines:
    """What COPY reads: the rows rendered as psycopg2 asks for them. One string of them all was
    40 MB at 20,000 products, and a StringIO keeps 4 bytes a character: 160 MB more at the peak."""

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)

    def read(self, size: int = _COPY_CHUNK) -> str:
        """At least `size` characters (whole lines), "" at the end; psycopg2 takes any length."""
        parts, length = [], 0
        for line in self._lines:
            parts.append(line)
            length += len(line)
            if length >= size:
                break
        return "".join(parts)


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
