"""PostgreSQL: one lazily filled connection pool per process and a transaction helper."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from .config import env, env_float, env_int
from .errors import Problem

if TYPE_CHECKING:  # psycopg2 is imported on first use, not at start-up
    import psycopg2.extensions

_pool = None
_pool_lock = threading.Lock()


class _Pool:
    """Opens connections on first need and keeps up to `size` of them for reuse.

    psycopg2's own pools open `minconn` connections up front and close every connection
    returned above `minconn`: with minconn=0 each transaction paid a fresh connect (about
    10 ms, measured by dev/bench/functions.py), with minconn=size a cold start paid them all.
    """

    def __init__(self, dsn: str, size: int, wait_seconds: float):
        self._dsn, self._wait = dsn, wait_seconds
        self._idle: list = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)

    def getconn(self):
        import psycopg2

        if not self._slots.acquire(timeout=self._wait):
            raise Problem(503, "Service unavailable", "all database connections are busy; retry shortly",
                          headers={"Retry-After": "1"})
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            return conn if conn is not None and not conn.closed else psycopg2.connect(self._dsn, connect_timeout=5)
        except BaseException:
            self._slots.release()
            raise

    def putconn(self, conn, close: bool = False) -> None:
        import psycopg2.extensions as ext

        try:
            if close or conn.closed or conn.info.transaction_status != ext.TRANSACTION_STATUS_IDLE:
                conn.close()
            else:
                with self._lock:
                    self._idle.append(conn)
        finally:
            self._slots.release()

    def closeall(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _get_pool() -> _Pool:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = _Pool(env("DATABASE_URL"), env_int("DB_POOL_MAX"), env_float("DB_POOL_WAIT_SECONDS"))
    return _pool


@contextmanager
def transaction() -> Iterator["psycopg2.extensions.cursor"]:
    """Run the block in one transaction: commit on success, roll back on any exception.

    Yields a cursor whose rows are dicts. A connection broken mid-way is discarded, not reused.
    """
    import psycopg2
    import psycopg2.extras

    pool = _get_pool()
    conn = pool.getconn()
    broken = False
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            yield cur
        conn.commit()
    except psycopg2.OperationalError:
        broken = True
        raise
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise
    finally:
        pool.putconn(conn, close=broken or bool(conn.closed))


def ping() -> None:
    with transaction() as cur:
        cur.execute("SELECT 1")


def reset_pool() -> None:
    """Close every pooled connection (tests that restart PostgreSQL, and process shutdown)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.closeall()
        _pool = None
