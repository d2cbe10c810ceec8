"""Credential rules shared by the auth and users functions: how an email address is compared
and how passwords are hashed (argon2id, via argon2-cffi). No I/O here.

A stored hash never leaves this module's callers: it is neither returned by an API nor logged.
"""
from __future__ import annotations

import re
import secrets
import threading

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
# Not a full RFC 5322 parser on purpose: one "@", a dot in the domain, no spaces. Whether the
# address is real is proven by mail, not by a regular expression.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")

_hasher = None
_dummy_hash: str | None = None
_lock = threading.Lock()


def normalise_email(raw: str) -> str:
    """The form an address is stored, compared and made unique in: trimmed and lower-case."""
    return raw.strip().lower()


def email_problem(normalised: str) -> str | None:
    """Why a normalised address is not acceptable, or None."""
    if len(normalised) > MAX_EMAIL_LENGTH:
        return f"must be at most {MAX_EMAIL_LENGTH} characters"
    if not _EMAIL.match(normalised):
        return "must be an email address"
    return None


def _password_hasher():
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        # argon2-cffi's defaults are RFC 9106's "low memory" argon2id profile (t=3, m=64 MiB, p=4).
        _hasher = PasswordHasher()
    return _hasher


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _password_hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: re-hash at next login."""
    return _password_hasher().check_needs_rehash(stored_hash)


def verify_against_dummy(password: str) -> bool:
    """Spend the time of a real verification for an unknown account, so a response's timing
    does not tell whether an email is registered. Always False."""
    global _dummy_hash
    if _dummy_hash is None:
        with _lock:
            if _dummy_hash is None:
                _dummy_hash = hash_password(secrets.token_urlsafe(24))
    verify_password(_dummy_hash, password)
    return False
