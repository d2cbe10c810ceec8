"""Orders and their lines in PostgreSQL. Payments reads orders through `find` (one database)."""
from __future__ import annotations

import json

from .pricing import Cursor, Order, PricedLine

_COLUMNS = ("id::text, user_id, status, currency, total_minor, item_count, shipping_address, payment_id::text,"
            " pay_by, version, created_at, updated_at")


def insert(cur, order_id: str, user_id: str, currency: str, lines: tuple[PricedLine, ...],
           shipping_address: dict, pay_within_seconds: int) -> Order:
    cur.execute(
        f"INSERT INTO orders (id, user_id, status, currency, total_minor, item_count, shipping_address, pay_by)"
        f" VALUES (%s, %s, 'pending', %s, %s, %s, %s, now() + make_interval(secs => %s)) RETURNING {_COLUMNS}",
        (order_id, user_id, currency, sum(line.total for line in lines), sum(line.quantity for line in lines),
         json.dumps(shipping_address), pay_within_seconds),
    )
    row = cur.fetchone()
    cur.executemany(
        "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, unit_price_minor, quantity, line_total_minor)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [(order_id, n, line.product_id, line.sku, line.name, line.unit_price, line.quantity, line.total)
         for n, line in enumerate(lines, start=1)],
    )
    return Order(**row, lines=lines)


def find(cur, order_id: str, lock: bool = False) -> Order | None:
    cur.execute(f"SELECT {_COLUMNS} FROM orders WHERE id = %s{' FOR UPDATE' if lock else ''}", (order_id,))
    row = cur.fetchone()
    return Order(**row, lines=_lines(cur, [order_id])[order_id]) if row else None


def page(cur, user_id: str, after: Cursor | None, limit: int) -> list[Order]:
    condition, params = "", []
    if after:
        condition, params = " AND (created_at, id) < (%s, %s)", [after.created_at, after.id]
    cur.execute(
        f"SELECT {_COLUMNS} FROM orders WHERE user_id = %s{condition} ORDER BY created_at DESC, id DESC LIMIT %s",
        (user_id, *params, limit),
    )
    rows = cur.fetchall()
    lines = _lines(cur, [row["id"] for row in rows])
    return [Order(**row, lines=lines[row["id"]]) for row in rows]


def set_status(cur, order_id: str, status: str, payment_id: str | None = None) -> Order:
    cur.execute(
        f"UPDATE orders SET status = %s, payment_id = COALESCE(%s, payment_id), version = version + 1,"
        f" updated_at = now() WHERE id = %s RETURNING {_COLUMNS}",
        (status, payment_id, order_id),
    )
    row = cur.fetchone()
    return Order(**row, lines=_lines(cur, [order_id])[order_id])


def overdue_ids(cur, limit: int) -> list[str]:
    """Pending orders past their payment deadline, earliest first (orders_pending_by_deadline)."""
    cur.execute("SELECT id::text FROM orders WHERE status = 'pending' AND pay_by < now() ORDER BY pay_by LIMIT %s",
                (limit,))
    return [row["id"] for row in cur.fetchall()]


def is_overdue(cur, order_id: str) -> bool:
    cur.execute("SELECT pay_by < now() AS overdue FROM orders WHERE id = %s", (order_id,))
    row = cur.fetchone()
    return bool(row and row["overdue"])


def has_live_payment(cur, order_id: str) -> bool:
    """A payment in flight or captured: such an order cannot be cancelled (refund it instead)."""
    cur.execute("SELECT 1 FROM payments WHERE order_id = %s AND status <> 'failed'", (order_id,))
    return cur.fetchone() is not None


def _lines(cur, order_ids: list[str]) -> dict[str, tuple[PricedLine, ...]]:
    found: dict[str, list[PricedLine]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        cur.execute(
            "SELECT order_id::text, product_id::text, sku, name, unit_price_minor, quantity FROM order_lines"
            " WHERE order_id = ANY(%s::uuid[]) ORDER BY order_id, line_no",
            (order_ids,),
        )
        for row in cur.fetchall():
            found[row["order_id"]].append(PricedLine(row["product_id"], row["sku"], row["name"],
                                                     row["unit_price_minor"], row["quantity"]))
    return {order_id: tuple(lines) for order_id, lines in found.items()}
