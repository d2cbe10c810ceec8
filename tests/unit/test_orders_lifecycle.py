"""The order state machine: every legal transition, and every other pair refused."""
from __future__ import annotations

import itertools

import pytest

from orders.lifecycle import IllegalTransition, Status, can_move, is_final, move

LEGAL = {(Status.PENDING, Status.PAID), (Status.PENDING, Status.CANCELLED),
         (Status.PAID, Status.FULFILLED), (Status.PAID, Status.REFUNDED)}


@pytest.mark.parametrize("current, target", sorted(LEGAL))
def test_legal_transitions(current, target):
    assert move(current, target) is target
    assert move(current.value, target.value) is target  # strings from the database work too
    assert can_move(current, target)


@pytest.mark.parametrize("current, target", [pair for pair in itertools.product(Status, Status) if pair not in LEGAL])
def test_every_other_transition_is_illegal(current, target):
    assert not can_move(current, target)
    with pytest.raises(IllegalTransition) as caught:
        move(current, target)
    assert caught.value.current is current and caught.value.target is target
    assert current.value in str(caught.value) and target.value in str(caught.value)


def test_final_states():
    assert {s for s in Status if is_final(s)} == {Status.FULFILLED, Status.CANCELLED, Status.REFUNDED}


def test_unknown_status_is_rejected():
    with pytest.raises(ValueError):
        move("shipped", "paid")
