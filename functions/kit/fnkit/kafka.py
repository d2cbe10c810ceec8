"""Kafka producer, lazily created: acks from every in-sync replica and idempotent retries, so
an acknowledged send is durable and a retried one is not written twice."""
from __future__ import annotations

import threading

from .config import env_list

_producer = None
_lock = threading.Lock()


def producer():
    global _producer
    if _producer is None:
        with _lock:
            if _producer is None:
                from kafka import KafkaProducer

                _producer = KafkaProducer(
                    bootstrap_servers=env_list("KAFKA_BOOTSTRAP_SERVERS"),
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=2,
                    request_timeout_ms=5000,
                    max_block_ms=5000,
                    # kafka-python backs off reconnects up to 30 s by default: after an outage
                    # the relay would sit idle that long with the broker back. 1 s bounds it.
                    reconnect_backoff_max_ms=1000,
                )
    return _producer


def send(topic: str, message) -> object:
    """Send a cloudevents KafkaMessage; returns the future (call .get() to await the ack)."""
    headers = [(name, value if isinstance(value, bytes) else str(value).encode()) for name, value in message.headers.items()]
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return producer().send(topic, key=key, value=message.value, headers=headers)


def reset() -> None:
    global _producer
    with _lock:
        if _producer is not None:
            _producer.close(timeout=2)
        _producer = None
