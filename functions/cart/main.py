"""Cart function targets (Redis): only the cart's owner or an admin may read or change it."""
import functions_framework

from fnkit.auth import principal_from
from fnkit.errors import FieldError, invalid
from fnkit.http import endpoint, json_body, json_response
from fnkit.ids import uuid_param
from fnkit.validation import validate

from cart import service
from cart.lines import ADD_ITEM_SCHEMA, SET_QUANTITY_SCHEMA, is_user_id


def _authorize(request, user_id: str) -> None:
    principal = principal_from(request.headers.get("Authorization"))
    if not is_user_id(user_id):
        raise invalid([FieldError("user_id", "is not a user id")])
    principal.require_self_or_admin(user_id)


@functions_framework.http
@endpoint("GET /api/cart/{user_id}")
def cart_get(request, user_id):
    _authorize(request, user_id)
    return json_response(service.view(user_id))


@functions_framework.http
@endpoint("POST /api/cart/{user_id}/items")
def cart_add_item(request, user_id):
    _authorize(request, user_id)
    body = validate(ADD_ITEM_SCHEMA, json_body(request))
    uuid_param("product_id", body["product_id"])
    return json_response(service.add_item(user_id, body["product_id"], body["quantity"]))


@functions_framework.http
@endpoint("PATCH /api/cart/{user_id}/items/{product_id}")
def cart_update_item(request, user_id, product_id):
    _authorize(request, user_id)
    uuid_param("product_id", product_id)
    body = validate(SET_QUANTITY_SCHEMA, json_body(request))
    return json_response(service.set_quantity(user_id, product_id, body["quantity"]))


@functions_framework.http
@endpoint("DELETE /api/cart/{user_id}/items/{product_id}")
def cart_remove_item(request, user_id, product_id):
    _authorize(request, user_id)
    uuid_param("product_id", product_id)
    return json_response(service.remove_item(user_id, product_id))


@functions_framework.http
@endpoint("DELETE /api/cart/{user_id}")
def cart_clear(request, user_id):
    _authorize(request, user_id)
    service.clear(user_id)
    return "", 204
