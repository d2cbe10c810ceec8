"""Payments and refunds in PostgreSQL, with each payment's public view written through to Redis
(`payment:<id>`) after every committed change, so status reads rarely touch the database."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from fnkit import cache

_COLUMNS = ("id::text, order_id::text, user_id, status, amount_minor, currency, refunded_minor, refund_pending_minor,"
            " method, provider_ref, failure_code, failure_message, attempts, created_at, updated_at")


@dataclass(frozen=True)
class Payment:
    id: str
    order_id: str
    user_id: str
    status: str
    amount_minor: int
    currency: str
    refunded_minor: int
    refund_pending_minor: int
    method: dict
    provider_ref: str | None
    failure_code: str | None
    failure_message: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime

    def to_public(self) -> dict:
        return {
            "id": self.id, "order_id": self.order_id, "user_id": self.user_id, "status": self.status,
            "amount": {"amount": self.amount_minor, "currency": self.currency},
            "refunded": {"amount": self.refunded_minor, "currency": self.currency},
            "payment_method": self.method, "provider_reference": self.provider_ref,
            "failure": {"code": self.failure_code, "message": self.failure_message} if self.failure_code else None,
            "attempts": self.attempts, "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }


def cache_key(payment_id: str) -> str:
    return f"payment:{payment_id}"


def insert_processing(cur, payment_id: str, order_id: str, user_id: str, amount: int, currency: str,
                      method: dict) -> bool:
    """False when this payment id exists (a takeover of an interrupted attempt continues it)."""
    cur.execute(
        "INSERT INTO payments (id, order_id, user_id, status, amount_minor, currency, method)"
        " VALUES (%s, %s, %s, 'processing', %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
        (payment_id, order_id, user_id, amount, currency, json.dumps(method)),
    )
    return cur.fetchone() is not None


def find(cur, payment_id: str, lock: bool = False) -> Payment | None:
    cur.execute(f"SELECT {_COLUMNS} FROM payments WHERE id = %s{' FOR UPDATE' if lock else ''}", (payment_id,))
    row = cur.fetchone()
    return Payment(**row) if row else None


def live_for_order(cur, order_id: str) -> Payment | None:
    cur.execute(f"SELECT {_COLUMNS} FROM payments WHERE order_id = %s AND status <> 'failed'", (order_id,))
    row = cur.fetchone()
    return Payment(**row) if row else None


def finish(cur, payment_id: str, status: str, reference: str | None, code: str | None, message: str | None,
           attempts: int) -> Payment:
    cur.execute(
        f"UPDATE payments SET status = %s, provider_ref = %s, failure_code = %s, failure_message = %s,"
        f" attempts = attempts + %s, updated_at = now() WHERE id = %s RETURNING {_COLUMNS}",
        (status, reference, code, message, attempts, payment_id),
    )
    return Payment(**cur.fetchone())


def begin_refund(cur, refund_id: str, payment_id: str, amount: int, reason: str | None) -> None:
    cur.execute("UPDATE payments SET refund_pending_minor = refund_pending_minor + %s, updated_at = now()"
                " WHERE id = %s", (amount, payment_id))
    cur.execute("INSERT INTO refunds (id, payment_id, amount_minor, status, reason) VALUES (%s, %s, %s, 'pending', %s)",
                (refund_id, payment_id, amount, reason))


def find_refund(cur, refund_id: str) -> dict | None:
    cur.execute("SELECT id::text, payment_id::text, amount_minor, status, reason, provider_ref, created_at"
                " FROM refunds WHERE id = %s", (refund_id,))
    return cur.fetchone()


def settle_refund(cur, refund_id: str, succeeded: bool, reference: str | None, status_after) -> tuple[Payment, dict]:
    """Move the refund's amount out of pending: into refunded when it succeeded."""
    cur.execute("UPDATE refunds SET status = %s, provider_ref = %s, updated_at = now() WHERE id = %s"
                " RETURNING payment_id::text, amount_minor",
                ("succeeded" if succeeded else "failed", reference, refund_id))
    refund = cur.fetchone()
    cur.execute(
        f"UPDATE payments SET refund_pending_minor = refund_pending_minor - %(amount)s,"
        f" refunded_minor = refunded_minor + %(done)s, updated_at = now() WHERE id = %(id)s RETURNING {_COLUMNS}",
        {"amount": refund["amount_minor"], "done": refund["amount_minor"] if succeeded else 0, "id": refund["payment_id"]},
    )
    payment = Payment(**cur.fetchone())
    new_status = status_after(payment.amount_minor, payment.refunded_minor)
    if new_status != payment.status:
        cur.execute(f"UPDATE payments SET status = %s WHERE id = %s RETURNING {_COLUMNS}", (new_status, payment.id))
        payment = Payment(**cur.fetchone())
    return payment, find_refund(cur, refund_id)


def cached(payment_id: str) -> dict | None:
    return cache.get_json(cache_key(payment_id))


def remember(payment: Payment, ttl_seconds: int) -> None:
    cache.set_json(cache_key(payment.id), payment.to_public(), ttl_seconds)
