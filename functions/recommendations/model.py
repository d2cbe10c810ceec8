"""The co-purchase model: for every product, the products most often bought with it, from the
co-purchase counts alone (content.py covers the products nobody bought with others yet). Plain
Python with numpy/scipy, which are imported when a model is built, not when this module is: the
read function imports it too and must start fast. No I/O.

A pair's score is the cosine similarity of the two products' columns in the (paid order x
product) purchase matrix X, where X[o, p] = 1 when order o holds product p:

    score(a, b) = orders holding a and b / sqrt(orders holding a * orders holding b)

The dot product of two columns of X is their co-purchase count and a column's squared norm is
its product's count of paid orders, so the two tables the order.paid consumer keeps are all
cosine needs: the model never sees an order, and X (which nobody stores) is never rebuilt. The
numbers are exactly what `sklearn.metrics.pairwise.cosine_similarity(X.T)` returns
(tests/unit/test_recommendations_similarity.py checks that on random orders). Dividing by both
popularities keeps a best-seller found in every basket from topping every list, which raw
counts (the SQL baseline in dev/bench/recommendations.py) do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

# Scores are rounded before ranking so that mathematically equal scores reached through
# different float operations (1/sqrt(2*8) vs 2/sqrt(4*16)) tie exactly and fall to the id order.
_SCORE_DIGITS = 12


@dataclass(frozen=True, slots=True)  # slots: a 20,000-product model holds a million of them
class Neighbour:
    product_id: str
    score: float


def similar_products(purchases: Mapping[str, int], pairs: Iterable[tuple[str, str, int]],
                     size: int) -> dict[str, tuple[Neighbour, ...]]:
    """Up to `size` neighbours per product, best score first, equal scores by product id.

    `purchases`: paid orders per product. `pairs`: (a, b, paid orders holding both), each
    unordered pair once (either way round). Scores are symmetric and in (0, 1]; a product is
    never its own neighbour, and products without a co-purchase are absent (the reader then
    falls back to popular products of the category).
    """
    pairs = [(a, b, n) if a < b else (b, a, n) for a, b, n in pairs if a != b and n > 0]
    if not pairs or size <= 0:
        return {}
    import numpy as np
    from scipy import sparse

    # Sorted ids: a column index then orders like its id, so the lexsort below breaks ties by id.
    ids = sorted({a for a, _, _ in pairs} | {b for _, b, _ in pairs})
    index = {product_id: i for i, product_id in enumerate(ids)}
    rows = np.fromiter((index[a] for a, _, _ in pairs), dtype=np.int64, count=len(pairs))
    cols = np.fromiter((index[b] for _, b, _ in pairs), dtype=np.int64, count=len(pairs))
    counts = np.fromiter((n for _, _, n in pairs), dtype=np.float64, count=len(pairs))
    upper = sparse.coo_matrix((counts, (rows, cols)), shape=(len(ids), len(ids)))
    together = (upper + upper.T).tocsr()  # both directions; a pair given twice is summed

    # A product's orders are at least its largest co-purchase count; taking the larger keeps a
    # score <= 1 even if a count lags the other (they are written in one transaction).
    bought = np.fromiter((purchases.get(product_id, 0) for product_id in ids), dtype=np.float64, count=len(ids))
    bought = np.maximum(bought, together.max(axis=1).toarray().ravel())
    pairs_of = together.tocoo()
    row, col = pairs_of.row, pairs_of.col
    # n_a * n_b is the same float either way round, so score(a, b) == score(b, a) exactly.
    score = np.round(pairs_of.data / np.sqrt(bought[row] * bought[col]), _SCORE_DIGITS)
    order = np.lexsort((col, -score, row))  # by product, then best score, then neighbour id
    row, col, score = row[order], col[order], score[order]
    starts = np.searchsorted(row, row, side="left")  # where each product's run begins
    keep = (np.arange(len(row)) - starts) < size
    model: dict[str, list[Neighbour]] = {}
    for r, c, s in zip(row[keep].tolist(), col[keep].tolist(), score[keep].tolist()):
        model.setdefault(ids[r], []).append(Neighbour(ids[c], s))
    return {product_id: tuple(neighbours) for product_id, neighbours in model.items()}
