"""Training (recommendations_train, on a schedule): co-purchase counts and product texts in, a new
active model out, holding both neighbour lists (model.py, content.py) under one version."""
from __future__ import annotations

import gc
import time
from contextlib import contextmanager

from fnkit import db, logs
from fnkit.config import env_float, env_int
from fnkit.errors import conflict

from . import content, model_cache, model_store
from .model import similar_products

# The active version and the one before it: a reader that looked up the active version just
# before a switch still finds its rows.
KEEP_VERSIONS = 2
log = logs.get(__name__)


def train() -> dict:
    """Build a model from the counts and texts as they are now, make it the active one, then cache it."""
    started = time.perf_counter()
    size = env_int("RECOMMENDATIONS_MODEL_SIZE")
    content_size, min_score = env_int("RECOMMENDATIONS_CONTENT_SIZE"), env_float("RECOMMENDATIONS_CONTENT_MIN_SCORE")
    # One transaction: the new version becomes visible, and the old one is replaced, at commit.
    with db.transaction() as cur:
        if not model_store.try_lock_training(cur):
            raise conflict("another training is running; this one changed nothing")
        purchases, pairs = model_store.copurchase_counts(cur)
        documents = model_store.live_documents(cur)
        loaded = time.perf_counter()
        with _no_cycle_collection():
            model = similar_products(purchases, pairs, size)
            built = time.perf_counter()
            vectors = content.vectorize(documents)  # the first run of a process also imports scikit-learn here
            vectorized = time.perf_counter()
            similar = content.nearest(vectors, content_size, min_score)
            searched = time.perf_counter()
        terms = vectors.terms if vectors else 0
        version = model_store.save(cur, model, similar, terms, size, len(pairs), round((searched - started) * 1000))
        dropped = model_store.activate(cur, version, KEEP_VERSIONS)
        categories = model_store.category_lists(cur, version)
    stored = time.perf_counter()
    cached = model_cache.publish(version, model, similar, categories, env_int("RECOMMENDATIONS_CACHE_TTL_SECONDS"),
                                 dropped)
    summary = {
        "version": version,
        "pairs": len(pairs),
        "products": len(model),
        "neighbours": sum(len(neighbours) for neighbours in model.values()),
        "content_products": len(similar),
        "content_neighbours": sum(len(neighbours) for neighbours in similar.values()),
        "content_terms": terms,
        "categories": len(categories),
        "cached": cached,
        "timings_ms": {name: round(seconds * 1000, 1) for name, seconds in (
            ("load", loaded - started), ("build", built - loaded), ("content_vectorize", vectorized - built),
            ("content_search", searched - vectorized), ("store", stored - searched),
            ("cache", time.perf_counter() - stored))},
    }
    log.info("model trained", extra=summary)
    return summary


@contextmanager
def _no_cycle_collection():
    """The builds allocate a neighbour object per list place (750k at 20,000 products), none in a
    reference cycle; the cyclic collector would walk them again and again as they pile up: a third
    of the content search at that size. It is off for this process while they run (another
    request of the training's worker meanwhile is a 409) and collects once afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
