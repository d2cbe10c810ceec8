"""The two ways events enter Kafka, on the real stack.

The HTTP ingest (the local KafkaSink receiver): binary and structured CloudEvents in, binary
records out (key = partitionkey, else subject), 202 only after Kafka's ack, 400 problem+json for
an event that breaks its contract, 404 for an unknown sink.

The outbox relay: nothing from a rolled-back transaction; events committed while Kafka is down
wait in PostgreSQL and all go out once it is back (none lost); the producer is idempotent with
acks=all. Stopping Kafka is restored in a finally block.
"""
from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from dev.eventing.ingest import Ingest
from dev.eventing.manifests import load
from fnkit import db, kafka, outbox
from fnkit.events import Event
from tests.e2e.support import decode, offsets_now, reader_from, stopped, wait_for
from tests.support.kafka_events import TopicReader

SINK = "/fnshop/products"  # the products KafkaSink: no consumer reacts to what these tests send


def product_deleted(product_id: str | None = None) -> dict:
    product_id = product_id or str(uuid.uuid4())
    return {"id": product_id, "sku": f"TEST-{product_id[:8]}"}


@pytest.fixture(scope="module")
def ingest(stack_env):
    server = Ingest(load(), port=0).start()
    yield server
    server.stop()
    kafka.reset()


@pytest.fixture()
def products_topic(stack_env):
    reader = TopicReader(stack_env["KAFKA_BOOTSTRAP_SERVERS"], "products")
    yield reader
    reader.close()


def binary_headers(event_id: str, subject: str, **extra) -> dict[str, str]:
    return {"ce-specversion": "1.0", "ce-id": event_id, "ce-source": "/test/ingest", "ce-subject": subject,
            "ce-type": "com.fnshop.product.deleted", "Content-Type": "application/json", **extra}


def test_binary_and_structured_events_are_stored_in_binary_mode(ingest, products_topic):
    data = product_deleted()
    binary = requests.post(ingest.url + SINK, data=json.dumps(data), timeout=10,
                           headers=binary_headers("ing-1-" + data["id"], data["id"], **{"ce-partitionkey": "key-1"}))
    assert binary.status_code == 202
    other = product_deleted()
    structured = requests.post(ingest.url + SINK, timeout=10, headers={"Content-Type": "application/cloudevents+json"},
                               data=json.dumps({"specversion": "1.0", "id": "ing-2-" + other["id"], "source": "/test/ingest",
                                                "type": "com.fnshop.product.deleted", "subject": other["id"],
                                                "datacontenttype": "application/json", "data": other}))
    assert structured.status_code == 202
    records = products_topic.records(10, until=lambda seen: len([r for r in seen if dict(r.headers).get(
        "ce_source") == b"/test/ingest"]) >= 2)
    ours = {dict(r.headers)["ce_id"].decode(): r for r in records if dict(r.headers).get("ce_source") == b"/test/ingest"}
    first, second = ours["ing-1-" + data["id"]], ours["ing-2-" + other["id"]]
    assert first.key == b"key-1" and second.key == other["id"].encode()  # partitionkey, else the subject
    assert decode(first).data == data and decode(second).data == other
    assert dict(second.headers)["content-type"] == b"application/json"


@pytest.mark.parametrize("headers, body, field", [
    ({"ce-type": "com.fnshop.unknown"}, product_deleted(), "type"),
    ({}, {"id": "not-a-uuid", "sku": "X"}, "data.id"),
    ({"ce-subject": ""}, product_deleted(), "subject"),
])
def test_events_that_break_their_contract_are_400(ingest, headers, body, field):
    answer = requests.post(ingest.url + SINK, data=json.dumps(body), timeout=10,
                           headers={**binary_headers(str(uuid.uuid4()), "s"), **headers})
    assert answer.status_code == 400 and answer.headers["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in answer.json()["errors"]}


def test_not_a_cloudevent_and_unknown_sinks(ingest):
    assert requests.post(ingest.url + SINK, json={"hello": 1}, timeout=10).status_code == 400
    assert requests.post(ingest.url + "/fnshop/nope", data="{}", timeout=10,
                         headers=binary_headers("x", "s")).status_code == 404
    assert requests.get(ingest.url + "/healthz", timeout=10).json()["status"] == "ok"


def test_the_producer_is_idempotent_and_waits_for_every_replica(stack_env):
    config = kafka.producer().config
    assert config["acks"] in (-1, "all") and config["enable_idempotence"] is True


def enqueue(product_id: str, commit: bool = True) -> str:
    event = Event("com.fnshop.product.deleted", product_id, product_deleted(product_id))
    try:
        with db.transaction() as cur:
            outbox.enqueue(cur, "products", event)
            if not commit:
                raise RuntimeError("roll back")
    except RuntimeError:
        pass
    return event.id


def test_rolled_back_events_are_never_published(relay, products_topic):
    rolled_back = enqueue(str(uuid.uuid4()), commit=False)
    marker = enqueue(str(uuid.uuid4()))
    records = products_topic.records(15, until=lambda seen: any(dict(r.headers)["ce_id"] == marker.encode() for r in seen))
    ids = {dict(r.headers)["ce_id"].decode() for r in records}
    assert marker in ids and rolled_back not in ids


def test_events_committed_while_kafka_is_down_all_go_out_once_it_is_back(relay, stack_env, pg):
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    kafka.reset()  # no Kafka client of this process lives through the outage (see offsets_now)
    before = offsets_now(bootstrap, "products")
    ids, one_product = [], str(uuid.uuid4())
    with stopped("kafka"):
        for n in range(20):  # every other event is about one product: those must keep their order
            ids.append(enqueue(one_product if n % 2 else str(uuid.uuid4())))
        time.sleep(1.0)  # the relay tries and fails meanwhile; the rows wait
        with pg.cursor() as cur:
            cur.execute("SELECT count(*) FROM outbox WHERE event_id = ANY(%s::uuid[]) AND published_at IS NULL", (ids,))
            assert cur.fetchone()[0] == 20
        back = time.monotonic()
    wanted = {i.encode() for i in ids}
    reader = reader_from(bootstrap, "products", before)
    try:
        records = reader.records(60, until=lambda seen: wanted <= {dict(r.headers)["ce_id"] for r in seen})
    finally:
        reader.close()
    seen = [dict(r.headers)["ce_id"] for r in records if dict(r.headers)["ce_id"] in wanted]
    recovered = time.monotonic() - back
    assert set(seen) == wanted, f"{len(wanted - set(seen))} of 20 events lost"
    same_entity = [ids.index(i.decode()) for i in dict.fromkeys(seen) if ids.index(i.decode()) % 2]
    assert same_entity == sorted(same_entity) and len(same_entity) == 10  # one key, one partition: commit order
    print(f"\noutbox backlog of 20 published {recovered:.1f}s after Kafka was back "
          f"({len(seen) - len(set(seen))} duplicate records)")
    wait_for(lambda: _published(pg, ids), timeout=15, what="published_at on every row")


def _published(pg, ids) -> bool:
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM outbox WHERE event_id = ANY(%s::uuid[]) AND published_at IS NOT NULL", (ids,))
        return cur.fetchone()[0] == len(ids)
