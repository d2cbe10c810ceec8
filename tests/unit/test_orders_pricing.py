"""Order pricing and representation without a database."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fnkit.validation import field_errors
from orders.pricing import PLACE_ORDER_SCHEMA, Cursor, Order, PricingError, price_lines

A, B = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"


def product(pid, amount, currency="EUR"):
    return {"id": pid, "sku": f"SKU-{pid[-1]}", "name": f"P{pid[-1]}", "price": {"amount": amount, "currency": currency}}


def test_lines_are_priced_from_the_catalog_not_the_cart():
    currency, lines = price_lines([(A, 2), (B, 1)], {A: product(A, 1000), B: product(B, 1)})
    assert currency == "EUR"
    assert [(line.product_id, line.unit_price, line.quantity, line.total) for line in lines] == [
        (A, 1000, 2, 2000), (B, 1, 1, 1)]


def test_empty_unknown_and_mixed_currency_carts_are_refused():
    with pytest.raises(PricingError, match="empty"):
        price_lines([], {})
    with pytest.raises(PricingError) as unknown:
        price_lines([(A, 1), (B, 1)], {A: product(A, 5)})
    assert unknown.value.unavailable == [B]
    with pytest.raises(PricingError, match="currencies"):
        price_lines([(A, 1), (B, 1)], {A: product(A, 5), B: product(B, 5, "USD")})


def test_order_public_view_and_event_data():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    _, lines = price_lines([(A, 3)], {A: product(A, 250)})
    order = Order("o1", "u1", "pending", "EUR", 750, 3, {"name": "N"}, None, now, 1, now, now, lines)
    public = order.to_public()
    assert public["total"] == {"amount": 750, "currency": "EUR"}
    assert public["lines"][0]["line_total"] == {"amount": 750, "currency": "EUR"}
    assert order.event_data()["lines"] == public["lines"] and order.event_data()["order_id"] == "o1"


def test_cursor_round_trip_and_garbage():
    cursor = Cursor(datetime(2026, 1, 1, tzinfo=timezone.utc), A)
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in ("garbage", "", "W10", Cursor(cursor.created_at, "not-a-uuid").encode()):
        with pytest.raises(ValueError):
            Cursor.decode(bad)


def test_shipping_address_is_required_and_checked():
    address = {"name": "Ada", "line1": "1 Road", "city": "Town", "postal_code": "12345", "country": "DE"}
    assert field_errors(PLACE_ORDER_SCHEMA, {"shipping_address": address}) == []
    assert [e.field for e in field_errors(PLACE_ORDER_SCHEMA, {})] == ["shipping_address"]
    bad = field_errors(PLACE_ORDER_SCHEMA, {"shipping_address": {**address, "country": "Germany"}})
    assert [e.field for e in bad] == ["shipping_address.country"]
