"""The content model (TF-IDF over name, category and description) on small hand-made catalogs, and
beside scikit-learn's NearestNeighbors(metric="cosine") over the same vectors."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest

from recommendations import content
from recommendations.content import Document, similar_content, vectorize

# Ids sort in the order they are listed here, so expected ties read top to bottom.
CATALOG = [
    ("Electric kettle", "kitchen", "1.7 litre stainless steel electric kettle, rapid boil, auto shut-off."),
    ("Gooseneck kettle", "kitchen", "Pour-over kettle with thermometer: stainless steel, boils water for tea."),
    ("Glass teapot", "kitchen", "Teapot with a steel infuser for loose leaf tea. Boil water, brew, pour."),
    ("Cast-iron pan", "kitchen", "Pre-seasoned skillet for searing and baking."),
    ("Chef's knife", "kitchen", "Forged steel blade, 20 cm, for slicing and searing prep."),
    ("Wireless headphones", "audio", "Over-ear noise cancelling bluetooth headphones, 30 hours of battery."),
    ("Studio headphones", "audio", "Closed-back wired headphones for mixing and monitoring."),
    ("Bluetooth speaker", "audio", "Portable waterproof speaker, 12 hours of battery, bluetooth 5.3."),
    ("Trekking tent", "outdoor", ""),
    ("Dome tent", "outdoor", ""),
]
KETTLE, GOOSENECK, TEAPOT, PAN, KNIFE, WIRELESS, STUDIO, SPEAKER, TREKKING, DOME = (
    f"{n:02x}" + "0" * 30 for n in range(1, len(CATALOG) + 1))
IDS = [KETTLE, GOOSENECK, TEAPOT, PAN, KNIFE, WIRELESS, STUDIO, SPEAKER, TREKKING, DOME]


def documents(rows=CATALOG, ids=IDS) -> list[Document]:
    return [Document(product_id, *row) for product_id, row in zip(ids, rows)]


def ids(neighbours) -> list[str]:
    return [n.product_id for n in neighbours]


def test_a_kettles_neighbours_are_kettles_and_teapots_not_headphones():
    model = similar_content(documents(), size=10, min_score=0.1)
    assert ids(model[KETTLE])[:2] == [GOOSENECK, TEAPOT]
    assert set(ids(model[GOOSENECK])[:2]) == {KETTLE, TEAPOT}
    assert not {WIRELESS, STUDIO, SPEAKER, TREKKING, DOME} & set(ids(model[KETTLE]))
    assert ids(model[WIRELESS])[:2] == [STUDIO, SPEAKER] and KETTLE not in ids(model[WIRELESS])
    assert [n.score for n in model[KETTLE]] == sorted((n.score for n in model[KETTLE]), reverse=True)


def test_scores_are_symmetric_in_range_and_never_self():
    model = similar_content(documents(), size=len(IDS), min_score=1e-6)
    scores = {(a, n.product_id): n.score for a, neighbours in model.items() for n in neighbours}
    assert scores and all(scores[(b, a)] == score for (a, b), score in scores.items())
    assert all(a != b for a, b in scores) and all(0 < s <= 1 for s in scores.values())


def test_stop_words_do_not_make_neighbours():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    filler = "The one for you, with all of its very"
    assert set(filler.lower().replace(",", "").split()) <= ENGLISH_STOP_WORDS
    rows = [("Alpha kettle", "kitchen", filler), ("Beta kettle", "kitchen", ""),
            ("Gamma headphones", "audio", filler), ("Delta headphones", "audio", "")]
    model = similar_content(documents(rows), size=10, min_score=1e-6)  # any shared word at all would count
    assert ids(model[KETTLE]) == [GOOSENECK]  # the alpha kettle: the beta kettle, not the gamma headphones
    assert ids(model[TEAPOT]) == [PAN]


def test_empty_descriptions_still_match_by_name_and_category():
    model = similar_content(documents(), size=10, min_score=0.1)
    assert ids(model[TREKKING]) == [DOME] and ids(model[DOME]) == [TREKKING]
    bare = [(name, category, "") for name, category, _ in CATALOG]
    assert ids(similar_content(documents(bare), size=10, min_score=0.1)[KETTLE])[0] == GOOSENECK


def test_texts_sharing_no_word_give_an_empty_model():
    assert similar_content([], size=10, min_score=0.1) == {}
    assert similar_content(documents()[:1], size=10, min_score=0.1) == {}
    assert vectorize(documents([("", "", ""), ("", "", "")])) is None
    assert vectorize(documents([("the", "a", "with"), ("and", "for", "of")])) is None  # only stop words
    assert similar_content(documents([("Kettle", "kitchen", ""), ("Tent", "outdoor", "")]), 10, 1e-6) == {}


def test_a_word_in_one_product_only_changes_nothing():
    # A typo or a model number links a product to nothing; min_df=2 keeps it from diluting its vector.
    typo = [(name, category, description + (" ketle xk-2000" if name == "Electric kettle" else ""))
            for name, category, description in CATALOG]
    assert similar_content(documents(typo), 10, 0.1) == similar_content(documents(), 10, 0.1)


def test_a_word_in_most_of_a_large_catalog_makes_no_neighbours():
    # 120 products, all "new", in pairs sharing a second word: only the pair mates are alike.
    words = [f"thing{chr(97 + k // 26)}{chr(97 + k % 26)}" for k in range(60)]
    rows = [(f"New {words[i // 2]}", "shop", "") for i in range(120)]
    product_ids = [f"{i:032x}" for i in range(120)]
    model = similar_content(documents(rows, product_ids), size=10, min_score=1e-6)
    assert all(ids(model[product_ids[i]]) == [product_ids[i ^ 1]] for i in range(120))


def test_ties_break_by_product_id_whatever_the_input_order():
    rows = [("Kettle", "kitchen", "steel")] * 4 + [("Kettle", "kitchen", "")]
    product_ids = [f"{n:032x}" for n in (5, 3, 9, 1, 7)]
    expected = similar_content(documents(rows, product_ids), size=10, min_score=0.1)
    # Four equal texts: each one's three twins score 1 and come in id order, the fifth after them.
    assert ids(expected[f"{5:032x}"]) == [f"{n:032x}" for n in (1, 3, 9, 7)]
    for seed in range(5):
        shuffled = documents(rows, product_ids)
        random.Random(seed).shuffle(shuffled)
        assert similar_content(shuffled, size=10, min_score=0.1) == expected


def test_size_and_min_score_bound_the_lists():
    full = similar_content(documents(), size=10, min_score=0.1)
    assert all(n.score >= 0.1 for neighbours in full.values() for n in neighbours)
    assert similar_content(documents(), size=1, min_score=0.1)[KETTLE] == full[KETTLE][:1]
    assert similar_content(documents(), size=0, min_score=0.1) == {}
    strict = similar_content(documents(), size=10, min_score=0.5)
    assert all(n.score >= 0.5 for neighbours in strict.values() for n in neighbours)
    with pytest.raises(ValueError):
        similar_content(documents(), size=10, min_score=0)


def test_blocks_of_one_row_give_the_same_model(monkeypatch):
    expected = similar_content(documents(), size=3, min_score=0.05)
    monkeypatch.setattr(content, "_BLOCK_SCORES", 1)
    assert similar_content(documents(), size=3, min_score=0.05) == expected


def test_neighbours_equal_scikit_learns_nearest_neighbours_by_cosine():
    from sklearn.neighbors import NearestNeighbors

    rng = random.Random(3)
    vocabulary = [f"w{n}" for n in range(60)]
    rows = [(" ".join(rng.sample(vocabulary, 2)), f"c{rng.randrange(4)}", " ".join(rng.choices(vocabulary, k=6)))
            for _ in range(80)]
    docs = documents(rows, [f"{n:032x}" for n in range(80)])
    vectors = vectorize(docs)
    model = content.nearest(vectors, size=5, min_score=0.05)

    # Every other product, by cosine distance (1 - similarity); kneighbors() leaves each one out itself.
    distances, columns = NearestNeighbors(n_neighbors=79, metric="cosine").fit(vectors.matrix).kneighbors()
    for row, product_id in enumerate(vectors.ids):
        ranked = sorted((-round((1 - d) * 1e6), vectors.ids[c]) for d, c in zip(distances[row], columns[row]))
        expected = [(other, -steps / 1e6) for steps, other in ranked if -steps >= 0.05e6][:5]
        got = [(n.product_id, n.score) for n in model.get(product_id, ())]
        assert [p for p, _ in got] == [p for p, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-6)
    assert len(model) == sum(1 for row in range(80) if round((1 - distances[row][0]) * 1e6) >= 0.05e6)


def test_the_read_path_never_imports_scikit_learn():
    code = ("import sys; import recommendations.main, recommendations.content, recommendations.serving; "
            "before = sorted(m for m in ('numpy', 'scipy', 'sklearn') if m in sys.modules); "
            "from recommendations.content import Document, vectorize; "
            "vectorize([Document('a', 'Kettle', 'k', ''), Document('b', 'Kettle', 'k', '')]); "
            "print(before, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": ":".join(sys.path)}).stdout
    assert out.strip() == "[] True"  # nothing heavy until a training vectorizes
