"""Order operations after placing (see `placing`): reading, cancelling, and the payment
transitions driven by events. Status changes lock the order row and ask `lifecycle`."""
from __future__ import annotations

from fnkit import db, logs, outbox
from fnkit.auth import Principal
from fnkit.errors import FieldError, conflict, invalid, not_found
from fnkit.events import Event

from . import inventory_client as inventory
from . import store
from .lifecycle import IllegalTransition, Status, move
from .pricing import Cursor, Order

TOPIC = "orders"
log = logs.get(__name__)


def get_order(principal: Principal, order_id: str) -> dict:
    with db.transaction() as cur:
        order = store.find(cur, order_id)
    if order is None:
        raise not_found(f"no order with id {order_id}")
    principal.require_self_or_admin(order.user_id)
    return order.to_public()


def list_orders(user_id: str, limit: int, cursor: str | None) -> dict:
    try:
        after = Cursor.decode(cursor) if cursor else None
    except ValueError:
        raise invalid([FieldError("cursor", "is not a cursor returned by this endpoint")]) from None
    with db.transaction() as cur:
        orders = store.page(cur, user_id, after, limit + 1)  # one extra row: is there a next page?
    more = len(orders) > limit
    orders = orders[:limit]
    last = orders[-1] if more else None
    return {"items": [order.to_public() for order in orders],
            "next_cursor": Cursor(last.created_at, last.id).encode() if last else None}


def cancel_order(principal: Principal, order_id: str) -> dict:
    """pending -> cancelled, then the reservation is released. Cancelling again is a no-op that
    retries the release; a paid order (or one being paid) is refunded instead, not cancelled."""
    with db.transaction() as cur:
        order = _locked(cur, order_id)
        principal.require_self_or_admin(order.user_id)
        if order.status != Status.CANCELLED:
            if store.has_live_payment(cur, order_id):
                raise conflict(f"order {order_id} has a payment in progress or captured; refund it instead",
                               order_status=order.status)
            _move(order, Status.CANCELLED)
            order = store.set_status(cur, order_id, Status.CANCELLED.value)
            reason = "cancelled_by_customer" if principal.user_id == order.user_id else "cancelled_by_admin"
            outbox.enqueue(cur, TOPIC, Event("com.fnshop.order.cancelled", order_id, {
                **_brief(order), "reason": reason, "cancelled_at": order.updated_at.isoformat()}))
    inventory.release_quietly(order_id, "cancelled")
    return order.to_public()


def mark_paid(order_id: str, payment_id: str) -> dict:
    """pending -> paid for a succeeded payment, then the reservation is committed.

    Idempotent (for the Kafka consumer of com.fnshop.payment.succeeded, which may redeliver):
    an order already paid by this payment only retries the commit. Raises a 409 Problem when
    the order was cancelled or paid by another payment (the payment must then be refunded),
    and inventory_client errors when the commit could not be made (retry the event)."""
    with db.transaction() as cur:
        order = pay_order(cur, order_id, payment_id)
    inventory.commit(order_id)
    return order.to_public()


def pay_order(cur, order_id: str, payment_id: str) -> Order:
    """The database half of mark_paid, in the caller's transaction: the Kafka consumer claims the
    event in the same one, and leaves the stock commit to the inventory consumer of order.paid."""
    order = _locked(cur, order_id)
    if order.payment_id is not None and order.status != Status.PENDING:
        if order.payment_id != payment_id:
            raise conflict(f"order {order_id} was already paid by payment {order.payment_id}",
                           payment_id=order.payment_id)
        return order
    _move(order, Status.PAID)
    order = store.set_status(cur, order_id, Status.PAID.value, payment_id)
    outbox.enqueue(cur, TOPIC, Event("com.fnshop.order.paid", order_id, {
        **_brief(order), "lines": [{"product_id": line.product_id, "quantity": line.quantity} for line in order.lines],
        "payment_id": payment_id, "paid_at": order.updated_at.isoformat()}))
    return order


def cancel_overdue(limit: int) -> list[str]:
    """Cancel pending orders past their payment deadline (the scheduled orders_cancel_overdue);
    returns their ids. An order with a payment in flight is left for the next run. The
    inventory consumer of com.fnshop.order.cancelled releases each reservation."""
    with db.transaction() as cur:
        candidates = store.overdue_ids(cur, limit)
    cancelled = []
    for order_id in candidates:
        with db.transaction() as cur:  # one order per transaction: a failure spoils only itself
            order = _locked(cur, order_id)
            if order.status != Status.PENDING or not store.is_overdue(cur, order_id) \
                    or store.has_live_payment(cur, order_id):
                continue
            order = store.set_status(cur, order_id, Status.CANCELLED.value)
            outbox.enqueue(cur, TOPIC, Event("com.fnshop.order.cancelled", order_id, {
                **_brief(order), "reason": "payment_overdue", "cancelled_at": order.updated_at.isoformat()}))
        cancelled.append(order_id)
    return cancelled


def _locked(cur, order_id: str) -> Order:
    order = store.find(cur, order_id, lock=True)
    if order is None:
        raise not_found(f"no order with id {order_id}")
    return order


def _move(order: Order, target: Status) -> None:
    try:
        move(order.status, target)
    except IllegalTransition as exc:
        raise conflict(str(exc), order_status=order.status) from None


def _brief(order: Order) -> dict:
    return {"order_id": order.id, "user_id": order.user_id, "total": order.to_public()["total"]}
