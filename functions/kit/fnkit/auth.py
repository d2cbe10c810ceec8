"""Strict verification of access tokens: signature by a published key (JWKS, by `kid`), an
allow-list of algorithms, and required exp/iat/iss/aud/sub/jti claims."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from .config import env, env_list
from .errors import forbidden, unauthorized

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]
ADMIN = "admin"

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
    return Principal(str(claims["sub"]), frozenset(roles), str(claims["jti"]))


def principal_from(authorization: str | None) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("a bearer token is required")
    return verify(token.strip())
