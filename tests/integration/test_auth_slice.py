"""The auth function over HTTP against real PostgreSQL and Redis: every target runs as its own
process, signing with keys given only through AUTH_SIGNING_KEYS, and the functions that verify
tokens (logout here) fetch the JWKS from the real auth_jwks process."""
from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
import warnings

import jwt
import pytest
import requests

from auth import keys
from tests.support.openapi import assert_conforms
from tests.support.processes import FUNCTIONS, FunctionProcess

TARGETS = ("auth_register", "auth_login", "auth_refresh", "auth_logout")
MAX_PER_ACCOUNT, MAX_PER_ADDRESS, WINDOW = 4, 8, 120
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def key_set():
    return [keys.generate("it-current"), keys.generate("it-previous")]


def start(target: str, env: dict, folder) -> FunctionProcess:
    # FunctionProcess.start leaves its log file handle to the garbage collector, whose
    # ResourceWarning the suite turns into an error; ignored here until the helper closes it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        process = FunctionProcess(target, env, folder).start()
        gc.collect()  # the handle sits in a reference cycle (a caught exception's frames)
    return process


@pytest.fixture(scope="module")
def auth(function_env, log_dir, key_set):
    folder = log_dir / "auth-slice"
    folder.mkdir(exist_ok=True)
    env = {**function_env, "AUTH_SIGNING_KEYS": keys.to_json(key_set), "AUTH_TRUSTED_PROXY_HOPS": "1",
           "AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT": str(MAX_PER_ACCOUNT),
           "AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS": str(MAX_PER_ADDRESS),
           "AUTH_LOGIN_FAILURE_WINDOW_SECONDS": str(WINDOW)}
    jwks = start("auth_jwks", env, folder)
    env["JWT_JWKS_URL"] = f"{jwks.url}/.well-known/jwks.json"
    running = {"auth_jwks": jwks, **{t: start(t, env, folder) for t in TARGETS}}
    yield {target: process.url for target, process in running.items()} | {"logs": folder}
    for process in running.values():
        process.stop()


