"""Typed query-string parameters; a bad value is a 400 naming the parameter."""
from __future__ import annotations

from .errors import FieldError, invalid


def query_str(request, name: str, max_length: int, default: str | None = None) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if len(value) > max_length:
        raise invalid([FieldError(name, f"must be at most {max_length} characters")])
    return value


def query_int(request, name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid([FieldError(name, "must be an integer")]) from None
    if not minimum <= value <= maximum:
        raise invalid([FieldError(name, f"must be between {minimum} and {maximum}")])
    return value


def query_bool(request, name: str, default: bool) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in ("true", "false", "1", "0"):
        raise invalid([FieldError(name, "must be true or false")])
    return raw.lower() in ("true", "1")
