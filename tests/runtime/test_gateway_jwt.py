"""RequestAuthentication and AuthorizationPolicy at the gateway (fixtures in istio/security.yaml):
keys come from a function through its cluster-local jwksUri, as the real auth-jwks one."""
from __future__ import annotations

from pathlib import Path

from tests.support.tokens import TestIssuer


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_valid_token_passes_and_is_forwarded_with_claim_headers(runtime, issuer):
    token = issuer.token(user_id="user-1")
    response = runtime.get("/api/secure/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    headers = response.json()["headers"]
    assert headers["authorization"] == f"Bearer {token}"  # forwardOriginalToken: true
    assert headers["x-user-id"] == "user-1"  # outputClaimToHeaders


def test_bad_tokens_are_refused_with_401(runtime, issuer, tmp_path: Path):
    forger = TestIssuer(tmp_path, kid=issuer.kid)  # same kid, another key
    bad = {
        "forged": forger.token(),
        "expired": issuer.token(ttl=-3600),
        "wrong audience": issuer.token(aud="someone-else"),
        "unknown issuer": issuer.token(iss="https://evil.example"),
        "garbage": "not.a.jwt",
    }
    for why, token in bad.items():
        for path in ("/api/secure/me", "/api/echo"):  # also where no token is required
            response = runtime.get(path, headers=bearer(token))
            assert response.status_code == 401, (why, path, response.text)
            assert response.headers["Content-Type"] == "application/problem+json"


def test_missing_token_is_403_only_where_the_policy_requires_one(runtime):
    assert runtime.get("/api/secure/me").status_code == 403
    assert runtime.get("/api/echo").status_code == 200
