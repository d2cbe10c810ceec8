"""A cart's rules, in plain Python: what may be added, how a line remembers the price it was
added at, and how totals are shown. No I/O here; `store` keeps the cart as a Redis hash:

    currency      -> "EUR"            one currency per cart
    q:<product>   -> quantity         changed only atomically (Lua), so concurrent adds add up
    p:<product>   -> JSON snapshot    sku, name, unit price and currency when first added
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

MAX_QUANTITY = 99
QUANTITY = {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}

ADD_ITEM_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["product_id", "quantity"],
    "properties": {"product_id": {"type": "string", "format": "uuid"}, "quantity": QUANTITY},
}
SET_QUANTITY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["quantity"],
    "properties": {"quantity": QUANTITY},
}

_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


def is_user_id(value: str) -> bool:
    return bool(_USER_ID.match(value))


@dataclass(frozen=True)
class Snapshot:
    """What the shopper saw when adding the product; orders re-price from the catalog."""

    product_id: str
    sku: str
    name: str
    unit_price: int
    currency: str
    added_at: str

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> "Snapshot":
        return cls(**json.loads(raw))


def snapshot_of(product: dict, now: datetime | None = None) -> Snapshot:
    """From a catalog product as the products function shows it (`Product.to_public()`)."""
    return Snapshot(product["id"], product["sku"], product["name"], product["price"]["amount"],
                    product["price"]["currency"], (now or datetime.now(timezone.utc)).isoformat())


@dataclass(frozen=True)
class Line:
    snapshot: Snapshot
    quantity: int

    @property
    def product_id(self) -> str:
        return self.snapshot.product_id

    @property
    def total(self) -> int:
        return self.snapshot.unit_price * self.quantity

    def to_public(self) -> dict:
        s = self.snapshot
        return {"product_id": s.product_id, "sku": s.sku, "name": s.name,
                "unit_price": {"amount": s.unit_price, "currency": s.currency}, "quantity": self.quantity,
                "line_total": {"amount": self.total, "currency": s.currency}, "added_at": s.added_at}


@dataclass(frozen=True)
class Cart:
    user_id: str
    currency: str | None
    lines: tuple[Line, ...]

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def to_public(self) -> dict:
        return {"user_id": self.user_id, "currency": self.currency,
                "lines": [line.to_public() for line in self.lines], "item_count": self.item_count,
                "total": {"amount": self.total, "currency": self.currency} if self.currency else None}


def cart_from_hash(user_id: str, fields: dict[str, str]) -> Cart:
    """Rebuild a cart from its Redis hash; a line without both fields is skipped (half-removed)."""
    lines = []
    for name, value in fields.items():
        if name.startswith("q:"):
            product_id = name[2:]
            raw = fields.get(f"p:{product_id}")
            if raw is not None and int(value) > 0:
                lines.append(Line(Snapshot.from_json(raw), int(value)))
    lines.sort(key=lambda line: (line.snapshot.added_at, line.product_id))
    return Cart(user_id, fields.get("currency") if lines else None, tuple(lines))
