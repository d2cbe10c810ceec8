"""Signing keys of the auth function: parsed from AUTH_SIGNING_KEYS, published as a JWKS.

AUTH_SIGNING_KEYS (a secret) is either one PEM-encoded RSA private key, or a JSON list
`[{"kid": "...", "pem": "-----BEGIN PRIVATE KEY-----\\n..."}, ...]`. The first key signs new
tokens; every key is published at /.well-known/jwks.json, so tokens signed by a previous key
stay verifiable until they expire. Rotation: put a new key first, keep the old one for at least
AUTH_ACCESS_TOKEN_TTL_SECONDS (verifiers refetch the JWKS when they meet an unknown `kid`),
then drop it. A kid defaults to the key's RFC 7638 thumbprint.

Generate a key set (local dev and tests; in production store the output in the Secret):

    python -m auth.keys generate [--kid KID] [--keep previous.json] [--shell]

`--keep FILE` appends the keys already in FILE (rotation); `--shell` prints an
`AUTH_SIGNING_KEYS='...'` line for an env file instead of bare JSON. For a local state dir:

    python -m auth.keys ensure .state/auth-signing-keys.json

writes a new key set there (mode 0600) unless the file already holds a valid one, so tokens
survive restarts; then `AUTH_SIGNING_KEYS="$(cat .state/auth-signing-keys.json)"`.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from fnkit.config import ConfigError, env

ALGORITHM = "RS256"
MIN_KEY_BITS = 2048

_parsed: tuple[str, list["SigningKey"]] | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: object  # cryptography RSAPrivateKey

    def public_jwk(self) -> dict:
        from jwt.algorithms import RSAAlgorithm

        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {"kty": jwk["kty"], "n": jwk["n"], "e": jwk["e"], "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


def thumbprint(private_key) -> str:
    """RFC 7638: base64url(sha256) of the public JWK's required members, in lexical order."""
    from jwt.algorithms import RSAAlgorithm

    jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


def _load_pem(pem: str):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"AUTH_SIGNING_KEYS holds a key that is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_KEY_BITS:
        raise ConfigError(f"AUTH_SIGNING_KEYS keys must be RSA keys of at least {MIN_KEY_BITS} bits ({ALGORITHM})")
    return key


def parse(raw: str) -> list[SigningKey]:
    raw = raw.strip()
    if raw.startswith("-----BEGIN"):
        key = _load_pem(raw)
        return [SigningKey(thumbprint(key), key)]
    try:
        entries = json.loads(raw)
    except ValueError:
        raise ConfigError("AUTH_SIGNING_KEYS is neither a PEM nor a JSON list of {kid, pem}") from None
    if not isinstance(entries, list) or not entries:
        raise ConfigError("AUTH_SIGNING_KEYS must be a non-empty JSON list of {kid, pem}")
    keys = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("pem"), str):
            raise ConfigError("each AUTH_SIGNING_KEYS entry needs a `pem` string")
        key = _load_pem(entry["pem"])
        keys.append(SigningKey(str(entry.get("kid") or thumbprint(key)), key))
    if len({k.kid for k in keys}) != len(keys):
        raise ConfigError("AUTH_SIGNING_KEYS has two keys with the same kid")
    return keys


def signing_keys() -> list[SigningKey]:
    """Parsed once per process (and again only if the variable changes, as in tests)."""
    global _parsed
    raw = env("AUTH_SIGNING_KEYS")
    if _parsed is None or _parsed[0] != raw:
        with _lock:
            _parsed = (raw, parse(raw))
    return _parsed[1]


def sign(claims: dict) -> str:
    import jwt

    current = signing_keys()[0]
    return jwt.encode(claims, current.private_key, algorithm=ALGORITHM, headers={"kid": current.kid})


def jwks() -> dict:
    return {"keys": [key.public_jwk() for key in signing_keys()]}


def generate(kid: str | None = None) -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=MIN_KEY_BITS)
    return SigningKey(kid or thumbprint(key), key)


def to_json(keys: list[SigningKey]) -> str:
    return json.dumps([{"kid": key.kid, "pem": key.pem()} for key in keys])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m auth.keys", description="Generate auth signing keys.")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="print a key set whose first key is new")
    gen.add_argument("--kid", help="key id of the new key (default: its RFC 7638 thumbprint)")
    gen.add_argument("--keep", type=Path, help="a JSON key set whose keys stay published after the new one")
    gen.add_argument("--shell", action="store_true", help="print AUTH_SIGNING_KEYS='...' for an env file")
    ensure = commands.add_parser("ensure", help="write a key set to FILE unless it already holds one")
    ensure.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "ensure":
        return _ensure(args.file)
    keys = [generate(args.kid)] + (parse(args.keep.read_text()) if args.keep else [])
    text = to_json(keys)
    print(f"AUTH_SIGNING_KEYS='{text}'" if args.shell else text)  # JSON holds no single quote
    return 0


def _ensure(path: Path) -> int:
    if path.exists():
        parse(path.read_text())  # a ConfigError here means the file is damaged: say so, keep it
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(to_json([generate()]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
