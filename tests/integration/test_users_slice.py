"""The users function over HTTP against real PostgreSQL and Redis, with tokens issued by the
real auth function: the users targets' JWT_JWKS_URL points at the running auth_jwks process."""
from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization

from auth import keys
from tests.support.openapi import assert_conforms
from tests.support.processes import FUNCTIONS, FunctionProcess

AUTH_TARGETS = ("auth_register", "auth_login", "auth_logout")
USERS_TARGETS = ("users_me_get", "users_me_update", "users_addresses_list", "users_addresses_create",
                 "users_addresses_update", "users_addresses_delete", "users_get")
PASSWORD = "correct horse battery"
ISSUER, AUDIENCE = "https://fnshop.example/auth", "fnshop-api"
ADDRESS = {"recipient": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postal_code": "SW1Y 4JH", "country": "GB"}


def start(target: str, env: dict, folder) -> FunctionProcess:
    # See test_auth_slice.start: FunctionProcess.start leaves its log handle to the collector.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        process = FunctionProcess(target, env, folder).start()
        gc.collect()
    return process


@pytest.fixture(scope="module")
def signing_key():
    return keys.generate("users-it")


@pytest.fixture(scope="module")
def api(function_env, log_dir, signing_key):
    folder = log_dir / "users-slice"
    folder.mkdir(exist_ok=True)
    env = {**function_env, "AUTH_SIGNING_KEYS": keys.to_json([signing_key]), "AUTH_TRUSTED_PROXY_HOPS": "1"}
    jwks = start("auth_jwks", env, folder)
    env["JWT_JWKS_URL"] = f"{jwks.url}/.well-known/jwks.json"
    running = {"auth_jwks": jwks, **{t: start(t, env, folder) for t in AUTH_TARGETS + USERS_TARGETS}}
    yield {target: process.url for target, process in running.items()}
    for process in running.values():
        process.stop()


class Account:
    """A registered, logged-in user: its public account and access token."""

    def __init__(self, api, email: str):
        self.api, self.email = api, email
        registered = assert_conforms(requests.post(f"{api['auth_register']}/api/auth/register",
                                                   json={"email": email, "password": PASSWORD}, timeout=10))
        assert registered.status_code == 201, registered.text
        self.user = registered.json()
        self.id = self.user["id"]
        self.token = self.login()

    def login(self, email: str | None = None, password: str = PASSWORD) -> str:
        address = f"10.9.{random.randint(0, 255)}.{random.randint(1, 254)}"
        response = requests.post(f"{self.api['auth_login']}/api/auth/login", timeout=10, headers={"X-Forwarded-For": address},
                                 json={"email": email or self.email, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def call(self, target: str, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return assert_conforms(requests.request(method, f"{self.api[target]}{path}", headers=headers, timeout=10, **kwargs))

    def me(self):
        return self.call("users_me_get", "GET", "/api/users/me")

    def update(self, body):
        return self.call("users_me_update", "PATCH", "/api/users/me", json=body)

    def addresses(self) -> list[dict]:
        response = self.call("users_addresses_list", "GET", "/api/users/me/addresses")
        assert response.status_code == 200
        return response.json()["items"]

    def add_address(self, **fields):
        return self.call("users_addresses_create", "POST", "/api/users/me/addresses", json={**ADDRESS, **fields})

    def change_address(self, address_id, body):
        return self.call("users_addresses_update", "PATCH", f"/api/users/me/addresses/{address_id}", json=body)

    def delete_address(self, address_id):
        return self.call("users_addresses_delete", "DELETE", f"/api/users/me/addresses/{address_id}")


@pytest.fixture()
def ada(api, unique):
    return Account(api, f"ada-{unique}@example.com")


@pytest.fixture()
def bob(api, unique):
    return Account(api, f"bob-{unique}@example.com")


def test_register_then_login_then_read_me_with_the_token_auth_issued(api, unique):
    account = Account(api, f"  Grace-{unique}@Example.com ")
    me = account.me()
    assert me.status_code == 200, me.text
    assert me.json() == account.user
    assert me.json()["email"] == f"grace-{unique.lower()}@example.com" and "password_hash" not in me.text


def test_profile_changes_name_and_phone_and_clears_them_with_null(ada):
    changed = ada.update({"name": "  Ada Lovelace ", "phone": "+442071234567"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Ada Lovelace" and changed.json()["phone"] == "+442071234567"
    assert ada.me().json() == changed.json()
    cleared = ada.update({"phone": None})
    assert cleared.json()["phone"] is None and cleared.json()["name"] == "Ada Lovelace"


@pytest.mark.parametrize("body, field", [
    ({}, "(body)"),
    ({"name": "x" * 201}, "name"),
    ({"name": "   "}, "name"),
    ({"phone": "030 1234567"}, "phone"),
    ({"roles": ["admin"]}, "roles"),
    ({"email": "new@example.com"}, "current_password"),
    ({"email": "not-an-email", "current_password": PASSWORD}, "email"),
    ({"current_password": PASSWORD}, "current_password"),
])
def test_invalid_profile_changes_name_the_field(ada, body, field):
    response = ada.update(body)
    assert response.status_code == 400, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert ada.me().json() == ada.user


def test_changing_the_email_needs_the_current_password(ada, bob, unique):
    new_email = f"ada.new-{unique}@example.com"
    wrong = ada.update({"email": new_email, "current_password": "not my password"})
    assert wrong.status_code == 403 and wrong.json()["field"] == "current_password"
    taken = ada.update({"email": bob.email.upper(), "current_password": PASSWORD})
    assert taken.status_code == 409 and taken.json()["field"] == "email"
    changed = ada.update({"email": f" {new_email.upper()} ", "current_password": PASSWORD})
    assert changed.status_code == 200 and changed.json()["email"] == new_email.lower()
    assert ada.login(new_email)  # the new email logs in; the old one no longer does
    old = requests.post(f"{ada.api['auth_login']}/api/auth/login", json={"email": ada.email, "password": PASSWORD},
                        timeout=10, headers={"X-Forwarded-For": "10.8.0.1"})
    assert old.status_code == 401


def test_address_book_keeps_exactly_one_default_shipping_address(ada, pg):
    first = ada.add_address(label="home")
    assert first.status_code == 201, first.text
    first = first.json()
    assert first["is_default_shipping"] is True  # a first address becomes the default
    second = ada.add_address(label="office", is_default_shipping=True)
    assert second.headers["Location"] == f"/api/users/me/addresses/{second.json()['id']}"
    second = second.json()
    third = ada.add_address(label="parents").json()
    assert third["is_default_shipping"] is False
    defaults = lambda: [a["id"] for a in ada.addresses() if a["is_default_shipping"]]  # noqa: E731
    assert defaults() == [second["id"]]
    assert [a["id"] for a in ada.addresses()] == [first["id"], second["id"], third["id"]]

    moved = ada.change_address(third["id"], {"is_default_shipping": True, "line2": "Flat 2"})
    assert moved.status_code == 200 and moved.json()["line2"] == "Flat 2"
    assert defaults() == [third["id"]]
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM addresses WHERE user_id = %s AND is_default_shipping", (ada.id,))
        assert cur.fetchone()[0] == 1

    assert ada.delete_address(third["id"]).status_code == 204
    assert third["id"] not in [a["id"] for a in ada.addresses()]
    assert ada.delete_address(third["id"]).status_code == 404
    assert ada.change_address(third["id"], {"city": "Paris"}).status_code == 404


def test_concurrent_default_changes_leave_one_default(ada):
    ids = [ada.add_address(label=f"a{n}").json()["id"] for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda i: ada.change_address(i, {"is_default_shipping": True}).status_code, ids))
    assert statuses == [200] * 6
    assert sum(a["is_default_shipping"] for a in ada.addresses()) == 1


@pytest.mark.parametrize("body, field", [
    ({"recipient": None}, "recipient"),
    ({"country": "Germany"}, "country"),
    ({"postal_code": ""}, "postal_code"),
    ({"city": "   "}, "city"),
    ({"phone": "12345"}, "phone"),
    ({"is_default_shipping": "yes"}, "is_default_shipping"),
    ({"user_id": str(uuid.uuid4())}, "user_id"),
])
def test_invalid_addresses_name_the_field(ada, body, field):
    created = ada.add_address(**body)
    assert created.status_code == 400 and field in [e["field"] for e in created.json()["errors"]], created.text
    address = ada.add_address().json()
    changed = ada.change_address(address["id"], body)
    assert changed.status_code == 400 and field in [e["field"] for e in changed.json()["errors"]]
    assert ada.addresses() == [address]


def test_incomplete_and_empty_address_bodies_are_400(ada):
    missing = ada.call("users_addresses_create", "POST", "/api/users/me/addresses", json={"recipient": "x"})
    assert missing.status_code == 400
    assert {e["field"] for e in missing.json()["errors"]} == {"line1", "city", "postal_code", "country"}
    address = ada.add_address().json()
    assert ada.change_address(address["id"], {}).json()["errors"][0]["field"] == "(body)"


def test_malformed_address_ids_are_400(ada):
    for response in (ada.change_address("not-a-uuid", {"city": "x"}), ada.delete_address("12")):
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "address_id"


def test_an_address_book_is_capped(ada):
    for n in range(20):
        assert ada.add_address(label=f"n{n}").status_code == 201
    over = ada.add_address(label="one too many")
    assert over.status_code == 409 and len(ada.addresses()) == 20


def test_users_never_see_or_change_each_others_data(ada, bob, api):
    address = ada.add_address(label="secret").json()
    assert bob.addresses() == []
    assert bob.me().json()["id"] == bob.id
    assert bob.change_address(address["id"], {"city": "Elsewhere"}).status_code == 404
    assert bob.delete_address(address["id"]).status_code == 404
    assert ada.addresses() == [address]  # unchanged
    peek = bob.call("users_get", "GET", f"/api/users/{ada.id}")
    assert peek.status_code == 403 and peek.json()["title"] == "Forbidden"
    own = bob.call("users_get", "GET", f"/api/users/{bob.id}")
    assert own.status_code == 403  # the admin read is for admins only, even of oneself


def run_admin(stack_env, *args, stdin=""):
    env = {**os.environ, **stack_env, "PYTHONPATH": str(FUNCTIONS)}
    return subprocess.run([sys.executable, "-m", "auth.admin", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60)


def test_admins_read_any_account(api, ada, unique, stack_env):
    email = f"root-{unique}@example.com"
    created = run_admin(stack_env, "create", "--email", email, "--password-stdin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    admin_token = ada.login(email)
    read = ada.call("users_get", "GET", f"/api/users/{ada.id}", token=admin_token)
    assert read.status_code == 200 and read.json() == ada.me().json()
    unknown = ada.call("users_get", "GET", f"/api/users/{uuid.uuid4()}", token=admin_token)
    assert unknown.status_code == 404
    malformed = ada.call("users_get", "GET", "/api/users/not-a-uuid", token=admin_token)
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["field"] == "user_id"


def _b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def test_tokens_that_are_missing_forged_expired_or_for_someone_else_are_401(api, ada, signing_key):
    now = int(time.time())
    claims = {"sub": ada.id, "roles": ["customer"], "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300,
              "jti": str(uuid.uuid4())}
    sign = lambda c, key=signing_key.private_key: jwt.encode(c, key, algorithm="RS256", headers={"kid": "users-it"})  # noqa: E731
    assert ada.call("users_me_get", "GET", "/api/users/me", token=sign(claims)).status_code == 200  # the baseline
    header, body, _ = ada.token.split(".")
    public_pem = signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_header = _b64({"alg": "HS256", "typ": "JWT", "kid": "users-it"})
    hs_signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, f"{hs_header}.{body}".encode(), hashlib.sha256).digest()).decode().rstrip("=")
    bad = {
        "bad signature": f"{header}.{body}.{sign(claims).split('.')[2]}",  # another token's signature
        "signed by another key": sign(claims, keys.generate().private_key),
        "expired": sign({**claims, "iat": now - 600, "exp": now - 300}),
        "wrong audience": sign({**claims, "aud": "another-api"}),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'users-it'})}.{body}.",
        "HS256 keyed with the public key": f"{hs_header}.{body}.{hs_signature}",
    }
    for name, token in bad.items():
        response = ada.call("users_me_get", "GET", "/api/users/me", token=token)
        assert response.status_code == 401, name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
    for target, method, path in (("users_me_get", "GET", "/api/users/me"),
                                 ("users_addresses_list", "GET", "/api/users/me/addresses"),
                                 ("users_get", "GET", f"/api/users/{ada.id}")):
        response = assert_conforms(requests.request(method, f"{api[target]}{path}", timeout=5))
        assert response.status_code == 401, target


def test_a_logged_out_access_token_is_refused_by_the_users_function(ada):
    assert ada.me().status_code == 200
    logout = requests.post(f"{ada.api['auth_logout']}/api/auth/logout",
                           headers={"Authorization": f"Bearer {ada.token}"}, timeout=10)
    assert logout.status_code == 204
    refused = ada.me()
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert ada.call("users_me_get", "GET", "/api/users/me", token=ada.login()).status_code == 200
