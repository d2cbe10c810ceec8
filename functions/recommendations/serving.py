"""Reads (recommendations_get): a product's co-purchase neighbours in the active model, filled up
with its content-similar neighbours, then with popular products of its category (blend.py).

Which model is active comes from PostgreSQL, with the product itself (a 404 needs it anyway);
the model's lists come from Redis, or from PostgreSQL on a miss. Whether a listed product may be
shown is checked against the live catalog and stock on every read: a product deleted or sold
out since the training must disappear at once, not at the next training. All three lists go
through that check in one query, so blending costs no round trip.
"""
from __future__ import annotations

from dataclasses import dataclass

from fnkit import db
from fnkit.errors import not_found

from . import blend, model_cache, model_store
from .blend import CATEGORY_POPULAR

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
        lists = cached if cached is not None else model_store.lists(cur, version, product_id, category)
        ranked = blend.candidates(*lists)
        rows = model_store.available(cur, [c.product_id for c in ranked], product_id, limit) if ranked else []
    by_id = {c.product_id: c for c in ranked}
    items = [{"id": row["id"], "name": row["name"], "category": row["category"],
              "price": {"amount": row["price_minor"], "currency": row["currency"]},
              "score": round(by_id[row["id"]].score, 6), "strategy": by_id[row["id"]].strategy}
             for row in rows]
    return Recommendations(product_id, blend.leading_strategy([item["strategy"] for item in items]), version, items,
                           cached is not None)
