"""Identifiers: every entity id in fnshop is a UUID, written in its canonical lowercase form."""
from __future__ import annotations

import uuid

from .errors import FieldError, invalid


def is_uuid(value: object) -> bool:
    """True for the canonical text of a UUID, in either case (`8d9c…-…`), and nothing looser."""
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def uuid_param(name: str, value: str) -> str:
    """A path or query id: its canonical form, or a 400 naming the parameter."""
    if not is_uuid(value):
        raise invalid([FieldError(name, "must be a UUID")])
    return value.lower()
