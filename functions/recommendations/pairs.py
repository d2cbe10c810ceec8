"""Co-purchase counting rules, in plain Python: which products of a paid order count, and the
pairs they form. No I/O here.

An order counts once per product however many units it holds, and each pair of different
products counts in both directions, so "bought with X" reads one side only. Pairs come out
sorted: concurrent consumers then lock the rows they upsert in one order and never deadlock.
"""
from __future__ import annotations

from itertools import permutations


def products_of(lines: list[dict]) -> list[str]:
    """The distinct product ids of an order's lines, sorted."""
    return sorted({line["product_id"].lower() for line in lines})


def pairs(product_ids: list[str]) -> list[tuple[str, str]]:
    """Every ordered pair of two different products, sorted: n products give n * (n - 1)."""
    return sorted(permutations(sorted(set(product_ids)), 2))
