"""The catalog's rules, in plain Python: what a valid product is, how it is shown, and how
list pages are addressed (keyset cursors). No I/O here."""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

PRICE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "integer", "minimum": 0, "maximum": 100_000_000_00, "description": "minor units"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
}

NEW_PRODUCT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sku", "name", "category", "price"],
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z0-9][A-Z0-9-]{2,39}$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 5000},
        "category": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,49}$"},
        "price": PRICE_SCHEMA,
    },
}


@dataclass(frozen=True)
class Product:
    id: str
    sku: str
    name: str
    description: str
    category: str
    price_minor: int
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime

    def to_public(self) -> dict:
        return {
            "id": self.id,
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "price": {"amount": self.price_minor, "currency": self.currency},
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def new_product_fields(payload: dict) -> dict:
    """Column values of a product built from a validated creation request."""
    return {
        "id": str(uuid.uuid4()),
        "sku": payload["sku"],
        "name": payload["name"].strip(),
        "description": payload.get("description", ""),
        "category": payload["category"],
        "price_minor": payload["price"]["amount"],
        "currency": payload["price"]["currency"],
    }


def is_product_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@dataclass(frozen=True)
class Cursor:
    """Position after the last product of a page: keyset pagination on (created_at, id)."""

    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        """Raises ValueError for anything that is not a cursor this service issued."""
        try:
            created_at, product_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            cursor = cls(datetime.fromisoformat(created_at), str(product_id))
        except (TypeError, ValueError, json.JSONDecodeError) as exc:
            raise ValueError("not a valid cursor") from exc
        if not is_product_id(cursor.id):
            raise ValueError("not a valid cursor")
        return cursor
