"""Placing an order (POST /api/orders), exactly once per Idempotency-Key:

1. claim the key (a concurrent twin waits, then replays this outcome);
2. read the caller's cart (Redis) and re-price every line from the catalog (PostgreSQL);
3. reserve all lines at the inventory function over HTTP (all or nothing, keyed by order id);
4. in one transaction: the order, its lines, com.fnshop.order.created in the outbox and the
   key's stored outcome;
5. take the ordered lines out of the cart.

A failure after step 3 releases the reservation, so a refused or failed attempt leaves no
order row and holds no stock.
"""
from __future__ import annotations

from fnkit import db, idempotency, logs, outbox
from fnkit.config import env_int
from fnkit.errors import FieldError, Problem
from fnkit.events import Event

from cart import store as carts
from products import store as products

from . import inventory_client as inventory
from . import store
from .pricing import PricingError, price_lines

TOPIC = "orders"
SCOPE = "orders.create"
log = logs.get(__name__)


def place_order(user_id: str, key: str, body: dict, instance: str) -> tuple[idempotency.Outcome, bool]:
    """(outcome, replayed). Raises the Problem of a refusal, replayed or not."""
    claim = idempotency.claim(SCOPE, user_id, key, idempotency.fingerprint("POST /api/orders", body))
    if claim.replayed:
        return claim.stored, True
    return idempotency.run(claim, lambda owned: _place(owned, user_id, body), instance), False


def _place(claim: idempotency.Claim, user_id: str, body: dict) -> idempotency.Outcome:
    order_id = claim.resource_id  # the same on a takeover, so the reservation is reused, not doubled
    with carts.redis_required():
        cart = carts.read(user_id)
    wanted = [(line.product_id, line.quantity) for line in cart.lines]
    with db.transaction() as cur:
        catalog = {product.id: product.to_public() for product in
                   (products.find(cur, product_id) for product_id, _ in wanted) if product is not None}
    try:
        currency, lines = price_lines(wanted, catalog)
    except PricingError as exc:
        raise Problem(422, "Unprocessable request", str(exc), slug="cart-not-orderable",
                      errors=[FieldError("cart", str(exc))], extensions={"unavailable_products": exc.unavailable}) from None
    _reserve(order_id, lines)
    try:
        with db.transaction() as cur:
            order = store.insert(cur, order_id, user_id, currency, lines, body["shipping_address"],
                                 env_int("ORDER_PAYMENT_DEADLINE_SECONDS"))
            outbox.enqueue(cur, TOPIC, Event("com.fnshop.order.created", order_id, order.event_data()))
            outcome = idempotency.Outcome(201, order.to_public())
            idempotency.complete(cur, claim, outcome)
    except idempotency.TakenOver:
        raise  # a retry owns the key and this order id now: its reservation must stay
    except BaseException:
        inventory.release_quietly(order_id, "order_failed")
        raise
    try:
        carts.take(user_id, {line.product_id: line.quantity for line in lines})
    except Exception as exc:  # the order stands; the shopper can empty the cart themselves
        log.warning("cart not cleared after order", extra={"order_id": order_id, "error": str(exc)})
    return outcome


def _reserve(order_id: str, lines) -> None:
    try:
        inventory.reserve(order_id, lines)
    except inventory.OutOfStock as exc:
        raise Problem(409, "Insufficient stock", "some lines cannot be covered by available stock; nothing was "
                      "reserved", slug="insufficient-stock", extensions={"shortages": exc.shortages}) from None
    except inventory.Refused as exc:
        raise Problem(409, "Conflict", f"inventory refused the reservation: {exc.detail}") from None
    except inventory.Unavailable:
        inventory.release_quietly(order_id, "order_failed")  # it may have reserved before failing
        raise Problem(503, "Service unavailable", "inventory could not be reached; nothing was ordered, retry",
                      headers={"Retry-After": "1"}) from None
