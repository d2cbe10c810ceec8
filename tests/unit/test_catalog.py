from __future__ import annotations

from datetime import datetime, timezone

import pytest

from products.catalog import NEW_PRODUCT_SCHEMA, Cursor, is_product_id, new_product_fields
from fnkit.validation import field_errors


def test_cursor_round_trips_and_rejects_forgeries():
    cursor = Cursor(datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc), "8d9c5e0e-0000-4000-8000-000000000000")
    assert Cursor.decode(cursor.encode()) == cursor
    for forged in ("", "abc", "W10", "WyJ4IiwgInkiXQ"):  # W10 = [], WyJ4IiwgInkiXQ = ["x", "y"]
        with pytest.raises(ValueError):
            Cursor.decode(forged)


def test_new_product_fields_take_minor_units_and_trim_the_name():
    fields = new_product_fields({"sku": "AB-1", "name": "  Kettle ", "category": "kitchen",
                                 "price": {"amount": 1999, "currency": "EUR"}})
    assert fields["price_minor"] == 1999 and fields["currency"] == "EUR" and fields["name"] == "Kettle"
    assert is_product_id(fields["id"]) and fields["description"] == ""


def test_schema_refuses_fractional_prices_and_lowercase_currencies():
    body = {"sku": "AB-1", "name": "n", "category": "kitchen", "price": {"amount": 1.5, "currency": "eur"}}
    assert {e.field for e in field_errors(NEW_PRODUCT_SCHEMA, body)} == {"price.amount", "price.currency"}
