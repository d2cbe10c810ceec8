"""Fixtures of the checkout tests (cart, inventory, orders, payments), imported by those modules.

Every target runs as its own functions-framework process, as in Knative. Orders reaches the
three inventory reservation targets over real HTTP at one INVENTORY_URL, which in the cluster
is a cluster-local route by path; here `PathRouter` plays that route. Processes started here
get the shared function env plus INVENTORY_URL (and any per-test extras, e.g. a short
RESERVATION_TTL_SECONDS) — the shared `start_function` fixture passes one env to all.
"""
from __future__ import annotations

import http.client
import http.server
import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from cloudevents.kafka import KafkaMessage, from_binary

from fnkit.events import data_errors
from tests.support.kafka_events import TopicReader

from tests.support.processes import FunctionProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
# The fixtures; a test module takes them with `from tests.integration.conftest_checkout import *`.
__all__ = ["start_checkout_function", "shop", "readers"]

CHECKOUT_TARGETS = (
    "cart_get", "cart_add_item", "cart_update_item", "cart_remove_item", "cart_clear",
    "inventory_get", "inventory_set", "inventory_reserve", "inventory_commit", "inventory_release",
    "inventory_expire_reservations",
    "orders_create", "orders_get", "orders_list", "orders_cancel",
    "payments_create", "payments_get", "payments_refund",
)
INVENTORY_ROUTES = (  # (method, path pattern, target), as the cluster-local route maps them
    ("POST", r"^/internal/inventory/reservations/expire/?$", "inventory_expire_reservations"),
    ("POST", r"^/internal/inventory/reservations/?$", "inventory_reserve"),
    ("POST", r"^/internal/inventory/reservations/[^/]+/commit/?$", "inventory_commit"),
    ("POST", r"^/internal/inventory/reservations/[^/]+/release/?$", "inventory_release"),
)
ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH",
           "country": "GB"}
