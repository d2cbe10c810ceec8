"""Local eventing that honours the manifests in eventing/: the KafkaSource data plane
(`dispatcher`), PingSource schedules (`pinger`) and the KafkaSink receiver (`ingest`).
Run them with `python -m dev.eventing dispatch` and `python -m dev.eventing ingest`."""
