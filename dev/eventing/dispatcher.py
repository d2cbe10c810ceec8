"""The local KafkaSource data plane: for every KafkaSource manifest, consume its topics from real
Kafka with its consumerGroup and deliver each record to its sink (see `delivery`).

Per source, one thread owns the KafkaConsumer (it is not thread-safe): it polls, hands each
partition's records to a worker and pauses that partition until the worker is done, then
commits the offset after the last record handled and resumes it. So:
- `ordering: ordered`: one event in flight per partition, the next waits for the previous one's
  outcome (the partitions of a source run side by side);
- `ordering: unordered`: the records a poll returned for a partition are delivered concurrently;
- an offset is committed only once its record was delivered or dead-lettered: a crash or a stop
  redelivers the rest, never skips it (consumers are idempotent on the CloudEvent id);
- a dead-letter sink that cannot be written (Kafka away) is retried until it can: unlike the
  cluster's data plane, which then drops the event, nothing is lost here.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from fnkit import logs

from .delivery import Event, HttpSender, Outcome, deliver, from_record
from .manifests import Eventing, KafkaSource

log = logs.get("dev.eventing.dispatcher")
MAX_POLL_RECORDS = 500
UNORDERED_CONCURRENCY = 16
DEAD_LETTER_RETRY_SECONDS = 1.0
REVOKE_WAIT_SECONDS = 30.0


@dataclass
class Stats:
    delivered: int = 0
    retries: int = 0
    dead_lettered: int = 0
    dropped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


class SourceDispatcher:
    def __init__(self, source: KafkaSource, eventing: Eventing, bootstrap: list[str], gateway: str,
                 service_urls: dict[str, str], producer, stop: threading.Event):
        self.source, self.bootstrap, self.producer, self.stop = source, bootstrap, producer, stop
        self.sink = eventing.resolve(source.sink, source.namespace, gateway, service_urls)
        dead = source.delivery.dead_letter
        self.dead_letter = eventing.resolve(dead, source.namespace, gateway, service_urls) if dead else None
        self.sender = HttpSender()
        self.stats = Stats()
        self.assigned = threading.Event()  # set once the group gave this consumer its partitions
        self._in_flight: dict = {}
        self._partitions = ThreadPoolExecutor(32, thread_name_prefix=f"{source.name}-p")
        self._records = ThreadPoolExecutor(UNORDERED_CONCURRENCY, thread_name_prefix=f"{source.name}-r")
        self._consumer = None
        self.thread = threading.Thread(target=self._run, name=f"source-{source.name}", daemon=True)

    # -- the consumer thread -------------------------------------------------------------------
    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._consume()
            except Exception as exc:  # Kafka away at start-up, or a bug: start over after a pause
                log.warning("source restarting", extra={"source": self.source.name, "error": f"{type(exc).__name__}: {exc}"})
                self.stop.wait(2.0)

    def _consume(self) -> None:
        from kafka import ConsumerRebalanceListener, KafkaConsumer

        dispatcher = self

        class Rebalance(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                dispatcher._settle(wait=True, only=set(revoked))

            def on_partitions_assigned(self, assigned):
                log.info("partitions assigned", extra={"source": dispatcher.source.name,
                                                       "partitions": sorted(f"{tp.topic}-{tp.partition}" for tp in assigned)})
                dispatcher.assigned.set()

        self._consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.source.consumer_group, enable_auto_commit=False,
            auto_offset_reset=self.source.initial_offset, max_poll_records=MAX_POLL_RECORDS,
            reconnect_backoff_max_ms=1000,  # back within a second of Kafka (the default waits up to 30 s)
            client_id=f"fnshop-dispatcher-{self.source.name}")
        try:
            self._consumer.subscribe(list(self.source.topics), listener=Rebalance())
            while not self.stop.is_set():
                # Short polls while workers run: a finished partition is resumed (and its next
                # records fetched) within milliseconds instead of after a full idle poll.
                for tp, records in self._consumer.poll(timeout_ms=5 if self._in_flight else 100).items():
                    self._consumer.pause(tp)
                    self._in_flight[tp] = self._partitions.submit(self._partition, records)
                self._settle(wait=False)
            self._settle(wait=True)
        finally:
            self._consumer.close()

    def _settle(self, wait: bool, only: set | None = None) -> None:
        """Commit what finished partitions handled, and resume (or rewind) them."""
        for tp, future in list(self._in_flight.items()):
            if only is not None and tp not in only:
                continue
            if wait:
                try:
                    future.result(timeout=REVOKE_WAIT_SECONDS)
                except Exception:
                    pass
            if not future.done():
                continue  # still delivering after the wait: its records come again to the next owner
            del self._in_flight[tp]
            if tp not in self._consumer.assignment():
                continue  # revoked while a worker outlived the wait: the new owner delivers them again
            committed, first_unhandled = _result(future)
            if committed is not None:
                self._commit(tp, committed, wait=wait)
            if only is None and not self.stop.is_set():
                # Reposition explicitly (from the first record not handled, if any, it comes again)
                # and drop what kafka-python parked for the paused partition: 3.0.12 restores
                # parked records only while its in-line slot is None, but a drained slot stays
                # set, so a resumed partition could stay parked, and unfetched, for good.
                next_offset = first_unhandled if first_unhandled is not None else committed
                if next_offset is not None:
                    self._consumer.seek(tp, next_offset)
                _forget_parked(self._consumer, tp)
                self._consumer.resume(tp)

    def _commit(self, tp, offset: int, wait: bool) -> None:
        """Asynchronous while running (a lost commit only means a redelivery, which consumers
        absorb); synchronous when partitions are revoked or the dispatcher stops."""
        from kafka.structs import OffsetAndMetadata

        def failed(error) -> None:
            log.warning("offset commit failed", extra={"source": self.source.name, "partition": str(tp),
                                                       "error": f"{type(error).__name__}: {error}"})

        offsets = {tp: OffsetAndMetadata(offset, "", -1)}
        try:
            if wait:
                self._consumer.commit(offsets)
            else:
                self._consumer.commit_async(offsets, callback=lambda _, result: isinstance(result, Exception)
                                            and failed(result))
        except Exception as exc:  # not fatal: the records are redelivered after a restart
            failed(exc)

    # -- workers ----------------------------------------------------------------------------
    def _partition(self, records: list) -> tuple[int | None, int | None]:
        """(offset to commit, first offset not handled): the records of one poll, one partition."""
        if self.source.ordered or len(records) == 1:
            handled = []
            for record in records:
                if self.stop.is_set() or not self._handle(record):
                    break
                handled.append(record)
        else:
            outcomes = list(self._records.map(self._handle, records))
            handled = records[:outcomes.index(False)] if False in outcomes else records
        committed = handled[-1].offset + 1 if handled else None
        first_unhandled = records[len(handled)].offset if len(handled) < len(records) else None
        return committed, first_unhandled

    def _handle(self, record) -> bool:
        """Deliver one record, dead-lettering it when that fails; False if it must come again."""
        event = from_record(record, self.source.name, self.source.namespace)
        if self.sink.topic:
            return self._write(self.sink.topic, record, event, {})
        outcome, attempts = deliver(event, self.sink.url, self.source.delivery, self.sender, self.stop,
                                    on_retry=lambda n, o, delay: self._retrying(event, n, o, delay))
        if outcome.ok:
            self.stats.add(delivered=1)
            return True
        if self.stop.is_set() and outcome.retryable and attempts <= self.source.delivery.retry:
            return False  # interrupted, not exhausted: the next run delivers it again
        return self._dead_letter(record, event, outcome, attempts)

    def _retrying(self, event: Event, attempt: int, outcome: Outcome, delay: float) -> None:
        self.stats.add(retries=1)
        log.info("delivery failed, retrying", extra={
            "source": self.source.name, "event_id": event.id, "event_type": event.attributes.get("type"),
            "attempt": attempt, "status": outcome.status, "error": outcome.error, "retry_in_seconds": delay})

    def _dead_letter(self, record, event: Event, outcome: Outcome, attempts: int) -> bool:
        extra = {"source": self.source.name, "event_id": event.id, "event_type": event.attributes.get("type"),
                 "attempts": attempts, "status": outcome.status, "error": outcome.error or outcome.body[:200].decode(errors="replace")}
        if self.dead_letter is None:
            self.stats.add(dropped=1)
            log.error("delivery failed and no deadLetterSink is declared: event dropped", extra=extra)
            return True
        extensions = outcome.error_extensions(self.sink.url)
        if self.dead_letter.topic:
            done = self._write(self.dead_letter.topic, record, event, extensions)
        else:
            done = self._post_dead_letter(Event({**event.attributes, **extensions}, event.content_type, event.body))
        if done:
            self.stats.add(dead_lettered=1)
            log.warning("event dead-lettered", extra={**extra, "dead_letter_sink": str(self.dead_letter)})
        return done

    def _write(self, topic: str, record, event: Event, extensions: dict[str, str]) -> bool:
        """Write to a KafkaSink's topic (binary mode, the record's key), retrying until acked."""
        while not self.stop.is_set():
            try:
                self.producer.send(topic, key=record.key, value=event.body,
                                   headers=event.kafka_headers(extensions)).get(timeout=10)
                return True
            except Exception as exc:
                log.warning("write to KafkaSink topic failed, retrying", extra={
                    "source": self.source.name, "topic": topic, "error": f"{type(exc).__name__}: {exc}"})
                self.stop.wait(DEAD_LETTER_RETRY_SECONDS)
        return False

    def _post_dead_letter(self, event: Event) -> bool:
        while not self.stop.is_set():
            outcome = self.sender.post(self.dead_letter.url, event, self.source.delivery.timeout)
            if outcome.ok:
                return True
            log.warning("dead-letter sink refused the event, retrying", extra={
                "source": self.source.name, "status": outcome.status, "error": outcome.error})
            self.stop.wait(DEAD_LETTER_RETRY_SECONDS)
        return False

    def close(self) -> None:
        self.thread.join(REVOKE_WAIT_SECONDS + 5)
        self._partitions.shutdown(wait=True, cancel_futures=True)
        self._records.shutdown(wait=True, cancel_futures=True)
        self.sender.close()


def _forget_parked(consumer, tp) -> None:
    """Work around the kafka-python 3.0.12 pause bug above (private fields; a no-op without them)."""
    fetcher = getattr(consumer, "_fetcher", None)
    for parked in (getattr(fetcher, "_paused_partition_records", None), getattr(fetcher, "_paused_completed_fetches", None)):
        if isinstance(parked, dict):
            stale = parked.pop(tp, None)
            if stale is not None and hasattr(stale, "drain"):
                stale.drain()


def _result(future: Future) -> tuple[int | None, int | None]:
    try:
        return future.result()
    except Exception as exc:  # a bug in a worker: deliver the batch again rather than skip it
        log.exception("partition worker failed", exc_info=exc)
        return None, None


class Dispatcher:
    """Every KafkaSource of the manifests, each in its own consumer thread."""

    def __init__(self, eventing: Eventing, bootstrap: list[str], gateway: str,
                 service_urls: dict[str, str] | None = None, only: set[str] | None = None):
        from kafka import KafkaProducer

        self.stop_event = threading.Event()
        # Dead letters must survive a broker failover: acks from every in-sync replica, idempotent.
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                      linger_ms=2, request_timeout_ms=5000, max_block_ms=5000,
                                      reconnect_backoff_max_ms=1000)
        self.sources = [SourceDispatcher(s, eventing, bootstrap, gateway, service_urls or {}, self.producer,
                                         self.stop_event)
                        for s in eventing.sources if only is None or s.name in only]

    def start(self) -> "Dispatcher":
        for source in self.sources:
            log.info("dispatching", extra={"source": source.source.name, "topics": list(source.source.topics),
                                           "group": source.source.consumer_group, "sink": str(source.sink),
                                           "ordered": source.source.ordered,
                                           "dead_letter_sink": str(source.dead_letter) if source.dead_letter else None})
            source.thread.start()
        return self

    def wait_assigned(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        return all(s.assigned.wait(max(0.0, deadline - time.monotonic())) for s in self.sources)

    def stats(self) -> dict[str, dict[str, int]]:
        return {s.source.name: {k: getattr(s.stats, k) for k in ("delivered", "retries", "dead_lettered", "dropped")}
                for s in self.sources}

    def stop(self) -> None:
        self.stop_event.set()
        for source in self.sources:
            source.close()
        self.producer.close(timeout=5)
