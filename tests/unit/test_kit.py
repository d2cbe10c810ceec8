"""The kit's pure parts, without sockets."""
from __future__ import annotations


import pytest

from fnkit import config
from fnkit.errors import FieldError, Problem, invalid
from fnkit.http import Route
from fnkit.tracing import parse_or_start
from fnkit.validation import field_errors


def test_route_matches_its_template_only():
    route = Route("GET /api/products/{product_id}")
    assert route.method == "GET"
    assert route.match("/api/products/abc") == {"product_id": "abc"}
    assert route.match("/api/products/abc/") == {"product_id": "abc"}
    assert route.match("/api/products") is None
    assert route.match("/api/products/abc/reviews") is None
    assert Route("POST /api/cart/{user_id}/items/{product_id}").match("/api/cart/u1/items/p2") == {
        "user_id": "u1", "product_id": "p2"}


def test_route_escapes_literal_parts():
    assert Route("GET /.well-known/jwks.json").match("/.well-known/jwksXjson") is None


def test_traceparent_is_continued_or_started():
    trace_id, header = parse_or_start("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    assert trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert header.startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-") and header.endswith("-01")
    assert header.split("-")[2] != "00f067aa0ba902b7"
    for bad in (None, "", "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01"):
        started, header = parse_or_start(bad)
        assert len(started) == 32 and started != "0" * 32 and header.split("-")[1] == started


SCHEMA = {"type": "object", "additionalProperties": False, "required": ["name", "price"],
          "properties": {"name": {"type": "string"},
                         "price": {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}}}}


def test_field_errors_name_every_bad_field():
    errors = field_errors(SCHEMA, {"price": {"amount": "x"}, "extra": 1})
    assert {e.field for e in errors} == {"name", "price.amount", "extra"}
    assert FieldError("name", "is required") in errors
    assert field_errors(SCHEMA, {"name": "n", "price": {"amount": 3}}) == []
    assert field_errors(SCHEMA, [])[0].field == "(body)"


def test_problem_renders_rfc9457_fields():
    body = invalid([FieldError("sku", "is required")]).to_dict(instance="/api/products")
    assert body == {"type": "https://fnshop.example/problems/validation", "title": "Invalid request", "status": 400,
                    "detail": "The request has invalid fields.", "instance": "/api/products",
                    "errors": [{"field": "sku", "message": "is required"}]}
    assert Problem(409, "Conflict", extensions={"field": "sku"}).to_dict()["field"] == "sku"


def test_settings_read_environment_with_defaults(monkeypatch):
    monkeypatch.delenv("DB_POOL_MAX", raising=False)
    assert config.env_int("DB_POOL_MAX") == 8
    monkeypatch.setenv("DB_POOL_MAX", "x")
    with pytest.raises(config.ConfigError, match="DB_POOL_MAX"):
        config.env_int("DB_POOL_MAX")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with pytest.raises(config.ConfigError, match="KAFKA_BOOTSTRAP_SERVERS"):
        config.env("KAFKA_BOOTSTRAP_SERVERS")
    with pytest.raises(KeyError):
        config.env("UNDECLARED_SETTING")


def test_uuid_params_are_canonical_or_a_400_naming_the_parameter():
    from fnkit.ids import is_uuid, uuid_param

    assert is_uuid("8d9c5e0e-0000-4000-8000-000000000000") and is_uuid("8D9C5E0E-0000-4000-8000-000000000000")
    for loose in ("me", "1", "8d9c5e0e000040008000000000000000", "{8d9c5e0e-0000-4000-8000-000000000000}", None, 7):
        assert not is_uuid(loose)
    assert uuid_param("order_id", "8D9C5E0E-0000-4000-8000-000000000000") == "8d9c5e0e-0000-4000-8000-000000000000"
    with pytest.raises(Problem) as refused:
        uuid_param("order_id", "nope")
    assert refused.value.status == 400 and refused.value.errors[0].field == "order_id"
