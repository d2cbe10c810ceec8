"""Session rules, in plain Python: access-token claims, refresh-token families and rotation,
and the login rate limit's arithmetic. No I/O here.

A login starts a *family* of refresh tokens. Each refresh exchanges the presented token for a
new one of the same family and marks the old one rotated. A rotated token presented again means
two parties hold the same family (the token was copied): the whole family is revoked, so
neither the thief nor the victim can continue, and the victim logs in again.
"""
from __future__ import annotations

import enum
import hashlib
import ipaddress
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

REFRESH_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["refresh_token"],
    "properties": {"refresh_token": {"type": "string", "minLength": 1, "maxLength": 200}},
}


def access_claims(user_id: str, role: str, session_id: str, now: int, ttl: int, issuer: str, audience: str) -> dict:
    """Claims of an access token; `sid` names the refresh-token family, so logout can end it."""
    return {"sub": user_id, "roles": [role], "sid": session_id, "iss": issuer, "aud": audience,
            "iat": now, "exp": now + ttl, "jti": str(uuid.uuid4())}


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits: opaque, unguessable, useless once hashed


def refresh_token_hash(token: str) -> str:
    """What is stored and looked up: a fast hash suffices for a random 256-bit secret."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StoredRefreshToken:
    family_id: str
    user_id: str
    role: str
    expires_at: datetime
    rotated_at: datetime | None
    family_revoked_at: datetime | None


class Verdict(enum.Enum):
    ROTATE = "rotate"  # valid: issue its successor
    REUSED = "reused"  # already rotated: revoke the family
    EXPIRED = "expired"
    REVOKED = "revoked"  # its family was ended (logout or an earlier reuse)
    UNKNOWN = "unknown"


def judge_refresh(token: StoredRefreshToken | None, now: datetime) -> Verdict:
    if token is None:
        return Verdict.UNKNOWN
    if token.family_revoked_at is not None:
        return Verdict.REVOKED
    # Reuse is checked before expiry: an old copy surfacing late is still a sign of theft.
    if token.rotated_at is not None:
        return Verdict.REUSED
    if token.expires_at <= now:
        return Verdict.EXPIRED
    return Verdict.ROTATE


def deny_ttl(exp: int, now: int) -> int:
    """How long a logged-out access token stays on the deny list: until it expires anyway."""
    return max(exp - now, 1)


@dataclass(frozen=True)
class Counter:
    """A failure counter after counting this attempt: its value, limit and remaining TTL."""

    count: int
    limit: int
    ttl: int


def retry_after(counters: list[Counter], window: int) -> int | None:
    """Seconds until the attempt may be retried, or None when no counter is over its limit.

    The attempt was counted before this check (so parallel attempts cannot slip past the
    limit); the limit-th failure is still allowed, the attempt after it is refused."""
    tripped = [c for c in counters if c.count > c.limit]
    if not tripped:
        return None
    # A TTL of -1/-2 (none, or expired meanwhile) falls back to a full window: never 0.
    return max(c.ttl if c.ttl > 0 else window for c in tripped)


def client_address(peer: str | None, forwarded_for: str | None, trusted_hops: int) -> str:
    """The client's address for rate limiting. Each trusted proxy appends the address it saw,
    so with N trusted proxies the client is the N-th entry from the right; entries further left
    were written by the client itself and are not trusted."""
    if trusted_hops > 0 and forwarded_for:
        hops = [part.strip() for part in forwarded_for.split(",") if part.strip()]
        if len(hops) >= trusted_hops:
            candidate = hops[-trusted_hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return peer or "unknown"
