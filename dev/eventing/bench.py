"""`python -m dev.eventing.bench`: dispatcher throughput next to raw kafka-python baselines, in
the same run, on the real Kafka of `task stack:up` (KAFKA_BOOTSTRAP_SERVERS).

N small binary CloudEvents go to a 3-partition bench topic; then, each under a fresh consumer group
starting where they begin:
  raw consume          KafkaConsumer.poll until N records (the ceiling of any consumer)
  raw consume + POST   the same, one blocking HTTP POST per record to the sink (one connection)
  dispatcher ordered   the local KafkaSource data plane, `ordering: ordered` (one in flight per partition)
  dispatcher unordered the same, `ordering: unordered`
The sink is an HTTP server in its own process answering 202 at once, so the figures are the delivery
path's own.
Each is timed from its first record (or delivery) to its last: group joins are not counted.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fnkit.config import env_list

from . import groups
from .delivery import HttpSender, from_record
from .dispatcher import Dispatcher
from .manifests import load

TOPIC = "fnshop-bench-dispatch"
SOURCE = """
apiVersion: sources.knative.dev/v1
kind: KafkaSource
metadata: {{name: bench, namespace: fnshop}}
spec:
  topics: [{topic}]
  consumerGroup: {group}
  ordering: {ordering}
  sink: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: bench-sink}}}}
  delivery: {{retry: 3, backoffPolicy: exponential, backoffDelay: PT0.1S, timeout: PT5S}}
"""


class CountingSink:
    """An HTTP sink in its own process (so it does not share the GIL with what is measured)
    answering 202 at once and counting what it received."""

    def __init__(self):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")  # started before any Kafka client thread exists
        self.count, self.target = ctx.Value("i", 0), ctx.Value("i", 0)
        self.first, self.last, self.done = ctx.Value("d", 0.0), ctx.Value("d", 0.0), ctx.Event()
        ready, self.port = ctx.Queue(), None
        self.process = ctx.Process(target=self._serve, args=(ready,), daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{ready.get(timeout=10)}/"

    def _serve(self, ready) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with sink.count.get_lock():
                    sink.count.value += 1
                    if sink.first.value == 0.0:
                        sink.first.value = time.perf_counter()
                    if sink.count.value >= sink.target.value:
                        sink.last.value = time.perf_counter()
                        sink.done.set()

            def log_message(self, *_):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        ready.put(server.server_address[1])
        server.serve_forever()

    def expect(self, n: int) -> None:
        with self.count.get_lock():
            self.count.value, self.target.value, self.first.value, self.last.value = 0, n, 0.0, 0.0
            self.done.clear()

    def elapsed(self) -> float:
        return self.last.value - self.first.value

    def close(self) -> None:
        self.process.terminate()
        self.process.join(5)


def _produce(bootstrap: list[str], n: int) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for i in range(n):
        key = f"entity-{i % 97}".encode()
        producer.send(TOPIC, key=key, value=json.dumps({"n": i}).encode(), headers=[
            ("ce_specversion", b"1.0"), ("ce_id", str(uuid.uuid4()).encode()), ("ce_source", b"/bench"),
            ("ce_type", b"com.fnshop.bench.tick"), ("ce_subject", key), ("content-type", b"application/json")])
    producer.flush()
    producer.close()


def _raw(bootstrap: list[str], group: str, n: int, sink_url: str | None) -> float:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                             max_poll_records=500)
    sender, seen, started = HttpSender(), 0, None
    while seen < n:
        for records in consumer.poll(timeout_ms=200).values():
            started = started or time.perf_counter()  # from the first record: start-up is not counted
            for record in records:
                if sink_url:
                    sender.post(sink_url, from_record(record, "bench", "fnshop"), 5)
                seen += 1
    elapsed = time.perf_counter() - started
    consumer.commit()
    consumer.close()
    sender.close()
    return elapsed


def _dispatcher(bootstrap: list[str], group: str, ordering: str, sink: CountingSink, n: int) -> float:
    folder = Path(tempfile.mkdtemp(prefix="fnshop-bench-"))
    (folder / "bench.yaml").write_text(SOURCE.format(topic=TOPIC, group=group, ordering=ordering))
    sink.expect(n)
    dispatcher = Dispatcher(load(folder), bootstrap, "http://127.0.0.1:9", {"bench-sink": sink.url})
    dispatcher.start()
    finished = sink.done.wait(600)
    dispatcher.stop()
    if not finished:
        raise RuntimeError(f"dispatcher delivered {sink.count.value} of {n}")
    return sink.elapsed()  # from the first delivery, like the raw paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="events per measurement")
    args = parser.parse_args(argv)
    bootstrap, n = env_list("KAFKA_BOOTSTRAP_SERVERS"), args.n
    sink = CountingSink()
    groups.ensure_topic(bootstrap, TOPIC, partitions=3)
    run = uuid.uuid4().hex[:6]
    names = ["raw consume", "raw consume + POST", "dispatcher ordered", "dispatcher unordered"]
    group_of = {name: f"bench-{run}-{i}" for i, name in enumerate(names)}
    for group in group_of.values():
        groups.start_at_end(bootstrap, group, [TOPIC])
    _produce(bootstrap, n)
    results = {
        names[0]: _raw(bootstrap, group_of[names[0]], n, None),
        names[1]: sink.expect(n) or _raw(bootstrap, group_of[names[1]], n, sink.url),
        names[2]: _dispatcher(bootstrap, group_of[names[2]], "ordered", sink, n),
        names[3]: _dispatcher(bootstrap, group_of[names[3]], "unordered", sink, n),
    }
    print(f"{n} events, topic {TOPIC} (3 partitions), sink answers 202 at once")
    print(f"{'path':<22}{'seconds':>9}{'events/s':>10}")
    for name, seconds in results.items():
        print(f"{name:<22}{seconds:>9.2f}{n / seconds:>10.0f}")
    sink.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
