"""Session rules, without sockets: refresh-token families, access claims, the login rate
limit's arithmetic and which address counts as the client's."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from auth.sessions import (Counter, StoredRefreshToken, Verdict, access_claims, client_address, deny_ttl,
                           judge_refresh, new_refresh_token, refresh_token_hash, retry_after)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def stored(**overrides) -> StoredRefreshToken:
    fields = {"family_id": "f1", "user_id": "u1", "role": "customer", "expires_at": NOW + timedelta(days=1),
              "rotated_at": None, "family_revoked_at": None}
    fields.update(overrides)
    return StoredRefreshToken(**fields)


def test_a_live_unrotated_token_rotates():
    assert judge_refresh(stored(), NOW) is Verdict.ROTATE


def test_an_already_rotated_token_is_reuse_even_when_expired():
    assert judge_refresh(stored(rotated_at=NOW - timedelta(minutes=1)), NOW) is Verdict.REUSED
    assert judge_refresh(stored(rotated_at=NOW - timedelta(days=3), expires_at=NOW - timedelta(days=1)),
                         NOW) is Verdict.REUSED


def test_revoked_families_expired_and_unknown_tokens_are_refused_without_more_revoking():
    assert judge_refresh(stored(family_revoked_at=NOW, rotated_at=NOW), NOW) is Verdict.REVOKED
    assert judge_refresh(stored(expires_at=NOW), NOW) is Verdict.EXPIRED
    assert judge_refresh(None, NOW) is Verdict.UNKNOWN


def test_refresh_tokens_are_random_and_stored_as_sha256():
    token = new_refresh_token()
    assert len(token) >= 43 and token != new_refresh_token()
    digest = refresh_token_hash(token)
    assert len(digest) == 64 and digest == refresh_token_hash(token) and token not in digest


def test_access_claims_carry_identity_session_and_lifetime():
    claims = access_claims("u1", "admin", "f1", 1000, 900, "https://iss", "aud")
    assert claims == {"sub": "u1", "roles": ["admin"], "sid": "f1", "iss": "https://iss", "aud": "aud",
                      "iat": 1000, "exp": 1900, "jti": claims["jti"]}
    assert claims["jti"] != access_claims("u1", "admin", "f1", 1000, 900, "https://iss", "aud")["jti"]


def test_deny_list_entries_live_until_the_token_expires():
    assert deny_ttl(exp=1900, now=1000) == 900
    assert deny_ttl(exp=1000, now=1000) == 1  # never a zero or negative Redis expiry


def test_the_limit_th_failure_passes_and_the_next_attempt_waits_for_the_window():
    assert retry_after([Counter(5, 5, 600), Counter(5, 20, 600)], 900) is None
    assert retry_after([Counter(6, 5, 600), Counter(6, 20, 700)], 900) == 600
    assert retry_after([Counter(30, 5, 100), Counter(30, 20, 700)], 900) == 700
    assert retry_after([Counter(6, 5, -1)], 900) == 900


@pytest.mark.parametrize("peer, forwarded, hops, expected", [
    ("10.0.0.9", None, 0, "10.0.0.9"),
    ("10.0.0.9", "203.0.113.7", 0, "10.0.0.9"),  # no trusted proxy: the header is the client's own
    ("10.0.0.9", "203.0.113.7", 1, "203.0.113.7"),
    ("10.0.0.9", "198.51.100.1, 203.0.113.7", 1, "203.0.113.7"),  # the leftmost entry was forged
    ("10.0.0.9", "198.51.100.1, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),
    ("10.0.0.9", "203.0.113.7", 2, "10.0.0.9"),  # fewer entries than proxies: not trustworthy
    ("10.0.0.9", "not-an-ip", 1, "10.0.0.9"),
    ("10.0.0.9", "2001:DB8::1", 1, "2001:db8::1"),
    (None, None, 0, "unknown"),
])
def test_client_address_trusts_only_entries_written_by_trusted_proxies(peer, forwarded, hops, expected):
    assert client_address(peer, forwarded, hops) == expected
