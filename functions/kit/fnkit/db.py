"""PostgreSQL: one lazily created connection pool per process and a transaction helper."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from .config import env, env_int

_pool = None
_pool_lock = threading.Lock()


def _get_pool():
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                from psycopg2.pool import ThreadedConnectionPool

                _pool = ThreadedConnectionPool(0, env_int("DB_POOL_MAX"), dsn=env("DATABASE_URL"), connect_timeout=5)
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
