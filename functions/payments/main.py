"""Payment function targets: the order's owner pays it; admins refund; owner or admin reads."""
import functions_framework

from fnkit import idempotency
from fnkit.auth import ADMIN, principal_from
from fnkit.http import endpoint, json_body, json_response
from fnkit.ids import uuid_param
from fnkit.validation import validate

from payments import refunds, service
from payments.cards import PAY_SCHEMA
from payments.ledger import REFUND_SCHEMA


@functions_framework.http
@endpoint("POST /api/payments")
def payments_create(request):
    principal = principal_from(request.headers.get("Authorization"))
    key = idempotency.require_key(request.headers)
    body = validate(PAY_SCHEMA, json_body(request))
    outcome, replayed = service.pay(principal.user_id, key, body, request.path)
    headers = {"Location": f"/api/payments/{outcome.body['id']}"} if outcome.status == 201 else {}
    return idempotency.response(outcome, replayed, headers)


@functions_framework.http
@endpoint("GET /api/payments/{payment_id}")
def payments_get(request, payment_id):
    principal = principal_from(request.headers.get("Authorization"))
    payment, hit = service.get_payment(principal, uuid_param("payment_id", payment_id))
    return json_response(payment, headers={"X-Cache": "hit" if hit else "miss"})


@functions_framework.http
@endpoint("POST /api/payments/{payment_id}/refund")
def payments_refund(request, payment_id):
    principal = principal_from(request.headers.get("Authorization"))
    principal.require_role(ADMIN)
    uuid_param("payment_id", payment_id)
    key = idempotency.require_key(request.headers)
    body = validate(REFUND_SCHEMA, json_body(request)) if request.content_length else {}
    outcome, replayed = refunds.refund(principal.user_id, payment_id, key, body, request.path)
    return idempotency.response(outcome, replayed)
