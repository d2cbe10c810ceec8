"""Stock rules, in plain Python: which lines a reservation may take, how levels move, when
stock counts as low. No I/O here.

`available` is what can still be sold; `reserved` is held for unpaid orders. Reserving moves
units from available to reserved, committing (the order was paid) removes them from reserved,
releasing (cancelled, failed or expired) moves them back to available.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_LINES = 50
MAX_STOCK = 1_000_000
UUID = {"type": "string", "format": "uuid"}

RESERVE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["order_id", "lines"],
    "properties": {
        "order_id": UUID,
        "lines": {
            "type": "array", "minItems": 1, "maxItems": MAX_LINES,
            "items": {
                "type": "object", "additionalProperties": False, "required": ["product_id", "quantity"],
                "properties": {"product_id": UUID, "quantity": {"type": "integer", "minimum": 1, "maximum": 99}},
            },
        },
    },
}
RELEASE_REASONS = ("cancelled", "order_failed", "expired")
RELEASE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"reason": {"enum": list(RELEASE_REASONS[:2])}},
}
SET_STOCK_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["available"],
    "properties": {"available": {"type": "integer", "minimum": 0, "maximum": MAX_STOCK}},
}


@dataclass(frozen=True, order=True)
class Line:
    product_id: str
    quantity: int

    def to_public(self) -> dict:
        return {"product_id": self.product_id, "quantity": self.quantity}


@dataclass(frozen=True)
class Level:
    product_id: str
    available: int
    reserved: int

    def to_public(self) -> dict:
        return {"product_id": self.product_id, "available": self.available, "reserved": self.reserved}


@dataclass(frozen=True)
class Shortage:
    product_id: str
    requested: int
    available: int

    def to_public(self) -> dict:
        return {"product_id": self.product_id, "requested": self.requested, "available": self.available}


def lines_of(raw: list[dict]) -> tuple[Line, ...]:
    """Lines sorted by product id (the order rows are locked in); ValueError on a repeated product."""
    lines = tuple(sorted(Line(item["product_id"].lower(), item["quantity"]) for item in raw))
    ids = [line.product_id for line in lines]
    if len(set(ids)) != len(ids):
        raise ValueError("each product may appear in one line only")
    return lines


def shortages(lines: tuple[Line, ...], levels: dict[str, Level]) -> list[Shortage]:
    """Lines the current levels cannot cover; a product without stock has 0 available."""
    short = []
    for line in lines:
        available = levels[line.product_id].available if line.product_id in levels else 0
        if available < line.quantity:
            short.append(Shortage(line.product_id, line.quantity, available))
    return short


def reserved(level: Level, quantity: int) -> Level:
    if quantity > level.available:
        raise ValueError(f"cannot reserve {quantity} of {level.product_id}: {level.available} available")
    return Level(level.product_id, level.available - quantity, level.reserved + quantity)


def released(level: Level, quantity: int) -> Level:
    return Level(level.product_id, level.available + quantity, max(level.reserved - quantity, 0))


def committed(level: Level, quantity: int) -> Level:
    return Level(level.product_id, level.available, max(level.reserved - quantity, 0))


def became_low(before: Level, after: Level, threshold: int) -> bool:
    """True only when a change crosses the threshold downwards, so one drop is one alert."""
    return before.available > threshold >= after.available
