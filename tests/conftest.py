"""Shared fixtures. Integration tiers need the real stack: DATABASE_URL, REDIS_URL and
KAFKA_BOOTSTRAP_SERVERS come from `task test` (which starts it); without them they fail."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "functions", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import os  # noqa: E402  (after the path set-up above)

import psycopg2  # noqa: E402
import pytest  # noqa: E402
import redis  # noqa: E402

from tests.support.tokens import TestIssuer  # noqa: E402

STACK_VARS = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    missing = [name for name in STACK_VARS if not os.environ.get(name)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run the suite with `dev/task test`, which starts the stack")
    return {name: os.environ[name] for name in STACK_VARS}


@pytest.fixture(scope="session")
def issuer(tmp_path_factory):
    """A test identity provider whose JWKS the functions (and the gateway) verify tokens with."""
    test_issuer = TestIssuer(tmp_path_factory.mktemp("idp"))
    yield test_issuer
    test_issuer.close()


@pytest.fixture()
def pg(stack_env):
    conn = psycopg2.connect(stack_env["DATABASE_URL"])
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture()
def rds(stack_env):
    client = redis.Redis.from_url(stack_env["REDIS_URL"], decode_responses=True)
    yield client
    client.close()
