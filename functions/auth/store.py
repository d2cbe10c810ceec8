"""Accounts and refresh tokens in PostgreSQL; login failure counters and the access-token
deny list in Redis."""
from __future__ import annotations

import hashlib
from datetime import datetime

from fnkit import cache
from fnkit.auth import denied_jti_key

from fnkit.accounts import Account

from .rules import NewAccount
from .sessions import Counter, StoredRefreshToken

ACCOUNT_COLUMNS = "id::text, email, role, name, phone, created_at, updated_at"


def insert_account(cur, account: NewAccount, password_hash: str) -> Account:
    """Raises psycopg2.errors.UniqueViolation when the email is taken."""
    cur.execute(
        f"INSERT INTO users (id, email, password_hash, role) VALUES (%s, %s, %s, %s) RETURNING {ACCOUNT_COLUMNS}",
        (account.id, account.email, password_hash, account.role),
    )
    return Account(**cur.fetchone())


def find_credentials(cur, email: str) -> tuple[str, str, str] | None:
    """(user id, role, password hash) of the account with this normalised email."""
    cur.execute("SELECT id::text, role, password_hash FROM users WHERE email = %s", (email,))
    row = cur.fetchone()
    return (row["id"], row["role"], row["password_hash"]) if row else None


def replace_password_hash(cur, user_id: str, password_hash: str) -> None:
    cur.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))


def promote(cur, email: str, role: str) -> Account | None:
    cur.execute(
        f"UPDATE users SET role = %s, version = version + 1, updated_at = now() WHERE email = %s "
        f"RETURNING {ACCOUNT_COLUMNS}",
        (role, email),
    )
    row = cur.fetchone()
    return Account(**row) if row else None


def start_family(cur, family_id: str, user_id: str) -> None:
    cur.execute("INSERT INTO refresh_token_families (id, user_id) VALUES (%s, %s)", (family_id, user_id))


def insert_refresh_token(cur, token_hash: str, family_id: str, issued_at: datetime, expires_at: datetime) -> None:
    cur.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES (%s, %s, %s, %s)",
        (token_hash, family_id, issued_at, expires_at),
    )


def lock_refresh_token(cur, token_hash: str) -> StoredRefreshToken | None:
    """The token with its family, both locked: concurrent uses of one family run one at a time."""
    cur.execute(
        "SELECT f.id::text AS family_id, f.user_id::text AS user_id, u.role, t.expires_at, t.rotated_at, "
        "f.revoked_at AS family_revoked_at "
        "FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id JOIN users u ON u.id = f.user_id "
        "WHERE t.token_hash = %s FOR UPDATE OF t, f",
        (token_hash,),
    )
    row = cur.fetchone()
    return StoredRefreshToken(**row) if row else None


def mark_rotated(cur, token_hash: str, now: datetime) -> None:
    cur.execute("UPDATE refresh_tokens SET rotated_at = %s WHERE token_hash = %s", (now, token_hash))


def revoke_family(cur, family_id: str, reason: str, user_id: str | None = None) -> bool:
    """End a family (idempotent); with user_id, only if it is that user's. True if it was live."""
    cur.execute(
        "UPDATE refresh_token_families SET revoked_at = now(), revoked_reason = %s "
        "WHERE id = %s AND revoked_at IS NULL AND (%s::uuid IS NULL OR user_id = %s::uuid)",
        (reason, family_id, user_id, user_id),
    )
    return cur.rowcount == 1


def _account_key(email: str) -> str:
    # Hashed so that Redis (keys show up in monitoring) holds no email addresses.
    return "auth:login-failures:account:" + hashlib.sha256(email.encode()).hexdigest()


def _address_key(address: str) -> str:
    return "auth:login-failures:address:" + address


def count_login_attempt(email: str, address: str, window: int, limits: tuple[int, int]) -> list[Counter]:
    """Count this attempt as a failure up front (undone by `forget_failures` on success), so
    parallel guesses cannot all pass a check made before any of them was counted. The first
    failure starts the window; later ones do not extend it."""
    pipe = cache.client().pipeline(transaction=False)
    for key in (_account_key(email), _address_key(address)):
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        pipe.ttl(key)
    results = pipe.execute()
    return [Counter(results[0], limits[0], results[2]), Counter(results[3], limits[1], results[5])]


def forget_failures(email: str, address: str) -> None:
    """A successful login clears the account's failures and takes back its provisional count."""
    client = cache.client()
    client.delete(_account_key(email))
    # Decrement only a live counter: a DECR on an expired key would leave -1 without a TTL.
    client.eval(_DECR_IF_EXISTS, 1, _address_key(address))


_DECR_IF_EXISTS = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0"


def deny_access_token(jti: str, ttl_seconds: int) -> None:
    cache.client().set(denied_jti_key(jti), "1", ex=ttl_seconds)
