"""Content-similar recommendations on the real stack: products created through the products
functions, a training over the whole catalog, reads through Redis and PostgreSQL.

Texts are made of words that carry this test's suffix ("kettle1a2b3c4d"), so products of other
tests and of earlier runs (the database is shared and kept) never read alike with these: every
run sees the same scores. Names and categories are the usual ones of Shop (model tests)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import yaml

# The model tests' fixtures (api: the functions, shop: this test's products) and helpers.
from tests.integration.test_recommendations_model import api, ids, recommend, shop, strategies, train  # noqa: F401
from tests.support.openapi import assert_conforms

FRAGMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "recommendations.yaml"


@pytest.fixture()
def tea(shop):
    """Two kettles and a teapot, which read alike, and two audio products, which do not."""
    def words(*stems: str) -> str:
        return ", ".join(f"{stem}{shop.unique.lower()}" for stem in stems) + "."

    return {
        "kettle": shop.product("Kettle", words("kettle", "steel", "boil", "water", "litre")),
        "gooseneck": shop.product("Gooseneck", words("kettle", "steel", "pour", "water", "thermometer")),
        "teapot": shop.product("Teapot", words("teapot", "boil", "water", "leaf", "infuser")),
        "headphones": shop.product("Headphones", words("headphones", "bluetooth", "battery", "noise")),
        "speaker": shop.product("Speaker", words("speaker", "bluetooth", "battery", "waterproof")),
    }


def test_a_product_nobody_bought_gets_products_like_it(api, tea):
    trained = train(api["recommendations_train"])
    assert trained["content_products"] >= 5 and trained["content_terms"] > 0
    assert trained["content_neighbours"] >= trained["content_products"]
    response = recommend(api["recommendations_get"], tea["kettle"])
    body = response.json()
    assert response.headers["X-Cache"] == "hit" and body["model_version"] == trained["version"]
    assert body["strategy"] == "content-similar" and strategies(response)[0] == "content-similar"
    assert ids(response)[:2] == [tea["gooseneck"], tea["teapot"]]  # the kettle and the teapot, then the rest
    mine = [p for p in ids(response, "content-similar") if p in tea.values()]
    assert mine[:2] == [tea["gooseneck"], tea["teapot"]] and set(mine[2:]) <= {tea["headphones"], tea["speaker"]}
    scores = [item["score"] for item in body["items"] if item["strategy"] == "content-similar"]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert ids(recommend(api["recommendations_get"], tea["headphones"]))[:1] == [tea["speaker"]]


def test_a_short_co_purchase_list_is_filled_up_with_content_similar_products(api, shop, tea):
    shop.paid(tea["kettle"], tea["speaker"], times=2)  # an odd pair, but the only co-purchase of either
    train(api["recommendations_train"])
    response = recommend(api["recommendations_get"], tea["kettle"])
    items = response.json()["items"]
    assert response.json()["strategy"] == "co-purchase" and strategies(response)[:2] == ["co-purchase", "content-similar"]
    assert [(i["id"], i["strategy"]) for i in items[:3]] == [
        (tea["speaker"], "co-purchase"), (tea["gooseneck"], "content-similar"), (tea["teapot"], "content-similar")]
    assert items[0]["score"] == pytest.approx(1.0)  # both bought twice, always together
    assert ids(response).count(tea["speaker"]) == 1  # not again among the content-similar ones
    assert ids(recommend(api["recommendations_get"], tea["kettle"], limit=2)) == [tea["speaker"], tea["gooseneck"]]


def test_deleted_or_sold_out_content_neighbours_are_never_recommended(api, shop, tea, pg):
    train(api["recommendations_train"])
    shop.delete(tea["gooseneck"])
    with pg.cursor() as cur:  # stock as the inventory function stores it
        cur.execute("INSERT INTO inventory (product_id, available) VALUES (%s, 0)", (tea["teapot"],))
    shown = ids(recommend(api["recommendations_get"], tea["kettle"]))
    assert tea["gooseneck"] not in shown and tea["teapot"] not in shown
    with pg.cursor() as cur:  # back in stock: shown again at once, no training needed
        cur.execute("UPDATE inventory SET available = 3 WHERE product_id = %s", (tea["teapot"],))
    assert ids(recommend(api["recommendations_get"], tea["kettle"]))[:1] == [tea["teapot"]]


def test_content_lists_read_the_same_from_postgresql(api, tea, rds):
    trained = train(api["recommendations_train"])
    cached = recommend(api["recommendations_get"], tea["kettle"])
    rds.hdel(f"recommendations:model:{trained['version']}", "complete")  # a miss: PostgreSQL serves the lists
    fallback = recommend(api["recommendations_get"], tea["kettle"])
    assert (cached.headers["X-Cache"], fallback.headers["X-Cache"]) == ("hit", "miss")
    assert fallback.json() == cached.json()


def test_strategies_are_the_ones_the_contract_names(api, tea):
    schemas = yaml.safe_load(FRAGMENT.read_text())["components"]["schemas"]
    assert schemas["RecommendationStrategy"]["enum"] == ["co-purchase", "content-similar", "category-popular"]
    train(api["recommendations_train"])
    url = f"{api['recommendations_get']}/api/recommendations/{tea['kettle']}"
    response = recommend(api["recommendations_get"], tea["kettle"])
    assert {item["strategy"] for item in response.json()["items"]} <= set(schemas["RecommendationStrategy"]["enum"])
    # The contract really holds the field to its values: the same response with another strategy fails it.
    forged = requests.get(url, timeout=10)
    body = forged.json()
    body["items"][0]["strategy"] = "best-guess"
    forged._content = json.dumps(body).encode()
    with pytest.raises(Exception) as refused:
        assert_conforms(forged)
    assert "best-guess" in repr(refused.value) + repr(refused.value.__cause__)
