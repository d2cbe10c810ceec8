"""Users function targets: one Knative Service each, selected by FUNCTION_TARGET.

Every target needs an access token; /api/users/me... act on the token's own user only, and
GET /api/users/{user_id} is for admins. (Gateway: route /api/users/me and /api/users/me/...
before /api/users/{user_id}.)
"""
import functions_framework

from fnkit.auth import ADMIN, principal_from
from fnkit.errors import unauthorized
from fnkit.http import endpoint, json_body, json_response
from fnkit.ids import is_uuid, uuid_param
from fnkit.validation import validate

from users import service
from users.profile import ADDRESS_PATCH_SCHEMA, NEW_ADDRESS_SCHEMA, PROFILE_PATCH_SCHEMA


def _me(request) -> str:
    user_id = principal_from(request.headers.get("Authorization")).user_id
    if not is_uuid(user_id):  # signed by our issuer, yet no user's id: not a token for this API
        raise unauthorized("invalid token: its subject is not a user id")
    return user_id


def _address_id(address_id: str) -> str:
    return uuid_param("address_id", address_id)


@functions_framework.http
@endpoint("GET /api/users/me")
def users_me_get(request):
    return json_response(service.get_profile(_me(request)))


@functions_framework.http
@endpoint("PATCH /api/users/me")
def users_me_update(request):
    user_id = _me(request)
    return json_response(service.update_profile(user_id, validate(PROFILE_PATCH_SCHEMA, json_body(request))))


@functions_framework.http
@endpoint("GET /api/users/me/addresses")
def users_addresses_list(request):
    return json_response({"items": service.list_addresses(_me(request))})


@functions_framework.http
@endpoint("POST /api/users/me/addresses")
def users_addresses_create(request):
    user_id = _me(request)
    address = service.create_address(user_id, validate(NEW_ADDRESS_SCHEMA, json_body(request)))
    return json_response(address, 201, headers={"Location": f"/api/users/me/addresses/{address['id']}"})


@functions_framework.http
@endpoint("PATCH /api/users/me/addresses/{address_id}")
def users_addresses_update(request, address_id):
    user_id = _me(request)
    address_id = _address_id(address_id)
    return json_response(service.update_address(user_id, address_id, validate(ADDRESS_PATCH_SCHEMA, json_body(request))))


@functions_framework.http
@endpoint("DELETE /api/users/me/addresses/{address_id}")
def users_addresses_delete(request, address_id):
    user_id = _me(request)
    service.delete_address(user_id, _address_id(address_id))
    return "", 204


@functions_framework.http
@endpoint("GET /api/users/{user_id}")
def users_get(request, user_id):
    principal_from(request.headers.get("Authorization")).require_role(ADMIN)
    return json_response(service.get_user(uuid_param("user_id", user_id)))
