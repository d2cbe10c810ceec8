"""fnkit.db against the real PostgreSQL: connections are reused, bounded, and rolled back."""
from __future__ import annotations

import threading

import pytest

from fnkit import db
from fnkit.errors import Problem


@pytest.fixture()
def small_pool(stack_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", stack_env["DATABASE_URL"])
    monkeypatch.setenv("DB_POOL_MAX", "2")
    monkeypatch.setenv("DB_POOL_WAIT_SECONDS", "0.2")
    db.reset_pool()
    yield
    db.reset_pool()


def backend_pid() -> int:
    with db.transaction() as cur:
        cur.execute("SELECT pg_backend_pid() AS pid")
        return cur.fetchone()["pid"]


def test_a_returned_connection_is_reused(small_pool):
    assert backend_pid() == backend_pid()


def test_a_failed_transaction_is_rolled_back_and_its_connection_stays_usable(small_pool, pg):
    with pg.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS kit_db_probe (n int)")
    with pytest.raises(ZeroDivisionError):
        with db.transaction() as cur:
            cur.execute("INSERT INTO kit_db_probe VALUES (42)")
            raise ZeroDivisionError
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM kit_db_probe WHERE n = 42")
        assert cur.fetchone()["n"] == 0


def test_more_concurrent_transactions_than_the_pool_holds_wait_then_get_a_503(small_pool):
    holding, release = threading.Barrier(3), threading.Event()

    def hold():
        with db.transaction() as cur:
            cur.execute("SELECT 1")
            holding.wait()
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    holding.wait()
    try:
        with pytest.raises(Problem) as refused:
            backend_pid()
        assert refused.value.status == 503
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert backend_pid() > 0  # slots came back
