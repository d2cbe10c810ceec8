"""The outbox relay: publishes committed outbox rows to Kafka in id order and marks them sent
only after the broker acknowledged them. While Kafka is down rows simply wait in PostgreSQL.

Run one per database (`python -m fnkit.relay`); an advisory lock keeps a second one on
standby (it retries the lock), so per-entity order survives a double deployment.
"""
from __future__ import annotations

import select
import signal
import threading

from . import db, events, kafka, logs
from .config import env, env_float

log = logs.get("fnkit.relay")
BATCH = 200
_LOCK_KEY = 0x0F5B_0E1A  # pg_advisory_lock id shared by every relay of this database


def publish_pending() -> int:
    """Publish one batch; returns how many rows went out. Raises when Kafka does not ack."""
    with db.transaction() as cur:
        cur.execute(
            "SELECT id, topic, attributes, data FROM outbox WHERE published_at IS NULL "
            "ORDER BY id LIMIT %s FOR UPDATE",
            (BATCH,),
        )
        rows = cur.fetchall()
        if not rows:
            return 0
        futures = [kafka.send(row["topic"], events.to_kafka(row["attributes"], row["data"])) for row in rows]
        for future in futures:
            future.get(timeout=10)  # a missing ack raises: the transaction rolls back, rows stay pending
        cur.execute("UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", ([row["id"] for row in rows],))
    return len(rows)


def _listen_connection():
    """A session holding the relay lock and listening for commits; None while another relay has it."""
    import psycopg2

    conn = psycopg2.connect(env("DATABASE_URL"), connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cur:
        # try_ (not a blocking lock): a standby must stay responsive to SIGTERM.
        cur.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,))
        if not cur.fetchone()[0]:
            conn.close()
            return None
        cur.execute("LISTEN outbox")
    return conn


def run(stop: threading.Event) -> None:
    logs.configure()
    poll = env_float("OUTBOX_POLL_SECONDS")
    conn = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = _listen_connection()
                if conn is None:
                    stop.wait(poll)
                    continue
                log.info("relay active")
            while publish_pending():
                pass
            if select.select([conn], [], [], poll)[0]:
                conn.poll()
                conn.notifies.clear()
        except Exception as exc:  # Kafka or PostgreSQL away: keep the rows, retry after a pause
            log.warning("relay cycle failed, retrying", extra={"error": f"{type(exc).__name__}: {exc}"})
            kafka.reset()
            db.reset_pool()
            if conn is not None:
                conn.close()
                conn = None
            stop.wait(poll)


def main() -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(stop)


if __name__ == "__main__":
    main()
