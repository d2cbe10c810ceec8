"""Blending the three lists of a model version: strategy order, each product once."""
from __future__ import annotations

from recommendations.blend import CATEGORY_POPULAR, CO_PURCHASE, CONTENT_SIMILAR, Candidate, candidates, leading_strategy

A, B, C, D, E = (f"{n:02x}" + "0" * 30 for n in range(1, 6))


def test_co_purchase_then_content_then_popular_each_product_once():
    ranked = candidates([(A, 0.5), (B, 0.2)], [(C, 0.9), (A, 0.8), (D, 0.3)], [(B, 40), (E, 12), (D, 3)])
    assert ranked == [Candidate(A, CO_PURCHASE, 0.5), Candidate(B, CO_PURCHASE, 0.2),
                      Candidate(C, CONTENT_SIMILAR, 0.9), Candidate(D, CONTENT_SIMILAR, 0.3),
                      Candidate(E, CATEGORY_POPULAR, 12)]


def test_missing_lists_fall_through():
    assert candidates([], [(C, 0.4)], [(E, 1)]) == [Candidate(C, CONTENT_SIMILAR, 0.4), Candidate(E, CATEGORY_POPULAR, 1)]
    assert candidates([], [], [(E, 0)]) == [Candidate(E, CATEGORY_POPULAR, 0)]
    assert candidates([], [], []) == []


def test_the_response_strategy_is_the_first_items():
    assert leading_strategy([CO_PURCHASE, CONTENT_SIMILAR]) == CO_PURCHASE
    assert leading_strategy([CONTENT_SIMILAR, CATEGORY_POPULAR]) == CONTENT_SIMILAR
    assert leading_strategy([]) == CATEGORY_POPULAR
