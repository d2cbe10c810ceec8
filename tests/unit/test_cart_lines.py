"""Cart rules without Redis: snapshots, totals, rebuilding from the hash, ids."""
from __future__ import annotations

from datetime import datetime, timezone

from cart.lines import Snapshot, cart_from_hash, is_user_id, snapshot_of

PRODUCT = {"id": "8d9c5e0e-0000-4000-8000-000000000001", "sku": "KETTLE-1", "name": "Kettle",
           "price": {"amount": 3999, "currency": "EUR"}}


def test_snapshot_keeps_price_and_round_trips():
    snap = snapshot_of(PRODUCT, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert (snap.unit_price, snap.currency, snap.sku) == (3999, "EUR", "KETTLE-1")
    assert Snapshot.from_json(snap.to_json()) == snap


def test_cart_from_hash_totals_in_minor_units_in_added_order():
    first = snapshot_of(PRODUCT, datetime(2026, 1, 1, tzinfo=timezone.utc))
    second = snapshot_of({**PRODUCT, "id": "8d9c5e0e-0000-4000-8000-000000000002", "price": {"amount": 250,
                          "currency": "EUR"}}, datetime(2026, 1, 2, tzinfo=timezone.utc))
    fields = {"currency": "EUR", f"q:{second.product_id}": "4", f"p:{second.product_id}": second.to_json(),
              f"q:{first.product_id}": "2", f"p:{first.product_id}": first.to_json()}
    cart = cart_from_hash("u1", fields).to_public()
    assert [line["product_id"] for line in cart["lines"]] == [first.product_id, second.product_id]
    assert cart["lines"][0]["line_total"] == {"amount": 7998, "currency": "EUR"}
    assert cart["total"] == {"amount": 7998 + 1000, "currency": "EUR"}
    assert cart["item_count"] == 6


def test_empty_or_half_written_cart_has_no_currency_or_total():
    assert cart_from_hash("u1", {}).to_public() == {"user_id": "u1", "currency": None, "lines": [], "item_count": 0,
                                                    "total": None}
    half = cart_from_hash("u1", {"currency": "EUR", "q:abc": "3"})
    assert half.lines == () and half.currency is None


def test_user_ids():
    assert is_user_id("3f2a9c1e-0000-4000-8000-000000000000") and is_user_id("user_42")
    assert not is_user_id("") and not is_user_id("a/b") and not is_user_id("x" * 200)
