"""The content model, for the cold start: for every live product, the products whose text (name,
category, description) reads most alike, whatever anyone bought. A new product, or one nobody
bought with others, then still gets products like it instead of its category's best-sellers.

Training only, and no I/O: scikit-learn, scipy and numpy are imported when a model is built, not
when this module is (main.py imports it through training.py, and the read must start fast).

Each product's text becomes a TF-IDF vector, L2-normalised, so the dot product of two vectors is
their cosine similarity. The neighbours are found by multiplying blocks of rows with the whole
sparse matrix, which is what `linear_kernel(block, X, dense_output=False)` does, minus the input
checks and the transposition it repeats per block. Measured on 20,000 synthetic products, two
cores (dev/bench/recommendations.py): 1.5 s for the search with the same top-N, 2.0 s through
`linear_kernel`, 12.6 to 14 s and 2.6 GB of peak memory for `NearestNeighbors(metric="cosine")`,
whose brute force keeps every distance of a chunk dense; at 2,000 products all take under 50 ms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .model import Neighbour

# Scores are kept in millionths: equal similarities reached through different float sums then
# tie exactly (and fall to the id order), and one int64 key sorts a block (see _top).
_STEPS = 1_000_000
# Most (product, product) scores one block holds before they are cut: bounds memory whatever the
# catalog (12 bytes a score: 24 MB) while blocks stay large enough that their count costs nothing.
_BLOCK_SCORES = 2_000_000
# A word in more than half of a large catalog says nothing about which products are alike, and
# it makes every pair share a score (a dense product: 3.4 times slower at 20,000 products). The
# floor keeps small catalogs (a new shop, the tests) from losing their few words.
_MAX_DF_SHARE, _MAX_DF_FLOOR = 0.5, 50


@dataclass(frozen=True)
class Document:
    product_id: str
    name: str
    category: str
    description: str

    def text(self) -> str:
        return f"{self.name}\n{self.category}\n{self.description}"


@dataclass(frozen=True)
class Vectors:
    """Products sorted by id (a row index then orders like its id) and their TF-IDF rows."""
    ids: list[str]
    matrix: object  # scipy.sparse.csr_matrix, L2-normalised rows; all-zero for a text of no kept word
    terms: int


def vectorize(documents: Iterable[Document]) -> Vectors | None:
    """TF-IDF of every document; None when no word is shared by two products (no neighbours)."""
    documents = sorted(documents, key=lambda d: d.product_id)
    if len(documents) < 2:
        return None
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        strip_accents="unicode",  # "Café" and "cafe" are one word
        stop_words="english",  # "the", "with", "for" would make every product a neighbour
        ngram_range=(1, 2),  # "sleeping bag" is closer to another sleeping bag than to a tea bag
        min_df=2,  # a word in one product links it to nothing and only dilutes its vector (typos, SKUs)
        max_df=max(_MAX_DF_FLOOR, int(len(documents) * _MAX_DF_SHARE)),
        sublinear_tf=True,  # "kettle" three times in a description is not three times the kettle
    )
    try:
        matrix = vectorizer.fit_transform([d.text() for d in documents]).tocsr()
    except ValueError:  # "empty vocabulary": only stop words and words of a single product
        return None
    return Vectors([d.product_id for d in documents], matrix, matrix.shape[1])


def nearest(vectors: Vectors | None, size: int, min_score: float) -> dict[str, tuple[Neighbour, ...]]:
    """Up to `size` neighbours per product with a cosine of at least `min_score`, best first,
    equal scores by product id. Symmetric scores in (0, 1]; never the product itself; products
    with nothing close enough are absent."""
    if not 0 < min_score <= 1:
        raise ValueError("min_score must be in (0, 1]")
    if vectors is None or size <= 0:
        return {}
    ids, matrix = vectors.ids, vectors.matrix
    if len(ids) >= 1 << 25:
        raise ValueError("too many products for the sort key of _top")
    transposed = matrix.T.tocsr()  # once, not per block
    floor = max(1, round(min_score * _STEPS))
    rows = min(1 << 16, max(1, _BLOCK_SCORES // len(ids)))  # the sort key of _top holds 17 bits of row
    import numpy as np

    names = np.array(ids, dtype=object)  # ids of many columns in one step, not one by one
    model: dict[str, tuple[Neighbour, ...]] = {}
    for start in range(0, len(ids), rows):
        block = matrix[start:start + rows] @ transposed
        for row, cols, scores in _top(block, start, size, floor):
            model[ids[row]] = tuple(map(Neighbour, names[cols].tolist(), scores))
    return model


def similar_content(documents: Iterable[Document], size: int, min_score: float) -> dict[str, tuple[Neighbour, ...]]:
    return nearest(vectorize(documents), size, min_score)


def _top(block, start: int, size: int, floor: int):
    """(row, columns, scores) of the rows of one block that have a neighbour, best first."""
    import numpy as np

    hit = np.flatnonzero(block.data >= (floor - 1) / _STEPS)  # cheap first cut, exact below
    steps = np.minimum(np.rint(block.data[hit] * _STEPS).astype(np.int64), _STEPS)  # <= 1 despite float error
    rows = np.searchsorted(block.indptr, hit, side="right") - 1
    cols = block.indices[hit].astype(np.int64)
    keep = (steps >= floor) & (rows + start != cols)
    # One int64 key sorts by row, then best score, then column (= id order): 17 bits of row in
    # the block, 21 of (1 - score), 25 of column. Sorting keys alone is 7 times faster than a lexsort.
    key = np.sort((rows[keep] << 46) | ((_STEPS - steps[keep]) << 25) | cols[keep])
    rows, steps, cols = key >> 46, _STEPS - ((key >> 25) & 0x1FFFFF), key & 0x1FFFFFF
    firsts = np.searchsorted(rows, rows, side="left")  # where each row's run begins
    keep = (np.arange(len(rows)) - firsts) < size
    rows, cols, scores = rows[keep], cols[keep], (steps[keep] / _STEPS).tolist()
    if not scores:
        return
    bounds = [0, *(np.flatnonzero(np.diff(rows)) + 1).tolist(), len(rows)]
    for begin, end in zip(bounds, bounds[1:]):
        yield int(rows[begin]) + start, cols[begin:end], scores[begin:end]
