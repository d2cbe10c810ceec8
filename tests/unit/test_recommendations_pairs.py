"""Co-purchase counting rules: distinct products, both directions, sorted."""
from __future__ import annotations

from recommendations.pairs import pairs, products_of

A, B, C = ("0a" + "0" * 30, "0b" + "0" * 30, "0c" + "0" * 30)


def test_an_order_counts_each_product_once():
    lines = [{"product_id": B.upper(), "quantity": 3}, {"product_id": A, "quantity": 1}, {"product_id": B, "quantity": 1}]
    assert products_of(lines) == [A, B]


def test_pairs_go_both_ways_sorted():
    assert pairs([C, A, B]) == [(A, B), (A, C), (B, A), (B, C), (C, A), (C, B)]
    assert pairs([A]) == [] and pairs([]) == []
    assert len(pairs([f"{i:032x}" for i in range(10)])) == 90
