"""Read CloudEvents back from real Kafka topics, the way a consumer would."""
from __future__ import annotations

import time

from cloudevents.kafka import KafkaMessage, from_binary
from kafka import KafkaConsumer, TopicPartition


class TopicReader:
    """Positioned at the end of a topic when created, so it sees only what happens afterwards."""

    def __init__(self, bootstrap: str, topic: str):
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False,
                                      consumer_timeout_ms=200)
        partitions = [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or [])]
        assert partitions, f"topic {topic} does not exist"
        self.consumer.assign(partitions)
        self.consumer.seek_to_end(*partitions)
        for partition in partitions:  # resolve the end offsets now, before the action under test
            self.consumer.position(partition)

    def records(self, timeout: float = 10.0, until=lambda records: False) -> list:
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in self.consumer.poll(timeout_ms=200).values():
                seen.extend(batch)
            if until(seen):
                break
        return seen

    def event_for(self, subject: str, timeout: float = 10.0):
        """The first CloudEvent with this subject, decoded from binary mode, and its raw record."""
        def match(record) -> bool:
            return dict(record.headers).get("ce_subject", b"").decode() == subject

        records = self.records(timeout, until=lambda seen: any(match(r) for r in seen))
        for record in records:
            if match(record):
                message = KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
                return from_binary(message), record
        raise AssertionError(f"no event with subject {subject} within {timeout}s ({len(records)} other records)")

    def close(self) -> None:
        self.consumer.close()
