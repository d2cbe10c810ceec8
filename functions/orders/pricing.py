"""What an order is and how it is priced, in plain Python: lines are re-priced from the catalog
when the order is placed (the cart's snapshot is only what the shopper saw), one currency per
order, integer minor units throughout. No I/O here."""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
ADDRESS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "line1", "city", "postal_code", "country"],
    "properties": {
        "name": _TEXT, "line1": _TEXT, "line2": {"type": "string", "maxLength": 200},
        "city": {"type": "string", "minLength": 1, "maxLength": 100},
        "postal_code": {"type": "string", "minLength": 1, "maxLength": 20},
        "country": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2"},
    },
}
PLACE_ORDER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["shipping_address"],
    "properties": {"shipping_address": ADDRESS_SCHEMA},
}


@dataclass(frozen=True)
class PricedLine:
    product_id: str
    sku: str
    name: str
    unit_price: int
    quantity: int

    @property
    def total(self) -> int:
        return self.unit_price * self.quantity


class PricingError(ValueError):
    """The cart cannot become an order as it is: `unavailable` names the products to remove."""

    def __init__(self, message: str, unavailable: list[str] = ()):
        super().__init__(message)
        self.unavailable = list(unavailable)


def price_lines(wanted: list[tuple[str, int]], catalog: dict[str, dict]) -> tuple[str, tuple[PricedLine, ...]]:
    """(currency, lines) from (product_id, quantity) pairs and the live catalog products by id."""
    if not wanted:
        raise PricingError("the cart is empty")
    unavailable = [product_id for product_id, _ in wanted if product_id not in catalog]
    if unavailable:
        raise PricingError(f"{len(unavailable)} product(s) in the cart are no longer sold", unavailable)
    currencies = {catalog[product_id]["price"]["currency"] for product_id, _ in wanted}
    if len(currencies) != 1:
        raise PricingError(f"the cart mixes currencies ({', '.join(sorted(currencies))}); an order has one")
    lines = tuple(
        PricedLine(product_id, catalog[product_id]["sku"], catalog[product_id]["name"],
                   catalog[product_id]["price"]["amount"], quantity)
        for product_id, quantity in wanted
    )
    return currencies.pop(), lines


def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


@dataclass(frozen=True)
class Order:
    id: str
    user_id: str
    status: str
    currency: str
    total_minor: int
    item_count: int
    shipping_address: dict
    payment_id: str | None
    pay_by: datetime
    version: int
    created_at: datetime
    updated_at: datetime
    lines: tuple[PricedLine, ...] = field(default=())

    def to_public(self) -> dict:
        return {
            "id": self.id, "user_id": self.user_id, "status": self.status,
            "lines": [{"product_id": line.product_id, "sku": line.sku, "name": line.name,
                       "unit_price": money(line.unit_price, self.currency), "quantity": line.quantity,
                       "line_total": money(line.total, self.currency)} for line in self.lines],
            "total": money(self.total_minor, self.currency), "item_count": self.item_count,
            "shipping_address": self.shipping_address, "payment_id": self.payment_id,
            "pay_by": self.pay_by.isoformat(), "version": self.version,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }

    def event_data(self) -> dict:
        """The data of com.fnshop.order.* events: what consumers (notifications) need."""
        public = self.to_public()
        return {"order_id": self.id, "user_id": self.user_id, "status": self.status,
                "lines": [{k: line[k] for k in ("product_id", "sku", "name", "unit_price", "quantity", "line_total")}
                          for line in public["lines"]],
                "total": public["total"], "item_count": self.item_count, "created_at": public["created_at"]}


@dataclass(frozen=True)
class Cursor:
    """Position after the last order of a page: keyset pagination on (created_at, id), newest first."""

    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        try:
            created_at, order_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return cls(datetime.fromisoformat(created_at), str(uuid.UUID(order_id)))
        except (TypeError, ValueError) as exc:
            raise ValueError("not a valid cursor") from exc
