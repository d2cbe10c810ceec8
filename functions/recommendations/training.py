"""Training (recommendations_train, on a schedule): co-purchase counts in, a new active model out."""
from __future__ import annotations

import time

from fnkit import db, logs
from fnkit.config import env_int
from fnkit.errors import conflict

from . import model_cache, model_store
from .model import similar_products

# The active version and the one before it: a reader that looked up the active version just
# before a switch still finds its rows.
KEEP_VERSIONS = 2
log = logs.get(__name__)


def train() -> dict:
    """Build a model from the counts as they are now, make it the active one, then cache it."""
    started = time.perf_counter()
    size = env_int("RECOMMENDATIONS_MODEL_SIZE")
    # One transaction: the new version becomes visible, and the old one is replaced, at commit.
    with db.transaction() as cur:
        if not model_store.try_lock_training(cur):
            raise conflict("another training is running; this one changed nothing")
        purchases, pairs = model_store.copurchase_counts(cur)
        loaded = time.perf_counter()
        model = similar_products(purchases, pairs, size)
        built = time.perf_counter()
        version = model_store.save(cur, model, size, len(pairs), round((built - started) * 1000))
        dropped = model_store.activate(cur, version, KEEP_VERSIONS)
        categories = model_store.category_lists(cur, version)
    stored = time.perf_counter()
    cached = model_cache.publish(version, model, categories, env_int("RECOMMENDATIONS_CACHE_TTL_SECONDS"), dropped)
    summary = {
        "version": version,
        "pairs": len(pairs),
        "products": len(model),
        "neighbours": sum(len(neighbours) for neighbours in model.values()),
        "categories": len(categories),
        "cached": cached,
        "timings_ms": {name: round(seconds * 1000, 1) for name, seconds in (
            ("load", loaded - started), ("build", built - loaded), ("store", stored - built),
            ("cache", time.perf_counter() - stored))},
    }
    log.info("model trained", extra=summary)
    return summary
