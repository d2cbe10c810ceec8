"""Product function targets: one Knative Service each, selected by FUNCTION_TARGET."""
import functions_framework

from fnkit.auth import ADMIN, principal_from
from fnkit.errors import FieldError, Problem, invalid
from fnkit.http import endpoint, json_body, json_response
from fnkit.ids import uuid_param
from fnkit.query import query_bool, query_int, query_str
from fnkit.validation import validate

from products import service
from products.catalog import (DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_PRICE_MINOR, NEW_PRODUCT_SCHEMA, PRODUCT_CHANGES_SCHEMA, ListQuery,
                              etag, parse_if_match)


@functions_framework.http
@endpoint("GET /api/products")
def products_list(request):
    page = service.list_products(ListQuery(
        limit=query_int(request, "limit", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE),
        sort=query_str(request, "sort", max_length=20),
        cursor=query_str(request, "cursor", max_length=300),
        category=query_str(request, "category", max_length=50),
        text=query_str(request, "q", max_length=200),
        min_price=query_int(request, "min_price", None, minimum=0, maximum=MAX_PRICE_MINOR),
        max_price=query_int(request, "max_price", None, minimum=0, maximum=MAX_PRICE_MINOR),
        in_stock=query_bool(request, "in_stock", False),
    ))
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


@functions_framework.http
@endpoint("GET /api/products/{product_id}")
def products_get(request, product_id):
    product, from_cache = service.get_product(_checked_id(product_id))
    return json_response(product, headers={"X-Cache": "hit" if from_cache else "miss", "ETag": etag(product["version"])})


@functions_framework.http
@endpoint("POST /api/products")
def products_create(request):
    principal_from(request.headers.get("Authorization")).require_role(ADMIN)
    product = service.create_product(validate(NEW_PRODUCT_SCHEMA, json_body(request)))
    return json_response(product, 201, headers={"Location": f"/api/products/{product['id']}", "ETag": etag(product["version"])})


@functions_framework.http
@endpoint("PATCH /api/products/{product_id}")
def products_update(request, product_id):
    principal_from(request.headers.get("Authorization")).require_role(ADMIN)
    product_id = _checked_id(product_id)
    expected = _expected_version(request)
    if expected is None:
        raise Problem(428, "Precondition required", "send If-Match with the ETag of the product you are changing")
    product = service.update_product(product_id, expected, validate(PRODUCT_CHANGES_SCHEMA, json_body(request)))
    return json_response(product, headers={"ETag": etag(product["version"])})


@functions_framework.http
@endpoint("DELETE /api/products/{product_id}")
def products_delete(request, product_id):
    principal_from(request.headers.get("Authorization")).require_role(ADMIN)
    service.delete_product(_checked_id(product_id), _expected_version(request))
    return "", 204


def _checked_id(product_id: str) -> str:
    return uuid_param("product_id", product_id)


def _expected_version(request) -> int | None:
    try:
        return parse_if_match(request.headers.get("If-Match"))
    except ValueError as exc:
        raise invalid([FieldError("If-Match", str(exc))]) from None
