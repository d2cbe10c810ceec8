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
from .config import env, env_float, env_int

log = logs.get("fnkit.relay")
BATCH = 200
_LOCK_KEY = 0x0F5B_0E1A  # pg_advisory_lock id shared by every relay of this database


class _Metrics:
    """What the dashboards and the OutboxBacklog alert read; served on RELAY_METRICS_PORT."""

    def __init__(self):
        from prometheus_client import Counter, Gauge

        self.published = Counter("fnshop_outbox_published_events", "Outbox events acknowledged by Kafka", ["topic"])
        self.failures = Counter("fnshop_outbox_publish_failures", "Relay cycles that failed (Kafka or PostgreSQL away)")
        self.pending = Gauge("fnshop_outbox_pending_events", "Outbox events not yet acknowledged by Kafka")
        self.oldest_age = Gauge("fnshop_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event")

    def sample_backlog(self) -> None:
        with db.transaction() as cur:
            cur.execute("SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age "
                        "FROM outbox WHERE published_at IS NULL")
            row = cur.fetchone()
        self.pending.set(row["n"])
        self.oldest_age.set(float(row["age"]))


def publish_pending(metrics: _Metrics | None = None) -> int:
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
    if metrics:
        for row in rows:
            metrics.published.labels(row["topic"]).inc()
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


def run(stop: threading.Event, metrics: _Metrics | None = None) -> None:
    logs.configure(component="outbox-relay")
    poll = env_float("OUTBOX_POLL_SECONDS")
    conn = None
    while not stop.is_set():
        try:
            if metrics:
                metrics.sample_backlog()
            if conn is None:
                conn = _listen_connection()
                if conn is None:
                    stop.wait(poll)
                    continue
                log.info("relay active")
            while publish_pending(metrics):
                pass
            if select.select([conn], [], [], poll)[0]:
                conn.poll()
                conn.notifies.clear()
        except Exception as exc:  # Kafka or PostgreSQL away: keep the rows, retry after a pause
            log.warning("relay cycle failed, retrying", extra={"error": f"{type(exc).__name__}: {exc}"})
            if metrics:
                metrics.failures.inc()
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
    from prometheus_client import start_http_server

    metrics = _Metrics()
    start_http_server(env_int("RELAY_METRICS_PORT"), addr="0.0.0.0")
    run(stop, metrics)


if __name__ == "__main__":
    main()
