"""Consumer-group positions, for tests and benchmarks that run a source under a fresh group:
`start_at_end` makes the group begin at the topics' current ends (the cluster's equivalent is
creating the KafkaSource with `initialOffset: latest` before the first event is sent), and
`lag` says how far a group is behind; `ensure_topic` creates a scratch topic they use."""
from __future__ import annotations


def ensure_topic(bootstrap: list[str], topic: str, partitions: int = 1) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1)], timeout_ms=30000)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def _partitions(consumer, topics):
    from kafka import TopicPartition

    return [TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or [])]


def start_at_end(bootstrap: list[str], group: str, topics: list[str]) -> None:
    from kafka import KafkaConsumer
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        partitions = _partitions(consumer, topics)
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in ends.items()})
    finally:
        consumer.close()


def lag(bootstrap: list[str], group: str, topics: list[str]) -> int:
    """Records on the topics the group has not committed yet."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        partitions = _partitions(consumer, topics)
        ends = consumer.end_offsets(partitions)
        return sum(end - (consumer.committed(tp) or 0) for tp, end in ends.items())
    finally:
        consumer.close()
