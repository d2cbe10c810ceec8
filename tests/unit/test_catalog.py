from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fnkit.ids import is_uuid
from fnkit.validation import field_errors
from products.catalog import (NEW_PRODUCT_SCHEMA, PRODUCT_CHANGES_SCHEMA, Cursor, ListQuery, Product, change_fields,
                              new_product_fields, parse_if_match)

PRODUCT = Product("8d9c5e0e-0000-4000-8000-000000000000", "AB-1", "Kettle", "", "kitchen", 1999, "EUR", 1,
                  datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc), datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))


@pytest.mark.parametrize("sort, rank", [("newest", None), ("price_asc", None), ("name", None), ("relevance", 0.25)])
def test_cursor_round_trips_for_every_sort(sort, rank):
    cursor = Cursor.after(sort, PRODUCT, rank)
    decoded = Cursor.decode(cursor.encode(), sort)
    assert decoded.id == PRODUCT.id
    assert decoded.key == {"newest": PRODUCT.created_at, "price_asc": 1999, "name": "Kettle", "relevance": 0.25}[sort]


def test_cursor_of_one_sort_is_refused_for_another_and_forgeries_fail():
    token = Cursor.after("price_asc", PRODUCT).encode()
    with pytest.raises(ValueError):
        Cursor.decode(token, "newest")
    for forged in ("", "abc", "W10", "WyJ4IiwgInkiXQ"):  # W10 = [], WyJ4IiwgInkiXQ = ["x", "y"]
        with pytest.raises(ValueError):
            Cursor.decode(forged, "newest")


def test_new_product_fields_take_minor_units_and_trim_the_name():
    fields = new_product_fields({"sku": "AB-1", "name": "  Kettle ", "category": "kitchen",
                                 "price": {"amount": 1999, "currency": "EUR"}})
    assert fields["price_minor"] == 1999 and fields["currency"] == "EUR" and fields["name"] == "Kettle"
    assert is_uuid(fields["id"]) and fields["description"] == ""


def test_schema_refuses_fractional_prices_and_lowercase_currencies():
    body = {"sku": "AB-1", "name": "n", "category": "kitchen", "price": {"amount": 1.5, "currency": "eur"}}
    assert {e.field for e in field_errors(NEW_PRODUCT_SCHEMA, body)} == {"price.amount", "price.currency"}


def test_changes_never_touch_the_sku_and_need_at_least_one_field():
    assert "sku" in {e.field for e in field_errors(PRODUCT_CHANGES_SCHEMA, {"sku": "NEW-1"})}
    assert field_errors(PRODUCT_CHANGES_SCHEMA, {}) != []
    assert change_fields({"price": {"amount": 5, "currency": "USD"}, "name": " x "}) == {
        "price_minor": 5, "currency": "USD", "name": "x"}


def test_if_match_accepts_strong_and_weak_etags():
    assert parse_if_match('"3"') == 3 and parse_if_match('W/"3"') == 3 and parse_if_match(None) is None
    with pytest.raises(ValueError):
        parse_if_match('"abc"')


def test_list_query_rules():
    assert ListQuery(text="kettle").order == "relevance" and ListQuery().order == "newest"
    assert ListQuery(sort="relevance").errors() == [("sort", "relevance needs a search text `q`")]
    assert ListQuery(sort="cheapest").errors()[0][0] == "sort"
    assert ListQuery(min_price=10, max_price=5).errors() == [("min_price", "must not exceed max_price")]
