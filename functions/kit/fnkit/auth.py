"""Strict verification of access tokens: signature by a published key (JWKS, by `kid`), an
allow-list of algorithms, required exp/iat/iss/aud/sub/jti claims, and the deny list of
logged-out tokens.

Deny list: the auth function's logout stores `auth:denied-jti:<jti>` in Redis until the token's
`exp`; `verify` refuses a token whose jti is there. The lookup fails OPEN: when Redis cannot be
reached the token is accepted and a warning is logged. Why: access tokens live minutes
(AUTH_ACCESS_TOKEN_TTL_SECONDS), so the deny list only shortens an already short window, and
failing closed would turn every Redis outage into an outage of every authenticated endpoint of
every function. The refresh-token family is revoked in PostgreSQL at logout regardless, so a
logged-out session cannot be extended even while Redis is down.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from . import cache, logs
from .config import env, env_list
from .errors import forbidden, unauthorized

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]
ADMIN = "admin"
DENIED_JTI_PREFIX = "auth:denied-jti:"

log = logs.get(__name__)

_jwks_client = None
_lock = threading.Lock()


@dataclass(frozen=True)
class Principal:
    user_id: str
    roles: frozenset[str]
    token_id: str

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    def require_role(self, role: str) -> None:
        if role not in self.roles:
            raise forbidden(f"this operation needs the {role!r} role")

    def require_self_or_admin(self, user_id: str) -> None:
        """Users see only their own data; admins may see anyone's."""
        if user_id != self.user_id and not self.is_admin:
            raise forbidden("you may only access your own data")


def _jwks():
    global _jwks_client
    if _jwks_client is None:
        with _lock:
            if _jwks_client is None:
                from jwt import PyJWKClient

                # Keys are cached; an unknown kid (a rotated-in key) triggers one refetch.
                _jwks_client = PyJWKClient(env("JWT_JWKS_URL"), cache_keys=True, lifespan=300, timeout=5)
    return _jwks_client


def verify(token: str) -> Principal:
    import jwt

    try:
        header = jwt.get_unverified_header(token)
        algorithms = env_list("JWT_ALGORITHMS")
        if header.get("alg") not in algorithms:
            raise unauthorized("token algorithm is not allowed")
        key = _jwks().get_signing_key_from_jwt(token).key
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=env("JWT_AUDIENCE"),
            issuer=env("JWT_ISSUER"),
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("token has expired") from None
    except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
        raise unauthorized(f"invalid token: {exc}") from None
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise unauthorized("invalid token: roles must be a list of strings")
    if is_denied(str(claims["jti"])):
        raise unauthorized("token has been revoked")
    return Principal(str(claims["sub"]), frozenset(roles), str(claims["jti"]))


def denied_jti_key(jti: str) -> str:
    """The Redis key that marks a token as logged out (written by the auth function)."""
    return DENIED_JTI_PREFIX + jti


def is_denied(jti: str) -> bool:
    """Whether the token was logged out. Fails open when Redis is unreachable (see above)."""
    try:
        return bool(cache.client().exists(denied_jti_key(jti)))
    except cache.unavailable_errors() as exc:
        log.warning("deny-list lookup failed, accepting the token", extra={"error": str(exc)})
        return False


def principal_from(authorization: str | None) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("a bearer token is required")
    return verify(token.strip())
