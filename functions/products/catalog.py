"""The catalog's rules, in plain Python: what a valid product is, how it is shown, and how
list pages are addressed (keyset cursors). No I/O here."""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from fnkit.ids import is_uuid

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PRICE_MINOR = 100_000_000_00

PRICE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "integer", "minimum": 0, "maximum": MAX_PRICE_MINOR, "description": "minor units"},
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


PRODUCT_CHANGES_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {key: NEW_PRODUCT_SCHEMA["properties"][key] for key in ("name", "description", "category", "price")},
}

# sort name -> (key it orders by, descending?); ties are broken by id in the same direction.
SORTS: dict[str, tuple[str, bool]] = {
    "newest": ("created_at", True),
    "price_asc": ("price_minor", False),
    "price_desc": ("price_minor", True),
    "name": ("name", False),
    "relevance": ("rank", True),
}


def change_fields(changes: dict) -> dict:
    """Column values from a validated PATCH body (the sku never changes: orders refer to it)."""
    fields = {key: changes[key] for key in ("description", "category") if key in changes}
    if "name" in changes:
        fields["name"] = changes["name"].strip()
    if "price" in changes:
        fields["price_minor"] = changes["price"]["amount"]
        fields["currency"] = changes["price"]["currency"]
    return fields


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header names ("3" or W/"3"), None when absent; ValueError if malformed."""
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ValueError("If-Match must be the ETag of the product")
    return int(value)


def etag(version: int) -> str:
    return f'"{version}"'


@dataclass(frozen=True)
class Cursor:
    """Position after the last product of a page: keyset pagination on (sort key, id), so pages
    stay stable while products are added and no OFFSET scan is needed."""

    sort: str
    key: object
    id: str

    @classmethod
    def after(cls, sort: str, product: "Product", rank: float | None = None) -> "Cursor":
        column = SORTS[sort][0]
        key = rank if column == "rank" else getattr(product, column)
        return cls(sort, key.isoformat() if isinstance(key, datetime) else key, product.id)

    def encode(self) -> str:
        raw = json.dumps([self.sort, self.key, self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, sort: str) -> "Cursor":
        """Raises ValueError for anything but a cursor issued for the same sort order."""
        try:
            cursor_sort, key, product_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (TypeError, ValueError) as exc:
            raise ValueError("not a valid cursor") from exc
        if cursor_sort != sort or not isinstance(product_id, str) or not is_uuid(product_id):
            raise ValueError("not a valid cursor for this sort order")
        column = SORTS[sort][0]
        expected = {"created_at": str, "price_minor": int, "name": str, "rank": (int, float)}[column]
        if not isinstance(key, expected) or isinstance(key, bool):
            raise ValueError("not a valid cursor")
        if column == "created_at":
            key = datetime.fromisoformat(key)
        return cls(sort, key, product_id)


@dataclass(frozen=True)
class ListQuery:
    limit: int = DEFAULT_PAGE_SIZE
    sort: str | None = None
    cursor: str | None = None
    category: str | None = None
    text: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False

    @property
    def order(self) -> str:
        """Relevance when searching, newest otherwise, unless the caller chose."""
        return self.sort or ("relevance" if self.text else "newest")

    def errors(self) -> list[tuple[str, str]]:
        found = []
        if self.sort is not None and self.sort not in SORTS:
            found.append(("sort", f"must be one of {', '.join(SORTS)}"))
        if self.sort == "relevance" and not self.text:
            found.append(("sort", "relevance needs a search text `q`"))
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            found.append(("min_price", "must not exceed max_price"))
        return found
