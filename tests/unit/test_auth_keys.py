"""Signing keys and what fnkit.auth.verify accepts, without sockets: the JWKS client and Redis
(the deny list) are stand-in objects serving the published key set."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import fnkit.auth
from auth import keys
from auth.sessions import access_claims
from fnkit import cache
from fnkit.config import ConfigError
from fnkit.errors import Problem

ISSUER, AUDIENCE = "https://fnshop.example/auth", "fnshop-api"


@pytest.fixture(scope="module")
def key_pair():
    return keys.generate("new"), keys.generate("old")


class FakeRedis:
    def __init__(self, denied=(), down=False):
        self.denied, self.down = set(denied), down

    def exists(self, key):
        if self.down:
            raise redis.ConnectionError("Redis is down")
        return int(key in self.denied)


class FakeJwksClient:
    """PyJWKClient's one method fnkit.auth uses, served from a JWKS document."""

    def __init__(self, document: dict):
        self.keys = {key["kid"]: jwt.PyJWK(key) for key in document["keys"]}

    def get_signing_key_from_jwt(self, token: str):
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self.keys:
            raise jwt.PyJWKClientError(f"Unable to find a signing key that matches: {kid!r}")
        return self.keys[kid]


@pytest.fixture()
def verifier(key_pair, monkeypatch):
    """fnkit.auth configured with the JWKS published from both keys, and a fake Redis."""
    monkeypatch.setenv("AUTH_SIGNING_KEYS", keys.to_json(list(key_pair)))
    monkeypatch.setattr(fnkit.auth, "_jwks_client", FakeJwksClient(keys.jwks()))
    fake = FakeRedis()
    monkeypatch.setattr(cache, "_client", fake)
    return fake


def claims(**overrides):
    now = int(time.time())
    base = access_claims(str(uuid.uuid4()), "customer", str(uuid.uuid4()), now, 300, ISSUER, AUDIENCE)
    return {**base, **overrides}


def test_a_json_key_set_signs_with_its_first_key_and_publishes_all(key_pair, monkeypatch):
    monkeypatch.setenv("AUTH_SIGNING_KEYS", keys.to_json(list(key_pair)))
    published = keys.jwks()["keys"]
    assert [k["kid"] for k in published] == ["new", "old"]
    assert all(k["kty"] == "RSA" and k["use"] == "sig" and k["alg"] == "RS256" and "d" not in k for k in published)
    assert jwt.get_unverified_header(keys.sign(claims()))["kid"] == "new"


def test_a_bare_pem_gets_its_rfc7638_thumbprint_as_kid(key_pair):
    (key, _) = key_pair
    [parsed] = keys.parse(key.pem())
    jwk = parsed.public_jwk()
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":")).encode()
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).decode().rstrip("=")
    assert parsed.kid == expected == keys.thumbprint(key.private_key)


@pytest.mark.parametrize("raw", ["", "not a key", "[]", '[{"kid": "x"}]', '[{"pem": "garbage"}]', '{"kid": "x"}'])
def test_malformed_key_settings_are_configuration_errors(raw):
    with pytest.raises(ConfigError, match="AUTH_SIGNING_KEYS"):
        keys.parse(raw)


def test_duplicate_kids_and_small_keys_are_refused(key_pair):
    (key, _) = key_pair
    with pytest.raises(ConfigError, match="same kid"):
        keys.parse(json.dumps([{"kid": "a", "pem": key.pem()}, {"kid": "a", "pem": key.pem()}]))
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with pytest.raises(ConfigError, match="2048"):
        keys.parse(small)


def test_generate_command_prints_a_key_set_and_keeps_previous_keys(tmp_path, capsys):
    assert keys.main(["generate", "--kid", "first"]) == 0
    first = capsys.readouterr().out
    (tmp_path / "keys.json").write_text(first)
    assert keys.main(["generate", "--kid", "second", "--keep", str(tmp_path / "keys.json"), "--shell"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("AUTH_SIGNING_KEYS='") and line.endswith("'")
    assert [k.kid for k in keys.parse(line.split("=", 1)[1].strip("'"))] == ["second", "first"]


def test_verify_accepts_tokens_of_current_and_previous_keys(verifier, key_pair, monkeypatch):
    principal = fnkit.auth.verify(keys.sign(claims(roles=["admin"])))
    assert principal.is_admin
    # A token signed before the rotation (by the key now second in the list) stays valid.
    old = jwt.encode(claims(), key_pair[1].private_key, algorithm="RS256", headers={"kid": "old"})
    assert fnkit.auth.verify(old).roles == {"customer"}


def test_verify_refuses_a_denied_jti_and_fails_open_when_redis_is_down(verifier):
    token_claims = claims()
    token = keys.sign(token_claims)
    verifier.denied.add(fnkit.auth.denied_jti_key(token_claims["jti"]))
    with pytest.raises(Problem, match="revoked") as refused:
        fnkit.auth.verify(token)
    assert refused.value.status == 401
    verifier.down = True  # documented choice: a Redis outage does not lock every user out
    assert fnkit.auth.verify(token).token_id == token_claims["jti"]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_verify_refuses_forged_and_wrong_tokens(verifier, key_pair):
    (current, _) = key_pair
    public_pem = current.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": "new"})
    body = _b64(claims())
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest())
    forgeries = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'new'})}.{body}.",
        "HS256 keyed with the public key": f"{header}.{body}.{signature.decode().rstrip('=')}",
        "expired": keys.sign(claims(exp=int(time.time()) - 60)),
        "wrong audience": keys.sign(claims(aud="someone-else")),
        "wrong issuer": keys.sign(claims(iss="https://evil.example")),
        "no jti": keys.sign({k: v for k, v in claims().items() if k != "jti"}),
        "unknown signer": jwt.encode(claims(), keys.generate().private_key, algorithm="RS256", headers={"kid": "new"}),
    }
    for name, token in forgeries.items():
        with pytest.raises(Problem) as refused:
            fnkit.auth.verify(token)
        assert refused.value.status == 401, name


def test_ensure_command_writes_a_private_key_set_once(tmp_path):
    target = tmp_path / "state" / "auth-signing-keys.json"
    assert keys.main(["ensure", str(target)]) == 0
    first = target.read_text()
    assert oct(target.stat().st_mode & 0o777) == "0o600" and len(keys.parse(first)) == 1
    assert keys.main(["ensure", str(target)]) == 0 and target.read_text() == first
    target.write_text("damaged")
    with pytest.raises(ConfigError):
        keys.main(["ensure", str(target)])
