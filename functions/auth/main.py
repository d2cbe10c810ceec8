"""Auth function targets: one Knative Service each, selected by FUNCTION_TARGET.

Public: register, login, refresh and the JWKS; logout needs the access token it ends.
Admins are not made over HTTP: see `python -m auth.admin`.
"""
import functions_framework

from fnkit.auth import principal_from
from fnkit.config import env_int
from fnkit.http import endpoint, json_body, json_response
from fnkit.validation import validate

from auth import keys, service
from auth.rules import LOGIN_SCHEMA, REGISTER_SCHEMA
from auth.sessions import REFRESH_SCHEMA, client_address

# Tokens must not be kept by browsers or shared caches (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@functions_framework.http
@endpoint("POST /api/auth/register")
def auth_register(request):
    return json_response(service.register(validate(REGISTER_SCHEMA, json_body(request))), 201)


@functions_framework.http
@endpoint("POST /api/auth/login")
def auth_login(request):
    address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                             env_int("AUTH_TRUSTED_PROXY_HOPS"))
    return json_response(service.login(validate(LOGIN_SCHEMA, json_body(request)), address), headers=NO_STORE)


@functions_framework.http
@endpoint("POST /api/auth/refresh")
def auth_refresh(request):
    return json_response(service.refresh(validate(REFRESH_SCHEMA, json_body(request))), headers=NO_STORE)


@functions_framework.http
@endpoint("POST /api/auth/logout")
def auth_logout(request):
    authorization = request.headers.get("Authorization")
    principal = principal_from(authorization)  # verified here: signature, claims, deny list
    service.logout(principal, authorization.split(" ", 1)[1].strip())
    return "", 204


@functions_framework.http
@endpoint("GET /.well-known/jwks.json")
def auth_jwks(request):
    # Verifiers cache keys for minutes and refetch on an unknown kid, so rotation needs no purge.
    return json_response(keys.jwks(), headers={"Cache-Control": "public, max-age=300"})
