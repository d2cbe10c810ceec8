"""Auth operations: register, log in, refresh, log out. Independent of HTTP."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2.errors

from fnkit import cache, credentials, db, logs
from fnkit.auth import Principal
from fnkit.config import env, env_int
from fnkit.errors import Problem, conflict, invalid, unauthorized

from . import keys, store
from fnkit.accounts import Account

from .rules import ADMIN, CUSTOMER, new_account
from .sessions import Verdict, access_claims, judge_refresh, new_refresh_token, refresh_token_hash, retry_after

log = logs.get(__name__)

BAD_CREDENTIALS = "email or password is incorrect"  # one answer for unknown email and wrong password


def register(payload: dict, role: str = CUSTOMER) -> dict:
    """Payload matches REGISTER_SCHEMA. Returns the public account."""
    account, errors = new_account(payload, role)
    if errors:
        raise invalid(errors)
    password_hash = credentials.hash_password(account.password)  # slow: before taking a connection
    try:
        with db.transaction() as cur:
            created = store.insert_account(cur, account, password_hash)
    except psycopg2.errors.UniqueViolation:
        raise conflict("an account with this email already exists", field="email") from None
    log.info("account registered", extra={"user_id": created.id, "role": role})
    return created.to_public()


def create_admin(payload: dict) -> dict:
    return register(payload, role=ADMIN)


def promote_to_admin(email: str) -> Account | None:
    with db.transaction() as cur:
        return store.promote(cur, credentials.normalise_email(email), ADMIN)


def login(payload: dict, client_address: str) -> dict:
    """Payload matches LOGIN_SCHEMA. Tokens, or the same 401 whether or not the email exists."""
    email, password = credentials.normalise_email(payload["email"]), payload["password"]
    _check_rate_limit(email, client_address)
    with db.transaction() as cur:
        found = store.find_credentials(cur, email)
    if found is None:
        credentials.verify_against_dummy(password)
        raise unauthorized(BAD_CREDENTIALS)
    user_id, role, password_hash = found
    if not credentials.verify_password(password_hash, password):
        raise unauthorized(BAD_CREDENTIALS)
    _forget_failures(email, client_address)
    now = datetime.now(timezone.utc)
    with db.transaction() as cur:
        if credentials.needs_rehash(password_hash):
            store.replace_password_hash(cur, user_id, credentials.hash_password(password))
        family_id = str(uuid.uuid4())
        store.start_family(cur, family_id, user_id)
        return _issue_tokens(cur, user_id, role, family_id, now)


def refresh(payload: dict) -> dict:
    """Exchange a refresh token for new tokens; a rotated token used again ends its family."""
    token_hash = refresh_token_hash(payload["refresh_token"])
    now = datetime.now(timezone.utc)
    with db.transaction() as cur:
        stored = store.lock_refresh_token(cur, token_hash)
        verdict = judge_refresh(stored, now)
        if verdict is Verdict.ROTATE:
            store.mark_rotated(cur, token_hash, now)
            return _issue_tokens(cur, stored.user_id, stored.role, stored.family_id, now)
        if verdict is Verdict.REUSED:
            store.revoke_family(cur, stored.family_id, "reuse")
    # Committed above: the revocation stands although the request fails.
    if verdict is Verdict.REUSED:
        log.warning("refresh token reused: family revoked", extra={"user_id": stored.user_id, "family_id": stored.family_id})
    raise unauthorized("the refresh token is not valid")


def logout(principal: Principal, access_token: str) -> None:
    """End the session of an access token the caller has verified: its refresh family, then the
    token itself (deny list until it expires)."""
    import jwt

    claims = jwt.decode(access_token, options={"verify_signature": False})  # verified by the caller
    session_id = claims.get("sid")
    if isinstance(session_id, str) and _is_uuid(session_id):
        with db.transaction() as cur:
            store.revoke_family(cur, session_id, "logout", principal.user_id)
    ttl = max(int(claims["exp"]) - int(time.time()), 1)
    try:
        store.deny_access_token(principal.token_id, ttl)
    except cache.unavailable_errors():
        # The family is revoked; a retry with the same token repeats both steps harmlessly.
        raise Problem(503, "Service unavailable", "the logout could not be completed; retry it",
                      headers={"Retry-After": "1"}) from None


def _issue_tokens(cur, user_id: str, role: str, family_id: str, now: datetime) -> dict:
    access_ttl, refresh_ttl = env_int("AUTH_ACCESS_TOKEN_TTL_SECONDS"), env_int("AUTH_REFRESH_TOKEN_TTL_SECONDS")
    refresh_token = new_refresh_token()
    store.insert_refresh_token(cur, refresh_token_hash(refresh_token), family_id, now, now + timedelta(seconds=refresh_ttl))
    claims = access_claims(user_id, role, family_id, int(now.timestamp()), access_ttl, env("JWT_ISSUER"), env("JWT_AUDIENCE"))
    return {"access_token": keys.sign(claims), "token_type": "Bearer", "expires_in": access_ttl,
            "refresh_token": refresh_token, "refresh_token_expires_in": refresh_ttl}


def _check_rate_limit(email: str, address: str) -> None:
    window = env_int("AUTH_LOGIN_FAILURE_WINDOW_SECONDS")
    limits = (env_int("AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT"), env_int("AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS"))
    try:
        counters = store.count_login_attempt(email, address, window, limits)
    except cache.unavailable_errors() as exc:
        # Fails open: argon2 keeps guessing slow meanwhile, and login stays available.
        log.warning("login rate limit unavailable, not limiting", extra={"error": str(exc)})
        return
    wait = retry_after(counters, window)
    if wait is not None:
        raise Problem(429, "Too many requests", "too many failed sign-in attempts; try again later",
                      slug="rate-limited", headers={"Retry-After": str(wait)})


def _forget_failures(email: str, address: str) -> None:
    try:
        store.forget_failures(email, address)
    except cache.unavailable_errors() as exc:
        log.warning("could not clear login failures", extra={"error": str(exc)})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
