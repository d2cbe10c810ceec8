"""The local KafkaSource data plane against real Kafka and a recording HTTP sink: binary-mode
delivery, offsets committed only after success, poison events dead-lettered at once, transient
failures retried with the declared exponential backoff, ordered vs unordered, and a stop during
retries that commits nothing. Each test runs its own source under a fresh consumer group."""
from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from dev.eventing import groups
from dev.eventing.dispatcher import Dispatcher
from dev.eventing.manifests import load
from tests.support.kafka_events import TopicReader

TOPIC, DEAD = "fnshop-test-dispatch", "fnshop-test-dispatch.dead-letters"

SOURCE = """
apiVersion: sources.knative.dev/v1
kind: KafkaSource
metadata: {{name: test-source, namespace: fnshop}}
spec:
  topics: [{topic}]
  consumerGroup: {group}
  initialOffset: earliest
  ordering: {ordering}
  sink: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: test-sink}}}}
  delivery:
    retry: {retry}
    backoffPolicy: exponential
    backoffDelay: {delay}
    timeout: PT5S
    deadLetterSink: {{ref: {{apiVersion: eventing.knative.dev/v1alpha1, kind: KafkaSink, name: test-dead-letters}}}}
---
apiVersion: eventing.knative.dev/v1alpha1
kind: KafkaSink
metadata: {{name: test-dead-letters, namespace: fnshop}}
spec: {{topic: {dead}}}
---
apiVersion: eventing.knative.dev/v1alpha1
kind: KafkaSink
metadata: {{name: test-topic, namespace: fnshop}}
spec: {{topic: {topic}}}
"""


class Sink:
    """Records every POST (headers, body, arrival, concurrency); `answer(headers)` picks the status."""

    def __init__(self):
        self.received, self.lock = [], threading.Lock()
        self.in_flight = self.peak = 0
        self.answer = lambda headers: 202
        self.delay = 0.0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink.lock:
                    sink.in_flight += 1
                    sink.peak = max(sink.peak, sink.in_flight)
                time.sleep(sink.delay)
                status = sink.answer(self.headers)
                with sink.lock:
                    sink.in_flight -= 1
                    sink.received.append((dict(self.headers.items()), body, time.monotonic(), status))
                payload = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self) -> list[str]:
        with self.lock:
            return [headers.get("ce-id") for headers, *_ in self.received]

    def wait_for(self, condition, timeout=20.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}; got {self.ids()}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def bootstrap(stack_env) -> list[str]:
    servers = stack_env["KAFKA_BOOTSTRAP_SERVERS"].split(",")
    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:  # auto.create.topics.enable is off: these test topics are made once and reused
        admin.create_topics([NewTopic(TOPIC, 3, 1), NewTopic(DEAD, 1, 1)], timeout_ms=30000)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
    return servers


@pytest.fixture()
def sink():
    recording = Sink()
    yield recording
    recording.close()


@pytest.fixture()
def producer(bootstrap):
    made = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    yield made
    made.close()


@pytest.fixture()
def dispatch(bootstrap, sink, tmp_path):
    """dispatch(ordering=..., retry=..., delay=...) -> a started Dispatcher under a fresh group."""
    started = []

    def start(ordering="ordered", retry=2, delay="PT0.1S", group=None):
        fresh = group is None
        group = group or f"test-dispatch-{uuid.uuid4().hex[:8]}"
        folder = tmp_path / f"{group}-{len(started)}"
        folder.mkdir()
        (folder / "source.yaml").write_text(SOURCE.format(topic=TOPIC, dead=DEAD, group=group, ordering=ordering,
                                                          retry=retry, delay=delay))
        if fresh:  # a restart under the same group resumes from its committed offsets
            groups.start_at_end(bootstrap, group, [TOPIC])
        dispatcher = Dispatcher(load(folder), bootstrap, "http://127.0.0.1:9", {"test-sink": sink.url}).start()
        assert dispatcher.wait_assigned(20)
        dispatcher.group = group
        started.append(dispatcher)
        return dispatcher

    yield start
    for dispatcher in started:
        dispatcher.stop()


def send(producer, event_id: str, key: str = "order-1", data: dict | None = None) -> None:
    headers = [("ce_specversion", b"1.0"), ("ce_id", event_id.encode()), ("ce_source", b"/test"),
               ("ce_type", b"com.fnshop.test.happened"), ("ce_subject", key.encode()),
               ("content-type", b"application/json")]
    producer.send(TOPIC, key=key.encode(), value=json.dumps(data or {"n": event_id}).encode(), headers=headers).get(10)


def committed_lag(bootstrap, group) -> int:
    return groups.lag(bootstrap, group, [TOPIC])


def test_binary_delivery_and_offsets_committed_after_success(dispatch, sink, producer, bootstrap):
    dispatcher = dispatch()
    ids = [f"ok-{uuid.uuid4().hex[:6]}-{i}" for i in range(6)]
    for i, event_id in enumerate(ids):
        send(producer, event_id, key=f"order-{i}")
    sink.wait_for(lambda: set(ids) <= set(sink.ids()), what="all six events")
    headers, body, _, _ = next(r for r in sink.received if r[0]["ce-id"] == ids[0])
    assert headers["ce-type"] == "com.fnshop.test.happened" and headers["ce-source"] == "/test"
    assert headers["ce-subject"] == "order-0" and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"n": ids[0]}
    deadline = time.monotonic() + 10
    while committed_lag(bootstrap, dispatcher.group) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert committed_lag(bootstrap, dispatcher.group) == 0
    assert dispatcher.stats()["test-source"]["delivered"] == 6


