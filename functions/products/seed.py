"""Load a realistic demo catalog (a few hundred products across categories) for local use.

    dev/task seed            (python -m products.seed --count 300)

Idempotent: products are keyed by SKU, so running it again adds nothing. Goes through the
same operation as products-create, so every product also gets its product.created event.
"""
from __future__ import annotations

import argparse
import random

from fnkit import db
from fnkit.errors import Problem

from products import service

CATALOG = {
    "kitchen": (["Kettle", "Teapot", "Chef's knife", "Cast-iron pan", "Espresso machine", "Cutting board"], (999, 24999)),
    "audio": (["Headphones", "Bluetooth speaker", "Turntable", "Soundbar", "Earbuds"], (1999, 59999)),
    "books": (["Cookbook", "Travel guide", "Novel", "Field guide to birds", "Poetry collection"], (799, 4999)),
    "garden": (["Watering can", "Pruning shears", "Seed tray", "Hose reel", "Bird feeder"], (499, 8999)),
    "outdoor": (["Tent", "Sleeping bag", "Headlamp", "Trekking poles", "Camping stove"], (1499, 39999)),
    "office": (["Desk lamp", "Notebook", "Fountain pen", "Monitor stand", "Ergonomic chair"], (299, 49999)),
}
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Everyday", "Pro", "Travel", "Eco", "Vintage", "Ultra", "Quiet"]


def demo_products(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    products = []
    for n in range(count):
        category = list(CATALOG)[n % len(CATALOG)]
        names, (low, high) = CATALOG[category]
        noun = rng.choice(names)
        products.append({
            "sku": f"DEMO-{category[:3].upper()}-{n:04d}",
            "name": f"{rng.choice(ADJECTIVES)} {noun}",
            "description": f"A {noun.lower()} for {category}; demo item {n}.",
            "category": category,
            "price": {"amount": rng.randrange(low // 100, high // 100) * 100 + 99, "currency": "EUR"},
        })
    return products


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    with db.transaction() as cur:
        cur.execute("SELECT sku FROM products")
        existing = {row["sku"] for row in cur.fetchall()}
    added = 0
    for product in demo_products(args.count):
        if product["sku"] in existing:
            continue
        try:
            service.create_product(product)
            added += 1
        except Problem as exc:  # a concurrent seeding run took the SKU first
            if exc.status != 409:
                raise
    print(f"seed: {added} products added, {len(existing)} already there")


if __name__ == "__main__":
    main()
