"""Inventory and reservations in PostgreSQL. Locks are always taken in one order, reservation
row first and then stock rows by product id, so concurrent reservations never deadlock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .stock import Level, Line


@dataclass(frozen=True)
class Reservation:
    order_id: str
    status: str
    expires_at: datetime
    lines: tuple[Line, ...]

    def to_public(self) -> dict:
        return {"order_id": self.order_id, "status": self.status, "expires_at": self.expires_at.isoformat(),
                "lines": [line.to_public() for line in self.lines]}


def level(cur, product_id: str) -> Level | None:
    cur.execute("SELECT product_id::text, available, reserved FROM inventory WHERE product_id = %s", (product_id,))
    row = cur.fetchone()
    return Level(**row) if row else None


def lock_levels(cur, product_ids: list[str]) -> dict[str, Level]:
    cur.execute(
        "SELECT product_id::text, available, reserved FROM inventory WHERE product_id = ANY(%s::uuid[])"
        " ORDER BY product_id FOR UPDATE",
        (sorted(product_ids),),
    )
    return {row["product_id"]: Level(**row) for row in cur.fetchall()}


def save_level(cur, new: Level) -> None:
    cur.execute(
        "INSERT INTO inventory (product_id, available, reserved) VALUES (%s, %s, %s)"
        " ON CONFLICT (product_id) DO UPDATE SET available = EXCLUDED.available, reserved = EXCLUDED.reserved,"
        " updated_at = now()",
        (new.product_id, new.available, new.reserved),
    )


def insert_reservation(cur, order_id: str, ttl_seconds: int) -> bool:
    """Claim the order's reservation row; False when one exists (a retry or a duplicate)."""
    cur.execute(
        "INSERT INTO reservations (order_id, status, expires_at) VALUES (%s, 'held', now() + make_interval(secs => %s))"
        " ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
        (order_id, ttl_seconds),
    )
    return cur.fetchone() is not None


def insert_lines(cur, order_id: str, lines: tuple[Line, ...]) -> None:
    cur.executemany(
        "INSERT INTO reservation_lines (order_id, product_id, quantity) VALUES (%s, %s, %s)",
        [(order_id, line.product_id, line.quantity) for line in lines],
    )


def tombstone(cur, order_id: str, reason: str) -> None:
    """A released reservation without lines: a reserve arriving late for this order is refused."""
    cur.execute(
        "INSERT INTO reservations (order_id, status, expires_at, reason) VALUES (%s, 'released', now(), %s)"
        " ON CONFLICT (order_id) DO NOTHING",
        (order_id, reason),
    )


def find_reservation(cur, order_id: str, lock: bool = False) -> Reservation | None:
    cur.execute(
        f"SELECT order_id::text, status, expires_at FROM reservations WHERE order_id = %s{' FOR UPDATE' if lock else ''}",
        (order_id,),
    )
    row = cur.fetchone()
    if row is None:
        return None
    cur.execute("SELECT product_id::text, quantity FROM reservation_lines WHERE order_id = %s ORDER BY product_id",
                (order_id,))
    return Reservation(**row, lines=tuple(Line(**line) for line in cur.fetchall()))


def set_status(cur, order_id: str, status: str, reason: str | None = None) -> None:
    cur.execute("UPDATE reservations SET status = %s, reason = %s, updated_at = now() WHERE order_id = %s",
                (status, reason, order_id))


def expired_ids(cur, limit: int) -> list[str]:
    cur.execute(
        "SELECT order_id::text FROM reservations WHERE status = 'held' AND expires_at < now()"
        " ORDER BY expires_at LIMIT %s",
        (limit,),
    )
    return [row["order_id"] for row in cur.fetchall()]


def is_expired(cur, order_id: str) -> bool:
    cur.execute("SELECT expires_at < now() AS expired FROM reservations WHERE order_id = %s", (order_id,))
    row = cur.fetchone()
    return bool(row and row["expired"])
