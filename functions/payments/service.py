"""Paying an order (once per Idempotency-Key, at most once successfully per order) and reading
a payment's status (Redis first, PostgreSQL on a miss).

The amount always comes from the order. The payment row is written `processing` before the
provider is called, under a lock on the order row (the same lock cancellation takes), so an
order cannot be cancelled while it is being paid, nor paid twice. The outcome, its event and
the key's stored response are one transaction.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from fnkit import db, idempotency, outbox
from fnkit.auth import Principal
from fnkit.config import env_int
from fnkit.errors import Problem, conflict, forbidden, invalid, not_found
from fnkit.events import Event

from orders import store as orders
from orders.lifecycle import Status as OrderStatus

from . import ledger, store
from .cards import card_errors, masked
from .provider import TransientError, provider, with_retries

TOPIC = "payments"
SCOPE = "payments.create"


def pay(user_id: str, key: str, body: dict, instance: str) -> tuple[idempotency.Outcome, bool]:
    errors = card_errors(body["payment_method"], date.today())
    if errors:
        raise invalid(errors)
    claim = idempotency.claim(SCOPE, user_id, key, idempotency.fingerprint("POST /api/payments", body))
    if claim.replayed:
        return claim.stored, True
    return idempotency.run(claim, lambda owned: _pay(owned, user_id, body), instance,
                           keep_on_crash=True), False


def get_payment(principal: Principal, payment_id: str) -> tuple[dict, bool]:
    """(payment, whether it came from the cache)."""
    payment = store.cached(payment_id)
    hit = payment is not None
    if not hit:
        with db.transaction() as cur:
            found = store.find(cur, payment_id)
        if found is None:
            raise not_found(f"no payment with id {payment_id}")
        store.remember(found, env_int("PAYMENT_CACHE_TTL_SECONDS"))
        payment = found.to_public()
    principal.require_self_or_admin(payment["user_id"])
    return payment, hit


def _pay(claim: idempotency.Claim, user_id: str, body: dict) -> idempotency.Outcome:
    payment_id, order_id, card = claim.resource_id, body["order_id"].lower(), body["payment_method"]
    with db.transaction() as cur:
        order = orders.find(cur, order_id, lock=True)
        if order is None:
            raise not_found(f"no order with id {order_id}")
        if order.user_id != user_id:
            raise forbidden("only the order's owner may pay it")
        if store.find(cur, payment_id) is None:  # else: a takeover continues the interrupted attempt
            _check_payable(cur, order)
            store.insert_processing(cur, payment_id, order_id, user_id, order.total_minor, order.currency, masked(card))
    try:
        result, attempts = with_retries(lambda: provider().charge(payment_id, order.total_minor, order.currency, card))
    except TransientError as exc:
        with db.transaction() as cur:
            payment = store.finish(cur, payment_id, ledger.FAILED, None, "provider_unavailable", str(exc),
                                   env_int("PAYMENT_PROVIDER_MAX_ATTEMPTS"))
            _emit_failed(cur, payment)
        store.remember(payment, env_int("PAYMENT_CACHE_TTL_SECONDS"))
        raise Problem(503, "Service unavailable", "the payment provider is unavailable; nothing was charged, retry",
                      headers={"Retry-After": "2"}, extensions={"payment_id": payment_id}) from None
    with db.transaction() as cur:
        if result.ok:
            payment = store.finish(cur, payment_id, ledger.SUCCEEDED, result.reference, None, None, attempts)
            outbox.enqueue(cur, TOPIC, Event("com.fnshop.payment.succeeded", payment_id, {
                **_brief(payment), "payment_method": {"brand": payment.method["brand"], "last4": payment.method["last4"]},
                "provider_reference": result.reference, "succeeded_at": payment.updated_at.isoformat()}))
            outcome = idempotency.Outcome(201, payment.to_public())
        else:
            payment = store.finish(cur, payment_id, ledger.FAILED, result.reference, result.code, result.message, attempts)
            _emit_failed(cur, payment)
            outcome = idempotency.Outcome(402, Problem(
                402, "Payment declined", result.message, slug="payment-declined",
                extensions={"payment_id": payment_id, "decline_code": result.code}).to_dict("/api/payments"))
        idempotency.complete(cur, claim, outcome)
    store.remember(payment, env_int("PAYMENT_CACHE_TTL_SECONDS"))
    return outcome


def _check_payable(cur, order) -> None:
    if order.status != OrderStatus.PENDING:
        raise conflict(f"order {order.id} is {order.status}; only a pending order can be paid", order_status=order.status)
    if order.pay_by < datetime.now(timezone.utc):
        raise conflict(f"order {order.id} had to be paid by {order.pay_by.isoformat()}", order_status=order.status)
    live = store.live_for_order(cur, order.id)
    if live is not None:
        detail = "is being paid right now" if live.status == ledger.PROCESSING else "is already paid"
        raise conflict(f"order {order.id} {detail}", payment_id=live.id)


def _emit_failed(cur, payment: store.Payment) -> None:
    outbox.enqueue(cur, TOPIC, Event("com.fnshop.payment.failed", payment.id, {
        **_brief(payment), "failure_code": payment.failure_code, "failure_message": payment.failure_message or "",
        "failed_at": payment.updated_at.isoformat()}))


def _brief(payment: store.Payment) -> dict:
    return {"payment_id": payment.id, "order_id": payment.order_id, "user_id": payment.user_id,
            "amount": {"amount": payment.amount_minor, "currency": payment.currency}}
