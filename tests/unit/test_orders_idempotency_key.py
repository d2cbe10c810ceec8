"""fnkit.idempotency's pure parts: the header rules and request fingerprints."""
from __future__ import annotations

import pytest

from fnkit import idempotency
from fnkit.errors import Problem


def test_key_is_required_and_bounded():
    assert idempotency.require_key({"Idempotency-Key": " 9b1c-key "}) == "9b1c-key"
    for headers in ({}, {"Idempotency-Key": ""}, {"Idempotency-Key": "has space"}, {"Idempotency-Key": "x" * 256}):
        with pytest.raises(Problem) as caught:
            idempotency.require_key(headers)
        assert caught.value.status == 400 and caught.value.errors[0].field == "Idempotency-Key"


def test_fingerprint_ignores_key_order_but_not_values():
    same = idempotency.fingerprint("POST /api/orders", {"a": 1, "b": {"c": 2}})
    assert same == idempotency.fingerprint("POST /api/orders", {"b": {"c": 2}, "a": 1})
    assert same != idempotency.fingerprint("POST /api/orders", {"a": 2, "b": {"c": 2}})
    assert same != idempotency.fingerprint("POST /api/payments", {"a": 1, "b": {"c": 2}})