def client_address() -> str:
    """A fresh client address per call (sent as X-Forwarded-For, trusted with one proxy hop)."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def register(auth, email, password=PASSWORD):
    return assert_conforms(requests.post(f"{auth['auth_register']}/api/auth/register",
                                         json={"email": email, "password": password}, timeout=10))


def login(auth, email, password=PASSWORD, address=None):
    return assert_conforms(requests.post(f"{auth['auth_login']}/api/auth/login", json={"email": email, "password": password},
                                         headers={"X-Forwarded-For": address or client_address()}, timeout=10))


def refresh(auth, token):
    return assert_conforms(requests.post(f"{auth['auth_refresh']}/api/auth/refresh", json={"refresh_token": token},
                                         timeout=10))


def logout(auth, access_token):
    return assert_conforms(requests.post(f"{auth['auth_logout']}/api/auth/logout",
                                         headers={"Authorization": f"Bearer {access_token}"}, timeout=10))


def email_of(unique: str, tag: str = "ada") -> str:
    return f"{tag}-{unique}@Example.COM"  # upper-case on purpose: stored lower-case


def test_register_normalises_the_email_and_stores_only_an_argon2id_hash(auth, unique, pg):
    response = register(auth, f"  {email_of(unique)} ")
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["email"] == email_of(unique).lower() and user["roles"] == ["customer"]
    assert not {"password", "password_hash"} & set(user) and PASSWORD not in response.text
    with pg.cursor() as cur:
        cur.execute("SELECT password_hash FROM users WHERE id = %s", (user["id"],))
        (stored,) = cur.fetchone()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_taken_email_is_a_conflict_whatever_its_case(auth, unique):
    assert register(auth, email_of(unique)).status_code == 201
    again = register(auth, email_of(unique).upper(), "another long password")
    assert again.status_code == 409 and again.json()["field"] == "email"
    assert again.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("body, field", [
    ({"password": PASSWORD}, "email"),
    ({"email": "{u}@example.com"}, "password"),
    ({"email": "{u}-not-an-email", "password": PASSWORD}, "email"),
    ({"email": "{u}@example.com", "password": "too short"}, "password"),
    ({"email": "{u}@example.com", "password": "{U}@EXAMPLE.COM"}, "password"),
    ({"email": "{u}@example.com", "password": 1234567890}, "password"),
    ({"email": "{u}@example.com", "password": PASSWORD, "role": "admin"}, "role"),
])
def test_invalid_registrations_name_the_field_and_write_nothing(auth, pg, unique, body, field):
    body = {k: v.format(u=unique.lower(), U=unique) if isinstance(v, str) else v for k, v in body.items()}
    response = assert_conforms(requests.post(f"{auth['auth_register']}/api/auth/register", json=body, timeout=10))
    assert response.status_code == 400, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM users WHERE email LIKE %s", (f"{unique.lower()}%",))
        assert cur.fetchone()[0] == 0


def test_malformed_and_non_json_bodies(auth):
    broken = assert_conforms(requests.post(f"{auth['auth_login']}/api/auth/login", data="{nope",
                                           headers={"Content-Type": "application/json"}, timeout=5))
    assert broken.status_code == 400 and broken.json()["errors"][0]["field"] == "(body)"
    text = assert_conforms(requests.post(f"{auth['auth_register']}/api/auth/register", data="email=x", timeout=5,
                                         headers={"Content-Type": "text/plain"}))
    assert text.status_code == 415


def test_login_issues_an_rs256_access_token_and_an_opaque_refresh_token(auth, unique):
    user = register(auth, email_of(unique)).json()
    response = login(auth, f" {email_of(unique).upper()} ")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "RS256" and header["kid"] == "it-current"
    signing_key = jwt.PyJWKClient(f"{auth['auth_jwks']}/.well-known/jwks.json").get_signing_key_from_jwt(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], signing_key.key, algorithms=["RS256"], audience="fnshop-api",
                        issuer="https://fnshop.example/auth")
    assert claims["sub"] == user["id"] and claims["roles"] == ["customer"]
    assert claims["exp"] - claims["iat"] == 900 and abs(claims["iat"] - time.time()) < 30
    assert claims["jti"] and claims["sid"]
    assert "." not in tokens["refresh_token"] and len(tokens["refresh_token"]) >= 43


def test_wrong_password_and_unknown_email_answer_alike_in_body_and_time(auth, unique):
    register(auth, email_of(unique))
    wrong, unknown = [], []
    for attempt in range(3):
        started = time.perf_counter()
        wrong.append((login(auth, email_of(unique), "wrong password!"), time.perf_counter() - started))
        started = time.perf_counter()
        unknown.append((login(auth, email_of(unique, f"nobody{attempt}"), "wrong password!"), time.perf_counter() - started))
    for response, _ in wrong + unknown:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert wrong[0][0].json() == unknown[0][0].json() == {
        "type": "https://fnshop.example/problems/unauthorized", "title": "Unauthorized", "status": 401,
        "detail": "email or password is incorrect", "instance": "/api/auth/login"}
    # Without the dummy verification an unknown email would answer in a few ms, not ~an argon2 verify.
    wrong_time, unknown_time = statistics.median(t for _, t in wrong), statistics.median(t for _, t in unknown)
    assert unknown_time > 0.5 * wrong_time, (wrong_time, unknown_time)


def test_failures_per_account_are_rate_limited_with_retry_after(auth, unique, rds):
    register(auth, email_of(unique))
    register(auth, email_of(unique, "other"))
    for _ in range(MAX_PER_ACCOUNT):  # each from another address: only the account counter trips
        assert login(auth, email_of(unique), "wrong password!").status_code == 401
    blocked = login(auth, email_of(unique))  # even the right password waits
    assert blocked.status_code == 429 and blocked.headers["Content-Type"] == "application/problem+json"
    assert 0 < int(blocked.headers["Retry-After"]) <= WINDOW
    key = "auth:login-failures:account:" + hashlib.sha256(email_of(unique).lower().encode()).hexdigest()
    assert 0 < rds.ttl(key) <= WINDOW
    assert login(auth, email_of(unique, "other")).status_code == 200
    rds.delete(key)  # the window passing
    assert login(auth, email_of(unique)).status_code == 200


def test_failures_per_client_address_are_rate_limited(auth, unique):
    register(auth, email_of(unique))
    address = client_address()
    for n in range(MAX_PER_ADDRESS):  # a different unknown email each time: only the address trips
        assert login(auth, email_of(unique, f"guess{n}"), "wrong password!", address).status_code == 401
    blocked = login(auth, email_of(unique), address=address)
    assert blocked.status_code == 429 and 0 < int(blocked.headers["Retry-After"]) <= WINDOW
    assert login(auth, email_of(unique), address=client_address()).status_code == 200


def test_a_successful_login_clears_the_account_failures(auth, unique):
    register(auth, email_of(unique))
    for _ in range(2):
        for _ in range(MAX_PER_ACCOUNT - 1):
            assert login(auth, email_of(unique), "wrong password!").status_code == 401
        assert login(auth, email_of(unique)).status_code == 200


def family_of(pg, refresh_token: str):
    with pg.cursor() as cur:
        cur.execute("SELECT f.id, f.revoked_reason FROM refresh_tokens t JOIN refresh_token_families f "
                    "ON f.id = t.family_id WHERE t.token_hash = %s",
                    (hashlib.sha256(refresh_token.encode()).hexdigest(),))
        return cur.fetchone()


def test_refresh_rotates_and_reusing_a_rotated_token_revokes_the_family(auth, unique, pg):
    register(auth, email_of(unique))
    first = login(auth, email_of(unique)).json()
    second = refresh(auth, first["refresh_token"])
    assert second.status_code == 200 and second.headers["Cache-Control"] == "no-store"
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    claims = [jwt.decode(t["access_token"], options={"verify_signature": False}) for t in (first, second)]
    assert claims[0]["sid"] == claims[1]["sid"] and claims[0]["jti"] != claims[1]["jti"]
    third = refresh(auth, second["refresh_token"]).json()
    family_id, reason = family_of(pg, third["refresh_token"])
    assert reason is None and family_of(pg, first["refresh_token"])[0] == family_id  # stored hashed, one family

    stolen = refresh(auth, first["refresh_token"])  # an old copy shows up
    assert stolen.status_code == 401
    assert family_of(pg, first["refresh_token"]) == (family_id, "reuse")
    assert refresh(auth, third["refresh_token"]).status_code == 401  # the newest one is dead too
    other_session = login(auth, email_of(unique)).json()  # other sessions are untouched
    assert refresh(auth, other_session["refresh_token"]).status_code == 200


def test_expired_unknown_and_malformed_refresh_tokens(auth, unique, pg):
    register(auth, email_of(unique))
    tokens = login(auth, email_of(unique)).json()
    with pg.cursor() as cur:
        cur.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
                    (hashlib.sha256(tokens["refresh_token"].encode()).hexdigest(),))
    expired = refresh(auth, tokens["refresh_token"])
    assert expired.status_code == 401
    assert family_of(pg, tokens["refresh_token"])[1] is None  # expiry is no theft: nothing revoked
    assert refresh(auth, "never-issued").json() == expired.json()
    missing = assert_conforms(requests.post(f"{auth['auth_refresh']}/api/auth/refresh", json={}, timeout=5))
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "refresh_token"


def test_logout_revokes_the_family_and_denies_the_access_token(auth, unique, pg, rds):
    register(auth, email_of(unique))
    tokens = login(auth, email_of(unique)).json()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert logout(auth, tokens["access_token"]).status_code == 204
    assert 0 < rds.ttl(f"auth:denied-jti:{claims['jti']}") <= 900
    assert family_of(pg, tokens["refresh_token"])[1] == "logout"
    again = logout(auth, tokens["access_token"])  # the kit's verify now refuses the token
    assert again.status_code == 401 and "revoked" in again.json()["detail"]
    assert refresh(auth, tokens["refresh_token"]).status_code == 401


def test_logout_needs_a_valid_token(auth, key_set):
    assert logout(auth, "not.a.jwt").status_code == 401
    nothing = assert_conforms(requests.post(f"{auth['auth_logout']}/api/auth/logout", timeout=5))
    assert nothing.status_code == 401 and nothing.headers["WWW-Authenticate"].startswith("Bearer")


def test_jwks_publishes_every_key_and_tokens_of_the_previous_key_stay_valid(auth, key_set):
    response = assert_conforms(requests.get(f"{auth['auth_jwks']}/.well-known/jwks.json", timeout=5))
    published = response.json()["keys"]
    assert [k["kid"] for k in published] == ["it-current", "it-previous"]
    assert all(k["use"] == "sig" and k["alg"] == "RS256" and "d" not in k and "p" not in k for k in published)
    assert response.headers["Cache-Control"] == "public, max-age=300"
    now = int(time.time())
    old = jwt.encode({"sub": "8d9c5e0e-0000-4000-8000-000000000001", "roles": ["customer"],
                      "iss": "https://fnshop.example/auth", "aud": "fnshop-api", "iat": now, "exp": now + 60,
                      "jti": f"old-{now}-{random.random()}"}, key_set[1].private_key, algorithm="RS256",
                     headers={"kid": "it-previous"})
    assert logout(auth, old).status_code == 204  # verified by the kit with the previous key


def run_admin(stack_env, *args, stdin=""):
    env = {**os.environ, **stack_env, "PYTHONPATH": str(FUNCTIONS)}
    return subprocess.run([sys.executable, "-m", "auth.admin", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60)


def test_admin_command_creates_and_promotes_administrators(auth, unique, stack_env):
    created = run_admin(stack_env, "create", "--email", email_of(unique, "ops"), "--password-stdin",
                        stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    admin = json.loads(created.stdout)
    assert admin["roles"] == ["admin"] and PASSWORD not in created.stdout + created.stderr
    token = login(auth, email_of(unique, "ops")).json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["roles"] == ["admin"]
    duplicate = run_admin(stack_env, "create", "--email", email_of(unique, "ops"), "--password-stdin", stdin=PASSWORD + "\n")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    weak = run_admin(stack_env, "create", "--email", email_of(unique, "weak"), "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "password" in weak.stderr

    register(auth, email_of(unique))
    promoted = run_admin(stack_env, "promote", "--email", email_of(unique))
    assert promoted.returncode == 0 and json.loads(promoted.stdout)["roles"] == ["admin"]
    token = login(auth, email_of(unique)).json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["roles"] == ["admin"]
    assert run_admin(stack_env, "promote", "--email", email_of(unique, "nobody")).returncode == 1


def test_logs_hold_no_password_and_no_hash(auth):
    """Last in this module: it reads what every test above made the functions log."""
    for target in ("auth_jwks", *TARGETS):
        requests.get(f"{auth[target]}/healthz", timeout=5)
    text = "".join(path.read_text() for path in auth["logs"].glob("*.log"))
    assert '"msg": "request"' in text
    assert PASSWORD not in text and "wrong password!" not in text and "$argon2" not in text
