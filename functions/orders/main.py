"""Order function targets: the caller's own orders (admins may read and cancel any), the
consumer of payment events and the scheduled cancellation of unpaid orders."""
import functions_framework

from fnkit import idempotency
from fnkit.auth import principal_from
from fnkit.config import env_int
from fnkit.consumer import consumer
from fnkit.http import endpoint, json_body, json_response
from fnkit.ids import uuid_param
from fnkit.query import query_int, query_str
from fnkit.validation import validate

from orders import placing, service
from orders.pricing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PLACE_ORDER_SCHEMA


@functions_framework.http
@endpoint("POST /api/orders")
def orders_create(request):
    principal = principal_from(request.headers.get("Authorization"))
    key = idempotency.require_key(request.headers)
    body = validate(PLACE_ORDER_SCHEMA, json_body(request))
    outcome, replayed = placing.place_order(principal.user_id, key, body, request.path)
    headers = {"Location": f"/api/orders/{outcome.body['id']}"} if outcome.status == 201 else {}
    return idempotency.response(outcome, replayed, headers)


@functions_framework.http
@endpoint("GET /api/orders/{order_id}")
def orders_get(request, order_id):
    principal = principal_from(request.headers.get("Authorization"))
    return json_response(service.get_order(principal, uuid_param("order_id", order_id)))


@functions_framework.http
@endpoint("GET /api/orders")
def orders_list(request):
    principal = principal_from(request.headers.get("Authorization"))
    return json_response(service.list_orders(
        principal.user_id,
        limit=query_int(request, "limit", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE),
        cursor=query_str(request, "cursor", max_length=200),
    ))


@functions_framework.http
@endpoint("POST /api/orders/{order_id}/cancel")
def orders_cancel(request, order_id):
    principal = principal_from(request.headers.get("Authorization"))
    return json_response(service.cancel_order(principal, uuid_param("order_id", order_id)))


@functions_framework.cloud_event
@consumer("com.fnshop.payment.succeeded")
def orders_apply_payment(cur, event):
    """Fed by KafkaSource orders-apply-payment (topic payments). payment.failed needs nothing:
    the order stays pending and payable until orders_cancel_overdue cancels it."""
    service.pay_order(cur, event.data["order_id"], event.data["payment_id"])


@functions_framework.http
@endpoint("POST /internal/orders/cancel-overdue")
def orders_cancel_overdue(request):
    """Called by a schedule (PingSource orders-cancel-overdue posts a CloudEvent; its body is ignored)."""
    return json_response({"cancelled": len(service.cancel_overdue(env_int("ORDER_OVERDUE_BATCH")))})
