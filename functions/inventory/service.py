"""Inventory operations, independent of HTTP. Every change of stock happens in one transaction
that first locks the rows it changes (in product-id order), so stock is never oversold or
negative however many reservations run at once; the events go into the same transaction."""
from __future__ import annotations

from fnkit import db, outbox
from fnkit.config import env_int
from fnkit.errors import Problem, conflict, not_found
from fnkit.events import Event

from products import store as products

from . import store
from .stock import Level, Line, became_low, committed, released, reserved, shortages

TOPIC = "inventory"


def stock_of(product_id: str) -> dict:
    with db.transaction() as cur:
        level = store.level(cur, product_id)
        if level is None:
            _require_product(cur, product_id)
            level = Level(product_id, 0, 0)
    return level.to_public()


def set_stock(product_id: str, available: int) -> dict:
    """Set what can be sold; units held by reservations stay held."""
    with db.transaction() as cur:
        _require_product(cur, product_id)
        before = store.lock_levels(cur, [product_id]).get(product_id, Level(product_id, 0, 0))
        after = Level(product_id, available, before.reserved)
        store.save_level(cur, after)
        _note_low(cur, before, after)
    return after.to_public()


def reserve(order_id: str, lines: tuple[Line, ...]) -> tuple[dict, bool]:
    """All lines or none. Idempotent per order id: a repeat returns the existing reservation
    (and False); the same order id with other lines, or after a release, is a 409."""
    with db.transaction() as cur:
        if not store.insert_reservation(cur, order_id, env_int("RESERVATION_TTL_SECONDS")):
            existing = store.find_reservation(cur, order_id)
            if existing.status == "released":
                raise conflict(f"the reservation of order {order_id} was already released", order_id=order_id)
            if existing.lines != lines:
                raise conflict(f"order {order_id} already holds a reservation with other lines", order_id=order_id)
            return existing.to_public(), False
        levels = store.lock_levels(cur, [line.product_id for line in lines])
        short = shortages(lines, levels)
        if short:  # raising rolls the reservation row back: nothing is held
            raise Problem(409, "Insufficient stock", f"{len(short)} line(s) cannot be covered by available stock",
                          slug="insufficient-stock", extensions={"shortages": [s.to_public() for s in short]})
        changes = [(levels[line.product_id], reserved(levels[line.product_id], line.quantity)) for line in lines]
        for _, after in changes:
            store.save_level(cur, after)
        store.insert_lines(cur, order_id, lines)
        reservation = store.find_reservation(cur, order_id)
        outbox.enqueue(cur, TOPIC, Event("com.fnshop.inventory.reserved", order_id, {
            "order_id": order_id, "lines": [line.to_public() for line in lines],
            "expires_at": reservation.expires_at.isoformat()}))
        for before, after in changes:
            _note_low(cur, before, after)
    return reservation.to_public(), True


def commit(order_id: str) -> dict:
    """The order was paid: the held units leave stock for good. Idempotent."""
    with db.transaction() as cur:
        reservation = commit_reservation(cur, order_id)
    return reservation.to_public()


def commit_reservation(cur, order_id: str) -> store.Reservation:
    """commit() in the caller's transaction (the order.paid consumer claims its event in it)."""
    reservation = store.find_reservation(cur, order_id, lock=True)
    if reservation is None:
        raise not_found(f"no reservation for order {order_id}")
    if reservation.status == "released":
        raise conflict(f"the reservation of order {order_id} was released; its stock is no longer held",
                       order_id=order_id)
    if reservation.status == "held":
        levels = store.lock_levels(cur, [line.product_id for line in reservation.lines])
        for line in reservation.lines:
            store.save_level(cur, committed(levels[line.product_id], line.quantity))
        store.set_status(cur, order_id, "committed")
        reservation = store.find_reservation(cur, order_id)
    return reservation


def release(order_id: str, reason: str) -> dict:
    """Give the held units back. Idempotent; releasing an unknown order leaves a tombstone so a
    reservation arriving late (after its caller gave up) cannot hold stock."""
    reservation, _ = _release(order_id, reason, only_if_expired=False)
    return reservation.to_public()


def expire_reservations() -> int:
    """Release held reservations past their deadline; returns how many were released."""
    with db.transaction() as cur:
        order_ids = store.expired_ids(cur, env_int("RESERVATION_EXPIRY_BATCH"))
    return sum(1 for order_id in order_ids if _release(order_id, "expired", only_if_expired=True)[1])


def _release(order_id: str, reason: str, only_if_expired: bool):
    with db.transaction() as cur:
        return release_reservation(cur, order_id, reason, only_if_expired)


def release_reservation(cur, order_id: str, reason: str, only_if_expired: bool = False):
    """(reservation, whether this call released it), in the caller's transaction (the
    order.cancelled consumer claims its event in it)."""
    reservation = store.find_reservation(cur, order_id, lock=True)
    if reservation is None:
        store.tombstone(cur, order_id, reason)
        return store.find_reservation(cur, order_id), False
    if reservation.status == "committed" and not only_if_expired:
        raise conflict(f"the reservation of order {order_id} is committed (paid); it cannot be released",
                       order_id=order_id)
    if reservation.status != "held" or (only_if_expired and not store.is_expired(cur, order_id)):
        return reservation, False
    levels = store.lock_levels(cur, [line.product_id for line in reservation.lines])
    for line in reservation.lines:
        store.save_level(cur, released(levels[line.product_id], line.quantity))
    store.set_status(cur, order_id, "released", reason)
    outbox.enqueue(cur, TOPIC, Event("com.fnshop.inventory.released", order_id, {
        "order_id": order_id, "lines": [line.to_public() for line in reservation.lines], "reason": reason}))
    return store.find_reservation(cur, order_id), True


def _require_product(cur, product_id: str) -> None:
    if products.find(cur, product_id) is None:
        raise not_found(f"no product with id {product_id}")


def _note_low(cur, before: Level, after: Level) -> None:
    threshold = env_int("INVENTORY_LOW_THRESHOLD")
    if became_low(before, after, threshold):
        outbox.enqueue(cur, TOPIC, Event("com.fnshop.inventory.low", after.product_id, {
            **after.to_public(), "threshold": threshold}))
