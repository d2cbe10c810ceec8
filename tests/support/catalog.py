"""Catalog helpers for tests of any domain: products are created through the real function."""
from __future__ import annotations

import requests

from tests.support.openapi import assert_conforms

PRODUCT_TARGETS = ("products_list", "products_get", "products_create", "products_update", "products_delete")


def new_product(unique: str, **overrides) -> dict:
    body = {"sku": f"SKU-{unique}", "name": f"Kettle {unique}", "description": "1.7 l, steel",
            "category": "kitchen", "price": {"amount": 3999, "currency": "EUR"}}
    body.update(overrides)
    return body


def create_product(urls: dict, admin_token: str, body: dict) -> requests.Response:
    return assert_conforms(requests.post(f"{urls['products_create']}/api/products", json=body,
                                         headers={"Authorization": f"Bearer {admin_token}"}, timeout=10))
