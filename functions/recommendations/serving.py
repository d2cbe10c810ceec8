"""Reads (recommendations_get): a product's neighbours in the active model, or popular products
of its category when it has none left to show.

Which model is active comes from PostgreSQL, with the product itself (a 404 needs it anyway);
the model's lists come from Redis, or from PostgreSQL on a miss. Whether a listed product may be
shown is checked against the live catalog and stock on every read: a product deleted or sold
out since the training must disappear at once, not at the next training.
"""
from __future__ import annotations

from dataclasses import dataclass

from fnkit import db
from fnkit.errors import not_found

from . import model_cache, model_store

CO_PURCHASE = "co-purchase"
CATEGORY_POPULAR = "category-popular"
DEFAULT_LIMIT, MAX_LIMIT = 10, 20  # MAX_LIMIT stays below RECOMMENDATIONS_MODEL_SIZE (see config)


@dataclass(frozen=True)
class Recommendations:
    product_id: str
    strategy: str
    model_version: int | None
    items: list[dict]
    from_cache: bool

    def to_public(self) -> dict:
        return {"product_id": self.product_id, "strategy": self.strategy, "model_version": self.model_version,
                "items": self.items}


def recommend(product_id: str, limit: int) -> Recommendations:
    with db.transaction() as cur:
        found = model_store.subject(cur, product_id)
        if found is None:
            raise not_found(f"no product with id {product_id}")
        category, version = found
        if version is None:  # nothing trained yet
            return Recommendations(product_id, CATEGORY_POPULAR, None, [], False)
        cached = model_cache.lists(version, product_id, category)
        neighbours = cached[0] if cached else model_store.neighbours(cur, version, product_id)
        items = _shown(cur, neighbours, product_id, limit)
        strategy = CO_PURCHASE
        if not items:  # no co-purchases (a new or rarely bought product), or none available now
            popular = cached[1] if cached else model_store.category_popular(cur, version, category)
            items, strategy = _shown(cur, popular, product_id, limit), CATEGORY_POPULAR
    return Recommendations(product_id, strategy, version, items, cached is not None)


def _shown(cur, ranked: list, product_id: str, limit: int) -> list[dict]:
    """The first `limit` of (id, score) that may be shown, as public items, in ranked order."""
    if not ranked:
        return []
    scores = {other: score for other, score in ranked}
    return [{"id": row["id"], "name": row["name"], "category": row["category"],
             "price": {"amount": row["price_minor"], "currency": row["currency"]},
             "score": round(scores[row["id"]], 6)}
            for row in model_store.available(cur, list(scores), product_id, limit)]
