"""The order state machine, in plain Python.

    pending ──▶ paid ──▶ fulfilled
       │          └────▶ refunded
       └──▶ cancelled

Anything else is an IllegalTransition (a 409 at the API). Staying in the same state is not a
transition; idempotent operations check for it before asking.
"""
from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.PAID, Status.CANCELLED}),
    Status.PAID: frozenset({Status.FULFILLED, Status.REFUNDED}),
    Status.FULFILLED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.REFUNDED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, current: Status, target: Status):
        super().__init__(f"an order that is {current.value} cannot become {target.value}")
        self.current, self.target = current, target


def can_move(current: Status | str, target: Status | str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def move(current: Status | str, target: Status | str) -> Status:
    """The new status, or IllegalTransition."""
    current, target = Status(current), Status(target)
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)
    return target


def is_final(status: Status | str) -> bool:
    return not TRANSITIONS[Status(status)]
