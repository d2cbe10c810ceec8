"""Product function targets: one Knative Service each, selected by FUNCTION_TARGET."""
import functions_framework

from fnkit.auth import ADMIN, principal_from
from fnkit.errors import FieldError, invalid
from fnkit.http import endpoint, json_body, json_response
from fnkit.query import query_int, query_str
from fnkit.validation import validate

from products import service
from products.catalog import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, NEW_PRODUCT_SCHEMA, is_product_id


@functions_framework.http
@endpoint("GET /api/products")
def products_list(request):
    page = service.list_products(
        limit=query_int(request, "limit", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE),
        cursor=query_str(request, "cursor", max_length=200),
        category=query_str(request, "category", max_length=50),
    )
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


@functions_framework.http
@endpoint("GET /api/products/{product_id}")
def products_get(request, product_id):
    if not is_product_id(product_id):
        raise invalid([FieldError("product_id", "must be a UUID")])
    product, from_cache = service.get_product(product_id)
    return json_response(product, headers={"X-Cache": "hit" if from_cache else "miss", "ETag": f'"{product["version"]}"'})


@functions_framework.http
@endpoint("POST /api/products")
def products_create(request):
    principal_from(request.headers.get("Authorization")).require_role(ADMIN)
    product = service.create_product(validate(NEW_PRODUCT_SCHEMA, json_body(request)))
    return json_response(product, 201, headers={"Location": f"/api/products/{product['id']}"})
