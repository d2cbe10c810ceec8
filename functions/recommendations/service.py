"""Recording co-purchases from paid orders (the Kafka consumer of com.fnshop.order.paid). The
model that turns the counts into recommendations is a later step; it reads these tables."""
from __future__ import annotations

from fnkit.consumer import Received

from . import store
from .pairs import pairs, products_of


def record_order(cur, event: Received) -> None:
    """Consumer handler, in the consumer's transaction (the event claim makes it count once)."""
    products = products_of(event.data["lines"])
    store.count_order(cur, products, pairs(products))