def test_a_poison_event_is_dead_lettered_at_once_and_the_partition_moves_on(dispatch, sink, producer, bootstrap):
    sink.answer = lambda headers: 400 if headers.get("ce-id", "").startswith("poison") else 202
    dead = TopicReader(",".join(bootstrap), DEAD)
    try:
        dispatch(retry=3)
        poison, after = f"poison-{uuid.uuid4().hex[:6]}", f"after-{uuid.uuid4().hex[:6]}"
        send(producer, poison, key="same-order")
        send(producer, after, key="same-order")
        sink.wait_for(lambda: after in sink.ids(), what="the event after the poison")
        assert sink.ids().count(poison) == 1  # 400 is not retried
        records = dead.records(10, until=lambda seen: any(dict(r.headers).get("ce_id") == poison.encode() for r in seen))
        record = next(r for r in records if dict(r.headers).get("ce_id") == poison.encode())
        headers = dict(record.headers)
        assert record.key == b"same-order" and json.loads(record.value) == {"n": poison}
        assert headers["ce_knativeerrorcode"] == b"400" and headers["ce_knativeerrordest"] == sink.url.encode()
        assert headers["ce_type"] == b"com.fnshop.test.happened"
    finally:
        dead.close()


def test_transient_failures_are_retried_with_exponential_backoff_then_dead_lettered(dispatch, sink, producer, bootstrap):
    sink.answer = lambda headers: 503 if headers.get("ce-id", "").startswith("flaky") else 202
    dead = TopicReader(",".join(bootstrap), DEAD)
    try:
        dispatcher = dispatch(retry=3, delay="PT0.2S")
        flaky, after = f"flaky-{uuid.uuid4().hex[:6]}", f"after-{uuid.uuid4().hex[:6]}"
        send(producer, flaky, key="k-flaky")
        send(producer, after, key="k-flaky")
        sink.wait_for(lambda: after in sink.ids(), what="the event after the flaky one")
        times = [at for headers, _, at, _ in sink.received if headers["ce-id"] == flaky]
        assert len(times) == 4  # the first attempt and `retry: 3`
        gaps = [b - a for a, b in zip(times, times[1:])]
        for gap, expected in zip(gaps, (0.2, 0.4, 0.8)):  # backoffDelay * 2^n
            assert expected - 0.02 <= gap <= expected + 0.5, gaps
        records = dead.records(10, until=lambda seen: any(dict(r.headers).get("ce_id") == flaky.encode() for r in seen))
        assert dict(next(r for r in records if dict(r.headers).get("ce_id") == flaky.encode()).headers)[
            "ce_knativeerrorcode"] == b"503"
        assert dispatcher.stats()["test-source"] == {"delivered": 1, "retries": 3, "dead_lettered": 1, "dropped": 0}
    finally:
        dead.close()


@pytest.mark.parametrize("ordering", ["ordered", "unordered"])
def test_ordering(dispatch, sink, producer, ordering):
    sink.delay = 0.05
    dispatch(ordering=ordering)
    ids = [f"{ordering}-{uuid.uuid4().hex[:6]}-{i}" for i in range(8)]
    for event_id in ids:
        send(producer, event_id, key="one-partition")  # one key: one partition
    sink.wait_for(lambda: set(ids) <= set(sink.ids()), what="all events")
    if ordering == "ordered":
        assert sink.peak == 1 and sink.ids() == ids  # one in flight, in offset order
    else:
        assert sink.peak > 1  # the poll's records of the partition went out together


def test_a_stop_during_retries_commits_nothing_and_a_restart_redelivers(dispatch, sink, producer, bootstrap):
    sink.answer = lambda headers: 503
    dispatcher = dispatch(retry=5, delay="PT2S")
    event_id = f"interrupted-{uuid.uuid4().hex[:6]}"
    send(producer, event_id, key="k-stop")
    sink.wait_for(lambda: event_id in sink.ids(), what="the first attempt")
    dispatcher.stop()  # during the 2 s backoff
    assert committed_lag(bootstrap, dispatcher.group) == 1
    sink.answer = lambda headers: 202
    dispatch(group=dispatcher.group)
    sink.wait_for(lambda: [h["ce-id"] for h, _, _, s in sink.received if s == 202].count(event_id) == 1,
                  what="the redelivery")
    assert committed_lag(bootstrap, dispatcher.group) in (0, 1)  # the commit follows within a poll


def test_a_backlog_larger_than_a_poll_is_delivered_completely(dispatch, sink, producer, bootstrap):
    """More records than one poll returns, on every partition: the pause/resume path (kafka-python
    3.0.12 parks fetched records of paused partitions and could leave them parked for good)."""
    dispatcher = dispatch(ordering="ordered")
    ids = [f"bulk-{uuid.uuid4().hex[:6]}-{i}" for i in range(1500)]
    for i, event_id in enumerate(ids):
        headers = [("ce_specversion", b"1.0"), ("ce_id", event_id.encode()), ("ce_source", b"/test"),
                   ("ce_type", b"com.fnshop.test.happened"), ("ce_subject", b"s"), ("content-type", b"application/json")]
        producer.send(TOPIC, key=f"k-{i % 30}".encode(), value=b"{}", headers=headers)
    producer.flush()
    sink.wait_for(lambda: len(set(sink.ids()) & set(ids)) == len(ids), timeout=60, what="the whole backlog")
    deadline = time.monotonic() + 10
    while committed_lag(bootstrap, dispatcher.group) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert committed_lag(bootstrap, dispatcher.group) == 0
