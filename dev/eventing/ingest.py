"""`python -m dev.eventing ingest`: the local stand-in for Knative's KafkaSink receiver.

Every KafkaSink of eventing/ is addressable at `POST /<namespace>/<name>`, the path the
cluster's kafka-sink-ingress uses. A request carries one CloudEvent, binary (ce- headers) or
structured (application/cloudevents+json). It is checked as fnshop producers check their own
events (a known type, data matching its JSON Schema, a subject), then written to the sink's
topic in binary mode with the `partitionkey` extension (else the subject) as the record key.
202 once Kafka acknowledged it (acks=all); 400 problem+json for a bad event; 404 for an
unknown sink; 503 when Kafka did not acknowledge (nothing was stored: send it again).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fnkit import events, kafka, logs
from fnkit.consumer import received
from fnkit.errors import Problem

from .manifests import Eventing

log = logs.get("dev.eventing.ingest")
MAX_BODY_BYTES = 1 << 20


def accept(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], object]:
    """(attributes, data) of a valid event; a 400 Problem otherwise."""
    from cloudevents.conversion import to_dict
    from cloudevents.exceptions import GenericException
    from cloudevents.http import from_http

    try:
        event = from_http(headers, body)
    except GenericException as exc:
        raise Problem(400, "Invalid event", f"not a CloudEvent: {exc}", slug="invalid-event") from None
    received(event)  # the consumers' own check: type, schema, subject
    attributes = {k: str(v) for k, v in to_dict(event).items() if k not in ("data", "data_base64")}
    attributes.setdefault("datacontenttype", "application/json")  # to_binary needs it (field notes)
    attributes.setdefault("partitionkey", attributes["subject"])
    return attributes, event.data


class Ingest:
    def __init__(self, eventing: Eventing, host: str = "127.0.0.1", port: int = 8090, ack_timeout: float = 10.0):
        self.topics = {f"/{namespace}/{name}": topic for (namespace, name), topic in eventing.sinks.items()}
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: senders reuse their connection
            disable_nagle_algorithm = True  # else every answer stalls ~40 ms (field notes)

            def do_POST(self):
                topic = ingest.topics.get(self.path.split("?", 1)[0].rstrip("/"))
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    return self._problem(Problem(413, "Payload too large", f"at most {MAX_BODY_BYTES} bytes"), close=True)
                body = self.rfile.read(length) if length else b""
                if topic is None:
                    return self._problem(Problem(404, "Not found", f"no KafkaSink at {self.path}"))
                try:
                    attributes, data = accept(dict(self.headers.items()), body)
                    kafka.send(topic, events.to_kafka(attributes, data)).get(timeout=ack_timeout)
                except Problem as problem:
                    return self._problem(problem)
                except Exception as exc:  # Kafka did not ack: the sender must retry
                    log.warning("event not stored", extra={"topic": topic, "error": f"{type(exc).__name__}: {exc}"})
                    kafka.reset()
                    return self._problem(Problem(503, "Service unavailable", "Kafka did not acknowledge the event",
                                                 headers={"Retry-After": "1"}))
                self._answer(202, b"", None)

            def do_GET(self):
                if self.path == "/healthz":
                    return self._answer(200, json.dumps({"status": "ok", "sinks": sorted(ingest.topics)}).encode(),
                                        "application/json")
                self._problem(Problem(404, "Not found", "POST events to /<namespace>/<kafkasink>"))

            def _problem(self, problem: Problem, close: bool = False):
                self._answer(problem.status, json.dumps(problem.to_dict(instance=self.path)).encode(),
                             "application/problem+json", {**problem.headers, **({"Connection": "close"} if close else {})})

            def _answer(self, status: int, payload: bytes, content_type: str | None, headers: dict | None = None):
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"

    def start(self) -> "Ingest":
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
