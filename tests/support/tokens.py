"""A test identity provider: an RSA key published as a JWKS over HTTP, and tokens signed by it.

Functions verify tokens exactly as in production (JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE);
only the key comes from this small server instead of the auth function.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://fnshop.example/auth"
AUDIENCE = "fnshop-api"


class TestIssuer:
    __test__ = False  # not a pytest class

    def __init__(self, folder: Path, kid: str = "test-key-1"):
        self.kid = kid
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
        self.jwks_path = folder / "jwks.json"
        self.jwks_path.write_text(json.dumps({"keys": [jwk]}))
        self._server = _serve(self.jwks_path.read_bytes())
        self.jwks_url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def claims(self, user_id: str, roles: list[str], ttl: int = 300, **overrides) -> dict:
        now = int(time.time())
        claims = {"sub": user_id, "roles": roles, "iss": ISSUER, "aud": AUDIENCE,
                  "iat": now, "exp": now + ttl, "jti": str(uuid.uuid4())}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, user_id: str = None, roles: list[str] = ("customer",), ttl: int = 300, **overrides) -> str:
        claims = self.claims(user_id or str(uuid.uuid4()), list(roles), ttl, **overrides)
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def admin_token(self) -> str:
        return self.token(roles=["admin"])


def _serve(jwks: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # else each answer stalls ~40 ms (Nagle + delayed ACK)

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
