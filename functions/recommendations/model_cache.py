"""Trained models in Redis, for reads: one hash per version, `recommendations:model:<version>`,
with fields per product (`p:<id>`: its co-purchase neighbours, `s:<id>`: its content-similar
ones) and per category (`c:<name>`: its popular products), each a JSON list of [id, score]. A
version cached before the content model existed has no `s:` fields: its readers see [].

A version's hash is written once, after its PostgreSQL commit, and its `complete` field last:
a reader asks for that field with the ones it needs and treats a hash without it (still being
written, half-written by a failed run, expired) as a miss. Which version is current is never
decided here: PostgreSQL's active version is, so a training whose Redis write failed cannot
leave readers on the old model.
"""
from __future__ import annotations

import json
from itertools import chain, islice

from fnkit import cache, logs

from .model import Neighbour

Model = dict[str, tuple[Neighbour, ...]]

_COMPLETE = "complete"
_BATCH = 1000  # fields per HSET: bounded requests however large the catalog
log = logs.get(__name__)


def key(version: int) -> str:
    return f"recommendations:model:{version}"


def publish(version: int, model: Model, content: Model, categories: dict[str, list[tuple[str, int]]],
            ttl_seconds: int, dropped: list[int]) -> bool:
    """Write one version and delete the dropped ones; False (logged) when Redis failed."""
    # Rendered batch by batch as they are sent: all at once they were 50 MB at 20,000 products.
    fields = chain(((f"p:{product_id}", _dumps([(n.product_id, n.score) for n in neighbours]))
                    for product_id, neighbours in model.items()),
                   ((f"s:{product_id}", _dumps([(n.product_id, n.score) for n in neighbours]))
                    for product_id, neighbours in content.items()),
                   ((f"c:{category}", _dumps(products)) for category, products in categories.items()))
    redis = cache.client()
    try:
        redis.delete(key(version))
        while batch := dict(islice(fields, _BATCH)):
            redis.hset(key(version), mapping=batch)
            redis.expire(key(version), ttl_seconds)  # from the first batch on: a run dying half-way leaves no orphan
        redis.hset(key(version), _COMPLETE, "1")
        redis.expire(key(version), ttl_seconds)
        if dropped:
            redis.unlink(*(key(old) for old in dropped))
        return True
    except cache.unavailable_errors() as exc:
        log.warning("model not cached; reads use PostgreSQL", extra={"version": version, "error": str(exc)})
        return False


def lists(version: int, product_id: str, category: str) -> tuple[list[list], list[list], list[list]] | None:
    """(co-purchase neighbours, content neighbours, category popular) of a product in one
    version, as model_store.lists gives them, or None on a miss or when Redis is down (the
    caller reads PostgreSQL). A list the model does not hold for the product is []."""
    fields = [_COMPLETE, f"p:{product_id}", f"s:{product_id}", f"c:{category}"]
    try:
        complete, *found = cache.client().hmget(key(version), fields)
    except cache.unavailable_errors() as exc:
        log.warning("model read failed, falling back", extra={"version": version, "error": str(exc)})
        return None
    if complete is None:
        return None
    co_purchase, content, popular = (json.loads(value) if value else [] for value in found)
    return co_purchase, content, popular


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))
