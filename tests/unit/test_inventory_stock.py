"""Stock rules without a database: shortages, level moves, low-stock crossings."""
from __future__ import annotations

import pytest

from inventory.stock import Level, Line, became_low, committed, lines_of, released, reserved, shortages

A, B = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"


def test_lines_are_sorted_by_product_and_repeats_refused():
    assert lines_of([{"product_id": B, "quantity": 1}, {"product_id": A.upper(), "quantity": 2}]) == (
        Line(A, 2), Line(B, 1))
    with pytest.raises(ValueError):
        lines_of([{"product_id": A, "quantity": 1}, {"product_id": A, "quantity": 2}])


def test_shortages_name_each_uncovered_line_and_missing_stock_counts_as_zero():
    levels = {A: Level(A, 3, 0)}
    assert shortages((Line(A, 3),), levels) == []
    short = shortages((Line(A, 4), Line(B, 1)), levels)
    assert [s.to_public() for s in short] == [{"product_id": A, "requested": 4, "available": 3},
                                              {"product_id": B, "requested": 1, "available": 0}]


def test_reserve_release_commit_move_units_and_never_go_negative():
    level = Level(A, 5, 1)
    held = reserved(level, 5)
    assert held == Level(A, 0, 6)
    with pytest.raises(ValueError):
        reserved(held, 1)
    assert released(held, 5) == level
    assert committed(held, 5) == Level(A, 0, 1)
    assert committed(Level(A, 0, 0), 3).reserved == 0


def test_low_is_reported_once_when_crossing_downwards():
    assert became_low(Level(A, 6, 0), Level(A, 5, 1), 5)
    assert not became_low(Level(A, 5, 1), Level(A, 4, 2), 5)
    assert not became_low(Level(A, 3, 0), Level(A, 9, 0), 5)
