"""Co-purchase counts in PostgreSQL (read later by the recommendation model)."""
from __future__ import annotations


def count_order(cur, product_ids: list[str], pairs: list[tuple[str, str]]) -> None:
    """Add one paid order: +1 per product and per ordered pair. Rows are upserted in the sorted
    order the caller passes, so concurrent orders lock them in one order."""
    if product_ids:
        cur.execute(
            "INSERT INTO product_purchases (product_id, orders) SELECT p, 1 FROM unnest(%s::uuid[]) AS p ORDER BY p"
            " ON CONFLICT (product_id) DO UPDATE SET orders = product_purchases.orders + 1, updated_at = now()",
            (product_ids,),
        )
    if pairs:
        cur.execute(
            "INSERT INTO copurchases (product_id, other_id, orders)"
            " SELECT a, b, 1 FROM unnest(%s::uuid[], %s::uuid[]) AS t(a, b) ORDER BY a, b"
            " ON CONFLICT (product_id, other_id) DO UPDATE SET orders = copurchases.orders + 1, updated_at = now()",
            ([a for a, _ in pairs], [b for _, b in pairs]),
        )


def bought_with(cur, product_id: str, limit: int) -> list[tuple[str, int]]:
    """(other product, paid orders holding both), most frequent first."""
    cur.execute("SELECT other_id::text, orders FROM copurchases WHERE product_id = %s"
                " ORDER BY orders DESC, other_id LIMIT %s", (product_id, limit))
    return [(row["other_id"], row["orders"]) for row in cur.fetchall()]
