"""Which products a read offers, in which order, and which strategy put each there. Plain
Python, no I/O.

A model version holds three lists per product, best first: its co-purchase neighbours, its
content-similar neighbours (alike in name, category and description), and the popular products
of its category. A read goes through them in that order, so a product with a short co-purchase
list (or none: new, or never bought with others) is filled up with products like it before the
category's best-sellers, whatever those are. A product listed twice counts once, under the
first strategy: its place and score are the ones of the stronger evidence.
"""
from __future__ import annotations

from dataclasses import dataclass

CO_PURCHASE = "co-purchase"
CONTENT_SIMILAR = "content-similar"
CATEGORY_POPULAR = "category-popular"
STRATEGIES = (CO_PURCHASE, CONTENT_SIMILAR, CATEGORY_POPULAR)  # the order a read tries them in


@dataclass(frozen=True)
class Candidate:
    product_id: str
    strategy: str
    score: float  # what it means depends on the strategy (docs/openapi/recommendations.yaml)


def candidates(co_purchase: list, content: list, popular: list) -> list[Candidate]:
    """Every listed product once, in strategy order, then each list's own order. Lists are
    [(id, score)] as the model stores them."""
    seen: set[str] = set()
    ranked = []
    for strategy, listed in zip(STRATEGIES, (co_purchase, content, popular)):
        for product_id, score in listed:
            if product_id not in seen:
                seen.add(product_id)
                ranked.append(Candidate(product_id, strategy, score))
    return ranked


def leading_strategy(strategies: list[str]) -> str:
    """The response's `strategy`: the one of its first item, as before items carried their own,
    when a response held one strategy only; category-popular, the last resort, for no items."""
    return strategies[0] if strategies else CATEGORY_POPULAR
