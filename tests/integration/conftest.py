from __future__ import annotations

import uuid

import pytest

from tests.support.processes import BackgroundProcess, FunctionProcess, free_port


@pytest.fixture(scope="session")
def function_env(stack_env, issuer) -> dict[str, str]:
    return {**stack_env, "JWT_JWKS_URL": issuer.jwks_url, "LOG_LEVEL": "INFO", "OUTBOX_POLL_SECONDS": "0.2"}


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("function-logs")


@pytest.fixture(scope="session")
def start_function(function_env, log_dir):
    """Start a function target once per session; returns its base URL."""
    running: dict[str, FunctionProcess] = {}

    def start(target: str) -> str:
        if target not in running:
            running[target] = FunctionProcess(target, function_env, log_dir).start()
        return running[target].url

    yield start
    for process in running.values():
        process.stop()


@pytest.fixture(scope="session")
def relay(function_env, log_dir):
    metrics_port = free_port()
    process = BackgroundProcess("outbox-relay", ["-m", "fnkit.relay"],
                                {**function_env, "RELAY_METRICS_PORT": str(metrics_port)}, log_dir).start()
    process.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    yield process
    process.stop()


@pytest.fixture()
def unique() -> str:
    """A short suffix that keeps test data of different runs apart in the shared database."""
    return uuid.uuid4().hex[:8].upper()


@pytest.fixture(scope="session")
def products_api(start_function, relay) -> dict[str, str]:
    """Base URLs of every products target, keyed by target name."""
    from tests.support.catalog import PRODUCT_TARGETS

    return {target: start_function(target) for target in PRODUCT_TARGETS}
