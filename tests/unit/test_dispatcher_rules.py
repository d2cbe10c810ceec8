"""The local eventing's rules without sockets: manifest reading (durations, destinations),
record -> CloudEvent, which answers are retried and how long it waits, dead-letter extensions,
cron schedules, and that the repository's own eventing manifests resolve."""
from __future__ import annotations

import base64
import json
import threading
from collections import namedtuple
from datetime import datetime, timezone

import pytest

from dev.eventing.delivery import Event, Outcome, deliver, from_record
from dev.eventing.manifests import Delivery, EventingError, load, seconds
from dev.eventing.pinger import matcher

Record = namedtuple("Record", "topic partition offset key value headers")


def test_iso_durations():
    assert seconds("PT0.5S") == 0.5 and seconds("PT2M") == 120 and seconds("P1DT1H") == 90000
    assert seconds("PT1M30S") == 90
    for bad in ("0.5s", "P", "PT", "1S", "PTS"):
        with pytest.raises(EventingError):
            seconds(bad)


def test_backoff_is_delay_times_two_to_the_n_or_linear():
    exponential = Delivery(retry=4, backoff_policy="exponential", backoff_delay=0.5)
    assert [exponential.delay_before_retry(n) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    linear = Delivery(retry=3, backoff_policy="linear", backoff_delay=0.5)
    assert [linear.delay_before_retry(n) for n in range(3)] == [0.5, 1.0, 1.5]


SOURCES = """
apiVersion: sources.knative.dev/v1
kind: KafkaSource
metadata: {name: shop-consumer, namespace: fnshop}
spec:
  topics: [orders]
  consumerGroup: shop-group
  initialOffset: earliest
  ordering: unordered
  sink: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: shop-consumer}}
  delivery:
    retry: 3
    backoffPolicy: linear
    backoffDelay: PT0.2S
    timeout: PT5S
    deadLetterSink: {ref: {apiVersion: eventing.knative.dev/v1alpha1, kind: KafkaSink, name: shop-dlq}}
---
apiVersion: eventing.knative.dev/v1alpha1
kind: KafkaSink
metadata: {name: shop-dlq, namespace: fnshop}
spec: {topic: shop.dead-letters}
---
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata: {name: tick, namespace: fnshop}
spec:
  schedule: "*/5 * * * *"
  sink: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: job}, uri: /internal/job}
"""


def test_manifests_are_read_and_destinations_resolved(tmp_path):
    (tmp_path / "a.yaml").write_text(SOURCES)
    eventing = load(tmp_path)
    source = eventing.sources[0]
    assert (source.name, source.topics, source.consumer_group, source.initial_offset, source.ordered) == (
        "shop-consumer", ("orders",), "shop-group", "earliest", False)
    assert source.delivery == Delivery(3, "linear", 0.2, 5.0, source.delivery.dead_letter)
    gateway = "http://127.0.0.1:8080"
    assert eventing.resolve(source.sink, "fnshop", gateway, {}).url == \
        "http://127.0.0.1:8080/_runtime/services/shop-consumer/"
    assert eventing.resolve(source.sink, "fnshop", gateway, {"shop-consumer": "http://127.0.0.1:9/x"}).url == \
        "http://127.0.0.1:9/x/"
    assert eventing.resolve(source.delivery.dead_letter, "fnshop", gateway, {}).topic == "shop.dead-letters"
    ping = eventing.pings[0]
    assert eventing.resolve(ping.sink, "fnshop", gateway, {}).url == \
        "http://127.0.0.1:8080/_runtime/services/job/internal/job"
    assert eventing.resolve({"uri": "http://elsewhere/in"}, "fnshop", gateway, {}).url == "http://elsewhere/in"
    with pytest.raises(EventingError):
        eventing.resolve({"ref": {"kind": "KafkaSink", "name": "missing"}}, "fnshop", gateway, {})


def test_the_repository_manifests_resolve():
    eventing = load()
    assert {s.name for s in eventing.sources} == {"orders-apply-payment", "inventory-apply-order",
                                                  "notifications-record", "recommendations-record-copurchases"}
    topics = set(eventing.sinks.values())
    for source in eventing.sources:
        assert set(source.topics) <= topics, source.name
        assert eventing.resolve(source.sink, source.namespace, "http://gw", {}).url == f"http://gw/_runtime/services/{source.name}/"
        assert eventing.resolve(source.delivery.dead_letter, source.namespace, "http://gw", {}).topic == \
            f"{source.name}.dead-letters"
        assert source.initial_offset == "earliest" and source.delivery.retry >= 5
        assert source.delivery.timeout < 60  # below the consumer Services' timeoutSeconds
    assert {"orders-cancel-overdue", "inventory-expire-reservations"} <= {p.name for p in eventing.pings}
    for ping in eventing.pings:
        assert eventing.resolve(ping.sink, ping.namespace, "http://gw", {}).url.startswith(
            f"http://gw/_runtime/services/{ping.sink['ref']['name']}/internal/"), ping.name


def test_binary_records_pass_through_as_they_are():
    record = Record("orders", 1, 7, b"order-1", b'{"a": 1}', [
        ("ce_specversion", b"1.0"), ("ce_id", b"e-1"), ("ce_type", b"com.fnshop.order.created"),
        ("ce_source", b"/fnshop/orders-create"), ("ce_subject", b"order-1"), ("content-type", b"application/json")])
    event = from_record(record, "src", "fnshop")
    assert event.http_headers() == {"ce-specversion": "1.0", "ce-id": "e-1", "ce-type": "com.fnshop.order.created",
                                    "ce-source": "/fnshop/orders-create", "ce-subject": "order-1",
                                    "Content-Type": "application/json"}
    assert event.body == b'{"a": 1}'


def test_structured_records_become_binary():
    envelope = {"specversion": "1.0", "id": "e-2", "type": "t", "source": "/s", "datacontenttype": "application/json",
                "data": {"x": 1}}
    event = from_record(Record("orders", 0, 1, None, json.dumps(envelope).encode(),
                               [("content-type", b"application/cloudevents+json")]), "src", "fnshop")
    assert event.attributes == {"specversion": "1.0", "id": "e-2", "type": "t", "source": "/s"}
    assert (event.content_type, json.loads(event.body)) == ("application/json", {"x": 1})


def test_plain_records_are_wrapped_like_knative_does():
    event = from_record(Record("orders", 2, 41, b"k", b"raw", []), "src", "fnshop")
    assert event.attributes == {"specversion": "1.0", "type": "dev.knative.kafka.event",
                                "source": "/apis/v1/namespaces/fnshop/kafkasources/src#orders",
                                "id": "partition:2/offset:41", "subject": "partition:2#41", "key": "k"}
    assert event.content_type == "application/octet-stream" and event.body == b"raw"


@pytest.mark.parametrize("status, retried", [(None, True), (500, True), (503, True), (404, True), (408, True),
                                             (409, True), (429, True), (400, False), (401, False), (413, False),
                                             (415, False), (422, False)])
def test_which_answers_are_retried(status, retried):
    assert Outcome(status).retryable is retried


def test_dead_letter_extensions_say_why():
    outcome = Outcome(422, b'{"title": "Event cannot be applied"}' + b"x" * 2000)
    extensions = outcome.error_extensions("http://gw/_runtime/services/c/")
    assert extensions["knativeerrordest"] == "http://gw/_runtime/services/c/"
    assert extensions["knativeerrorcode"] == "422"
    data = base64.b64decode(extensions["knativeerrordata"])
    assert data.startswith(b'{"title"') and len(data) == 1024
    timeout = Outcome(None, error="TimeoutError: timed out").error_extensions("http://x/")
    assert "knativeerrorcode" not in timeout and base64.b64decode(timeout["knativeerrordata"]) == b"TimeoutError: timed out"


class FakeSender:
    def __init__(self, answers):
        self.answers, self.posts = list(answers), 0

    def post(self, url, event, timeout):
        self.posts += 1
        return self.answers.pop(0) if self.answers else Outcome(200)


class FakeStop(threading.Event):
    """Records the backoff waits instead of sleeping them."""

    def __init__(self):
        super().__init__()
        self.waits = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        return self.is_set()


EVENT = Event({"id": "e"}, "application/json", b"{}")


def test_deliver_retries_with_backoff_then_gives_up():
    stop, sender = FakeStop(), FakeSender([Outcome(503)] * 10)
    outcome, attempts = deliver(EVENT, "http://x/", Delivery(retry=3, backoff_delay=0.1), sender, stop)
    assert (outcome.status, attempts, sender.posts) == (503, 4, 4)
    assert stop.waits == [0.1, 0.2, 0.4]


def test_deliver_stops_at_success_or_a_final_answer():
    stop = FakeStop()
    outcome, attempts = deliver(EVENT, "http://x/", Delivery(retry=5, backoff_delay=0.1),
                                FakeSender([Outcome(None, error="refused"), Outcome(202)]), stop)
    assert (outcome.status, attempts) == (202, 2)
    outcome, attempts = deliver(EVENT, "http://x/", Delivery(retry=5), FakeSender([Outcome(400)]), FakeStop())
    assert (outcome.status, attempts) == (400, 1)


def test_deliver_returns_early_when_stopped():
    stop = FakeStop()
    stop.set()
    outcome, attempts = deliver(EVENT, "http://x/", Delivery(retry=5, backoff_delay=10),
                                FakeSender([Outcome(503)] * 5), stop)
    assert (outcome.status, attempts) == (503, 1)


def test_cron_schedules():
    every_five = matcher("*/5 * * * *")
    at = lambda h, m, d=1, mo=1: datetime(2026, mo, d, h, m, tzinfo=timezone.utc)  # noqa: E731
    assert every_five(at(10, 0)) and every_five(at(10, 55)) and not every_five(at(10, 3))
    weekdays_9_to_5 = matcher("0 9-17 * * 1-5")
    assert weekdays_9_to_5(at(9, 0, d=5)) and not weekdays_9_to_5(at(9, 0, d=4))  # Jan 5 2026 is a Monday
    assert matcher("30 2 1,15 * *")(at(2, 30, d=15)) and not matcher("30 2 1,15 * *")(at(2, 30, d=14))
    assert matcher("0 0 * * 7")(at(0, 0, d=4))  # 7 is Sunday too
    for bad in ("* * * *", "61 * * * *", "*/0 * * * *", "a * * * *"):
        with pytest.raises(ValueError):
            matcher(bad)
