"""The item-to-item model on small hand-made co-purchase counts, and beside scikit-learn's cosine
over the (order x product) matrix those counts come from."""
from __future__ import annotations

import random
import subprocess
import sys
from itertools import combinations

import pytest

from recommendations.model import Neighbour, similar_products
from recommendations.pairs import products_of

KETTLE, MUG, TEA, TOWEL, SPOON = (f"{n:02x}" + "0" * 30 for n in range(1, 6))


def counts(orders: list[list[str]]) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """The two tables the order.paid consumer keeps, from whole orders (each pair once here)."""
    purchases: dict[str, int] = {}
    together: dict[tuple[str, str], int] = {}
    for order in orders:
        products = products_of([{"product_id": p} for p in order])
        for product in products:
            purchases[product] = purchases.get(product, 0) + 1
        for pair in combinations(products, 2):
            together[pair] = together.get(pair, 0) + 1
    return purchases, [(a, b, n) for (a, b), n in together.items()]


def ids(neighbours) -> list[str]:
    return [n.product_id for n in neighbours]


def test_products_bought_together_rank_first():
    purchases, pairs = counts([[KETTLE, MUG]] * 5 + [[KETTLE, TEA]] + [[TEA, TOWEL]] * 3 + [[TOWEL]] * 10)
    model = similar_products(purchases, pairs, size=10)
    assert ids(model[KETTLE]) == [MUG, TEA]
    assert model[KETTLE][0].score == pytest.approx(5 / (6 * 5) ** 0.5)
    assert model[KETTLE][1].score == pytest.approx(1 / (6 * 4) ** 0.5)
    assert ids(model[TEA]) == [TOWEL, KETTLE]
    assert TOWEL not in ids(model[KETTLE])  # never in the same order


def test_a_best_seller_does_not_top_every_list():
    # The towel is in every order; the spoon only ever comes with the kettle.
    purchases, pairs = counts([[KETTLE, TOWEL]] * 4 + [[KETTLE, SPOON, TOWEL]] * 3 + [[MUG, TOWEL]] * 40)
    assert ids(similar_products(purchases, pairs, size=10)[KETTLE]) == [SPOON, TOWEL]


def test_scores_are_symmetric_and_self_is_excluded():
    purchases, pairs = counts([[KETTLE, MUG, TEA], [KETTLE, MUG], [MUG, TEA, TOWEL], [TOWEL, KETTLE], [SPOON]])
    model = similar_products(purchases, pairs, size=10)
    scores = {(a, n.product_id): n.score for a, neighbours in model.items() for n in neighbours}
    assert scores and all(scores[(b, a)] == score for (a, b), score in scores.items())
    assert all(a != b for a, b in scores) and all(0 < s <= 1 for s in scores.values())
    assert SPOON not in model  # bought alone: no co-purchase data


def test_ties_break_by_product_id_whatever_the_input_order():
    purchases, pairs = counts([[KETTLE, TOWEL], [KETTLE, MUG], [KETTLE, TEA], [MUG], [TEA], [TOWEL]])
    expected = [MUG, TEA, TOWEL]  # equal scores, ids ascending
    for seed in range(5):
        shuffled = pairs[:]
        random.Random(seed).shuffle(shuffled)
        flipped = [(b, a, n) for a, b, n in shuffled]  # either way round
        assert ids(similar_products(purchases, shuffled, size=10)[KETTLE]) == expected
        assert ids(similar_products(purchases, flipped, size=10)[KETTLE]) == expected


def test_equal_scores_from_different_counts_tie_exactly():
    # 1/sqrt(2*8) and 2/sqrt(4*16) are both 0.25.
    purchases = {KETTLE: 2, MUG: 8, TEA: 4, TOWEL: 16}
    model = similar_products(purchases, [(KETTLE, MUG, 1), (TEA, TOWEL, 2), (KETTLE, TOWEL, 1)], size=10)
    assert model[MUG] == (Neighbour(KETTLE, 0.25),) and model[TEA] == (Neighbour(TOWEL, 0.25),)


def test_only_the_top_n_are_kept():
    purchases, pairs = counts([[KETTLE, MUG]] * 3 + [[KETTLE, TEA]] * 2 + [[KETTLE, TOWEL]])
    assert ids(similar_products(purchases, pairs, size=2)[KETTLE]) == [MUG, TEA]
    assert similar_products(purchases, pairs, size=0) == {}


def test_empty_data_gives_an_empty_model():
    assert similar_products({}, [], size=10) == {}
    assert similar_products({KETTLE: 3}, [], size=10) == {}
    assert similar_products({KETTLE: 3}, [(KETTLE, KETTLE, 3)], size=10) == {}  # self pairs never count


def test_a_count_lagging_its_pairs_never_scores_above_one():
    model = similar_products({KETTLE: 1}, [(KETTLE, MUG, 3)], size=10)  # MUG has no purchases row
    assert model[KETTLE] == (Neighbour(MUG, 1.0),) and model[MUG] == (Neighbour(KETTLE, 1.0),)


def test_scores_equal_scikit_learns_cosine_over_the_order_matrix():
    import numpy as np
    from scipy import sparse
    from sklearn.metrics.pairwise import cosine_similarity

    rng = random.Random(7)
    catalog = [f"{n:032x}" for n in range(40)]
    orders = [rng.sample(catalog, rng.randint(1, 5)) for _ in range(300)]
    purchases, pairs = counts(orders)
    model = similar_products(purchases, pairs, size=len(catalog))

    column = {p: i for i, p in enumerate(catalog)}
    x = sparse.lil_matrix((len(orders), len(catalog)))
    for o, order in enumerate(orders):
        for product in order:
            x[o, column[product]] = 1
    reference = cosine_similarity(x.T.tocsr())
    np.fill_diagonal(reference, 0)
    for product in catalog:
        expected = sorted(((-round(s, 12), catalog[j]) for j, s in enumerate(reference[column[product]]) if s > 0))
        got = model.get(product, ())
        assert ids(got) == [p for _, p in expected]
        assert [n.score for n in got] == pytest.approx([-s for s, _ in expected], abs=1e-12)


def test_importing_the_model_loads_neither_numpy_nor_scipy():
    code = ("import sys; import recommendations.model, recommendations.main; "
            "print(sorted(m for m in ('numpy', 'scipy', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": ":".join(sys.path)}).stdout
    assert out.strip() == "[]"
