"""Inventory function targets. The /internal/ ones are cluster-local (orders calls them; the
schedule calls the expiry sweep); stock is read by anyone and set by admins; the consumer of
order events commits or releases reservations."""
import functions_framework

from fnkit.auth import ADMIN, principal_from
from fnkit.consumer import consumer
from fnkit.errors import FieldError, invalid
from fnkit.http import endpoint, json_body, json_response
from fnkit.ids import uuid_param
from fnkit.validation import validate

from inventory import service
from inventory.stock import RELEASE_SCHEMA, RESERVE_SCHEMA, SET_STOCK_SCHEMA, lines_of


@functions_framework.http
@endpoint("GET /api/inventory/{product_id}")
def inventory_get(request, product_id):
    return json_response(service.stock_of(uuid_param("product_id", product_id)))


@functions_framework.http
@endpoint("PUT /api/inventory/{product_id}")
def inventory_set(request, product_id):
    principal_from(request.headers.get("Authorization")).require_role(ADMIN)
    uuid_param("product_id", product_id)
    body = validate(SET_STOCK_SCHEMA, json_body(request))
    return json_response(service.set_stock(product_id, body["available"]))


@functions_framework.http
@endpoint("POST /internal/inventory/reservations")
def inventory_reserve(request):
    body = validate(RESERVE_SCHEMA, json_body(request))
    order_id = uuid_param("order_id", body["order_id"].lower())
    try:
        lines = lines_of(body["lines"])
    except ValueError as exc:
        raise invalid([FieldError("lines", str(exc))]) from None
    reservation, created = service.reserve(order_id, lines)
    return json_response(reservation, 201 if created else 200)


@functions_framework.http
@endpoint("POST /internal/inventory/reservations/{order_id}/commit")
def inventory_commit(request, order_id):
    return json_response(service.commit(uuid_param("order_id", order_id)))


@functions_framework.http
@endpoint("POST /internal/inventory/reservations/{order_id}/release")
def inventory_release(request, order_id):
    body = validate(RELEASE_SCHEMA, json_body(request)) if request.content_length else {}
    return json_response(service.release(uuid_param("order_id", order_id), body.get("reason", "cancelled")))


@functions_framework.http
@endpoint("POST /internal/inventory/reservations/expire")
def inventory_expire_reservations(request):
    """Called by a schedule (a Knative PingSource posts a CloudEvent; its body is ignored)."""
    return json_response({"released": service.expire_reservations()})


@functions_framework.cloud_event
@consumer("com.fnshop.order.paid", "com.fnshop.order.cancelled")
def inventory_apply_order(cur, event):
    """Fed by KafkaSource inventory-apply-order (topic orders): a paid order's held units leave
    stock for good, a cancelled order's go back. Both are idempotent per order id."""
    if event.type == "com.fnshop.order.paid":
        service.commit_reservation(cur, event.data["order_id"])
    else:
        service.release_reservation(cur, event.data["order_id"], "cancelled")
