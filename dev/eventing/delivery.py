"""One Kafka record to one sink, as the Knative Kafka data plane does it.

- A record that already is a CloudEvent (binary `ce_` headers, or structured JSON) is passed on
  as it is; any other record becomes a `dev.knative.kafka.event` with id `partition:<p>/offset:<o>`.
- It is POSTed in binary mode: `ce-` headers, the data as the body.
- Retried (knative/specs data-plane.md, as eventing-kafka-broker implements it) on connection
  errors, timeouts, 5xx, 404, 408, 409 and 429, after the declared backoff; any other non-2xx
  fails at once. What fails is sent to the dead-letter sink with the original event plus the
  `knativeerrordest`, `knativeerrorcode` and `knativeerrordata` (base64, at most 1024 bytes of the
  answer) extensions Knative adds.
"""
from __future__ import annotations

import base64
import http.client
import json
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

RETRYABLE = frozenset({404, 408, 409, 429})
ERROR_DATA_MAX = 1024


@dataclass(frozen=True)
class Event:
    """A CloudEvent in binary form: attributes (ce-* without the prefix), content type, body."""

    attributes: dict[str, str]
    content_type: str | None
    body: bytes

    @property
    def id(self) -> str:
        return self.attributes.get("id", "")

    def http_headers(self) -> dict[str, str]:
        headers = {f"ce-{name}": value for name, value in self.attributes.items()}
        if self.content_type:
            headers["Content-Type"] = self.content_type
        return headers

    def kafka_headers(self, extra: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
        attrs = {**self.attributes, **(extra or {})}
        headers = [(f"ce_{name}", str(value).encode()) for name, value in attrs.items()]
        if self.content_type:
            headers.append(("content-type", self.content_type.encode()))
        return headers


def from_record(record, source_name: str, namespace: str) -> Event:
    headers = {name.lower(): (value or b"").decode(errors="replace") for name, value in record.headers or []}
    content_type = headers.get("content-type")
    if "ce_specversion" in headers:
        attrs = {name[3:]: value for name, value in headers.items() if name.startswith("ce_")}
        return Event(attrs, content_type, record.value or b"")
    if content_type and content_type.startswith("application/cloudevents+json"):
        try:
            return _from_structured(json.loads(record.value))
        except (ValueError, KeyError, TypeError):
            pass  # not a CloudEvent after all: wrap it like any other record
    attrs = {"specversion": "1.0", "type": "dev.knative.kafka.event",
             "source": f"/apis/v1/namespaces/{namespace}/kafkasources/{source_name}#{record.topic}",
             "id": f"partition:{record.partition}/offset:{record.offset}",
             "subject": f"partition:{record.partition}#{record.offset}"}
    if record.key is not None:
        attrs["key"] = record.key.decode(errors="replace") if isinstance(record.key, bytes) else str(record.key)
    return Event(attrs, content_type or "application/octet-stream", record.value or b"")


def _from_structured(envelope: dict) -> Event:
    attrs = {k: str(v) for k, v in envelope.items() if k not in ("data", "data_base64", "datacontenttype")}
    if not {"specversion", "id", "source", "type"} <= set(attrs):
        raise KeyError("not a CloudEvent")
    content_type = envelope.get("datacontenttype", "application/json")
    if "data_base64" in envelope:
        body = base64.b64decode(envelope["data_base64"])
    elif isinstance(envelope.get("data"), (str, bytes)) and not content_type.endswith("json"):
        body = envelope["data"].encode() if isinstance(envelope["data"], str) else envelope["data"]
    else:
        body = json.dumps(envelope.get("data")).encode() if "data" in envelope else b""
    return Event(attrs, content_type, body)


@dataclass(frozen=True)
class Outcome:
    status: int | None   # None: no HTTP answer (refused, reset, timed out)
    body: bytes = b""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status >= 500 or self.status in RETRYABLE

    def error_extensions(self, destination: str) -> dict[str, str]:
        data = self.body if self.status is not None else self.error.encode()
        extensions = {"knativeerrordest": destination,
                      "knativeerrordata": base64.b64encode(data[:ERROR_DATA_MAX]).decode()}
        if self.status is not None:
            extensions["knativeerrorcode"] = str(self.status)
        return extensions


class HttpSender:
    """POSTs events over kept-alive HTTP/1.1 connections, one per thread and host."""

    def __init__(self):
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []  # every thread's, for close()
        self._lock = threading.Lock()

    def post(self, url: str, event: Event, timeout: float) -> Outcome:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: reconnect once
            conn = self._connection(parts, timeout)
            try:
                conn.request("POST", path, body=event.body, headers=event.http_headers())
                answer = conn.getresponse()
                return Outcome(answer.status, answer.read())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(parts)
                if attempt == 2:
                    return Outcome(None, error=f"{type(exc).__name__}: {exc}")
            except (OSError, http.client.HTTPException) as exc:  # refused, timed out, garbled
                self._drop(parts)
                return Outcome(None, error=f"{type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

    def _connection(self, parts, timeout: float) -> http.client.HTTPConnection:
        pool = self._local.__dict__.setdefault("pool", {})
        key = (parts.scheme, parts.netloc)
        conn = pool.get(key)
        if conn is None:
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = pool[key] = cls(parts.hostname, parts.port, timeout=timeout)
            with self._lock:
                self._opened.append(conn)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop(self, parts) -> None:
        conn = self._local.__dict__.get("pool", {}).pop((parts.scheme, parts.netloc), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()


def deliver(event: Event, url: str, delivery, sender: HttpSender, stop: threading.Event,
            on_retry=lambda attempt, outcome, delay: None) -> tuple[Outcome, int]:
    """(last outcome, attempts made): the first success, a failure that is not retryable, the
    last failure once `delivery.retry` retries are spent, or whatever stood when `stop` was set."""
    attempt, outcome = 0, Outcome(None, error="not attempted")
    while True:
        outcome = sender.post(url, event, delivery.timeout)
        attempt += 1
        if outcome.ok or not outcome.retryable or attempt > delivery.retry or stop.is_set():
            return outcome, attempt
        delay = delivery.delay_before_retry(attempt - 1)
        on_retry(attempt, outcome, delay)
        if stop.wait(delay):
            return outcome, attempt
