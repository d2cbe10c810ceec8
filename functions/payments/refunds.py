"""Refunds (admin): full or partial, never more than was captured, once per Idempotency-Key.

The amount is set aside (`refund_pending_minor`) under a lock on the payment row before the
provider is called, and the database CHECK keeps refunded + pending <= captured, so concurrent
refunds cannot together exceed the charge."""
from __future__ import annotations

from fnkit import db, idempotency, outbox
from fnkit.config import env_int
from fnkit.errors import FieldError, Problem, not_found
from fnkit.events import Event

from . import ledger, store
from .provider import TransientError, provider, with_retries

TOPIC = "payments"
SCOPE = "payments.refund"


def refund(admin_id: str, payment_id: str, key: str, body: dict, instance: str) -> tuple[idempotency.Outcome, bool]:
    claim = idempotency.claim(SCOPE, admin_id, key, idempotency.fingerprint("POST", instance, body))
    if claim.replayed:
        return claim.stored, True
    return idempotency.run(claim, lambda owned: _refund(owned, payment_id, body), instance,
                           keep_on_crash=True), False


def _refund(claim: idempotency.Claim, payment_id: str, body: dict) -> idempotency.Outcome:
    refund_id = claim.resource_id
    with db.transaction() as cur:
        payment = store.find(cur, payment_id, lock=True)
        if payment is None:
            raise not_found(f"no payment with id {payment_id}")
        pending = store.find_refund(cur, refund_id)  # set when a takeover continues an interrupted refund
        if pending is None:
            try:
                amount = ledger.refund_amount(body.get("amount"), payment.status, payment.amount_minor,
                                              payment.refunded_minor, payment.refund_pending_minor)
            except ledger.RefundRefused as exc:
                errors = [FieldError(exc.field, str(exc))] if exc.field else []
                raise Problem(exc.status, "Refund refused", str(exc), slug="refund-refused", errors=errors,
                              extensions={"refundable": _left(payment)}) from None
            store.begin_refund(cur, refund_id, payment_id, amount, body.get("reason"))
        else:
            amount = pending["amount_minor"]
    try:
        result, _ = with_retries(lambda: provider().refund(refund_id, payment.provider_ref, amount))
    except TransientError:
        result = None
    with db.transaction() as cur:
        ok = bool(result and result.ok)
        payment, refund_row = store.settle_refund(cur, refund_id, ok, result.reference if result else None,
                                                  ledger.status_after_refunds)
        if ok:
            public = _public(refund_row, payment)
            outbox.enqueue(cur, TOPIC, Event("com.fnshop.payment.refunded", payment_id, {
                "payment_id": payment_id, "order_id": payment.order_id, "user_id": payment.user_id, "refund_id": refund_id,
                "amount": public["amount"], "refunded_total": public["refunded_total"],
                "fully_refunded": payment.status == ledger.REFUNDED, "refunded_at": payment.updated_at.isoformat()}))
            outcome = idempotency.Outcome(201, public)
            idempotency.complete(cur, claim, outcome)
    store.remember(payment, env_int("PAYMENT_CACHE_TTL_SECONDS"))
    if not ok:
        raise Problem(502, "Bad gateway", "the payment provider did not refund; nothing was refunded, retry",
                      headers={"Retry-After": "2"})
    return outcome


def _left(payment: store.Payment) -> dict:
    return {"amount": max(payment.amount_minor - payment.refunded_minor - payment.refund_pending_minor, 0),
            "currency": payment.currency}


def _public(refund_row: dict, payment: store.Payment) -> dict:
    money = lambda amount: {"amount": amount, "currency": payment.currency}  # noqa: E731
    return {"id": refund_row["id"], "payment_id": payment.id, "order_id": payment.order_id, "status": refund_row["status"],
            "amount": money(refund_row["amount_minor"]), "reason": refund_row["reason"],
            "refunded_total": money(payment.refunded_minor), "payment_status": payment.status,
            "created_at": refund_row["created_at"].isoformat()}