GOOD_CARD = {"type": "card", "card_number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}


class PathRouter:
    """A tiny reverse proxy choosing the upstream by method and path (one route per target)."""

    def __init__(self, routes: list[tuple[str, str, str]]):
        self.routes = [(method, re.compile(pattern), upstream) for method, pattern, upstream in routes]
        router = self

        class Handler(http.server.BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # without it each proxied request stalls ~40 ms

            def _forward(self):
                upstream = router.upstream(self.command, self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if upstream is None:
                    self.send_error(404, "no route")
                    return
                target = urlsplit(upstream)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    reply = conn.getresponse()
                    payload = reply.read()
                finally:
                    conn.close()
                self.send_response(reply.status)
                for name, value in reply.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def upstream(self, method: str, path: str) -> str | None:
        for route_method, pattern, upstream in self.routes:
            if method == route_method and pattern.match(path.split("?")[0]):
                return upstream
        return None

    def start(self) -> "PathRouter":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def start_checkout_function(function_env, log_dir):
    """start(target, **extra_env) -> URL; one process per (target, extra env)."""
    running: dict[tuple, FunctionProcess] = {}
    lock = threading.Lock()
    base: dict[str, str] = {}

    def start(target: str, **extra: str) -> str:
        key = (target, tuple(sorted(extra.items())))
        with lock:
            if key not in running:
                folder = log_dir / ("checkout" if not extra else f"checkout-{len(running)}")
                folder.mkdir(exist_ok=True)
                running[key] = FunctionProcess(target, {**function_env, **base, **extra}, folder).start()
            return running[key].url

    start.base_env = base
    yield start
    for process in running.values():
        process.stop()


@pytest.fixture(scope="session")
def shop(start_checkout_function, relay, issuer):
    """Every checkout target running, orders wired to inventory through the router."""
    router = PathRouter([])
    start_checkout_function.base_env["INVENTORY_URL"] = router.url
    targets = (*CHECKOUT_TARGETS, "products_create")
    with ThreadPoolExecutor(4) as pool:  # start-up is mostly waiting for imports: overlap it
        urls = dict(zip(targets, pool.map(start_checkout_function, targets)))
    router.routes = [(m, re.compile(p), urls[t]) for m, p, t in INVENTORY_ROUTES]
    router.start()
    yield Shop(urls, issuer, router.url)
    router.stop()


class Shop:
    """Small client for the tests: each call goes to the process of its target."""

    def __init__(self, urls: dict[str, str], issuer, inventory_url: str):
        self.urls, self.issuer, self.inventory_url = urls, issuer, inventory_url
        self.admin = issuer.admin_token()

    def customer(self) -> tuple[str, str]:
        """(user id, token) of a fresh customer."""
        user_id = str(uuid.uuid4())
        return user_id, self.issuer.token(user_id=user_id, roles=["customer"])

    @staticmethod
    def auth(token: str | None, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def call(self, target: str, method: str, path: str, token: str | None = None, key: str | None = None, **kw):
        """The response, checked against the API contract (status, headers, body)."""
        kw.setdefault("timeout", 30)
        return conforms(requests.request(method, self.urls[target] + path, headers={**self.auth(token, key),
                                         **kw.pop("headers", {})}, **kw))

    def product(self, unique: str, amount: int = 1250, currency: str = "EUR", stock: int | None = 10) -> str:
        created = self.call("products_create", "POST", "/api/products", self.admin, json={
            "sku": f"CHK-{unique}-{uuid.uuid4().hex[:6].upper()}", "name": f"Mug {unique}", "category": "kitchen",
            "price": {"amount": amount, "currency": currency}})
        assert created.status_code == 201, created.text
        product_id = created.json()["id"]
        if stock is not None:
            self.set_stock(product_id, stock)
        return product_id

    def set_stock(self, product_id: str, available: int) -> dict:
        response = self.call("inventory_set", "PUT", f"/api/inventory/{product_id}", self.admin,
                             json={"available": available})
        assert response.status_code == 200, response.text
        return response.json()

    def stock(self, product_id: str) -> dict:
        return self.call("inventory_get", "GET", f"/api/inventory/{product_id}").json()

    def add(self, user_id: str, token: str, product_id: str, quantity: int = 1):
        return self.call("cart_add_item", "POST", f"/api/cart/{user_id}/items", token,
                         json={"product_id": product_id, "quantity": quantity})

    def order(self, token: str, key: str | None = None, body: dict | None = None):
        return self.call("orders_create", "POST", "/api/orders", token, key or str(uuid.uuid4()),
                         json=body if body is not None else {"shipping_address": ADDRESS})

    def pay(self, token: str, order_id: str, card: dict | None = None, key: str | None = None):
        return self.call("payments_create", "POST", "/api/payments", token, key or str(uuid.uuid4()),
                         json={"order_id": order_id, "payment_method": {**GOOD_CARD, **(card or {})}})

    def ordered(self, unique: str, quantity: int = 1, stock: int = 10, amount: int = 1250) -> tuple[str, str, dict]:
        """(user id, token, order) of a fresh customer who ordered one product."""
        user_id, token = self.customer()
        product_id = self.product(unique, amount=amount, stock=stock)
        assert self.add(user_id, token, product_id, quantity).status_code == 200
        placed = self.order(token)
        assert placed.status_code == 201, placed.text
        return user_id, token, placed.json()


@lru_cache(maxsize=1)
def _contract():
    """The contract as docs/openapi/*.yaml merge it now (the published docs/openapi.yaml may lag)."""
    import importlib.util

    from openapi_core import Config, OpenAPI

    spec = importlib.util.spec_from_file_location("openapi_bundle", ROOT / "dev" / "openapi" / "bundle.py")
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(bundle.bundle(), config=config)


def conforms(response: requests.Response) -> requests.Response:
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    request = response.request.copy()
    parts = urlsplit(request.url)
    request.url = urlunsplit(("http", "localhost", parts.path, parts.query, ""))
    _contract().validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))
    return response


def count(pg, sql: str, *params) -> int:
    with pg.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


@pytest.fixture()
def readers(stack_env):
    """TopicReaders of the checkout topics, positioned at their ends before the test acts."""
    opened = {topic: TopicReader(stack_env["KAFKA_BOOTSTRAP_SERVERS"], topic) for topic in ("orders", "inventory", "payments")}
    yield opened
    for reader in opened.values():
        reader.close()


def events_of(reader, subject: str, *types: str, timeout: float = 10.0) -> dict[str, object]:
    """The first CloudEvent of each type with this subject (all must arrive), each checked
    against its JSON Schema, keyed by type."""
    def decode(record):
        return from_binary(KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value))

    def found(records) -> dict:
        events = {}
        for record in records:
            headers = dict(record.headers)
            kind = headers.get("ce_type", b"").decode()
            if headers.get("ce_subject", b"").decode() == subject and kind in types and kind not in events:
                assert record.key == subject.encode()
                events[kind] = decode(record)
        return events

    events = found(reader.records(timeout, until=lambda seen: len(found(seen)) == len(types)))
    missing = set(types) - set(events)
    assert not missing, f"no {sorted(missing)} for {subject} within {timeout}s"
    for event in events.values():
        assert data_errors(event["type"], event.data) == [], event.data
    return events
