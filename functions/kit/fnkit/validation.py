"""Validate request bodies and query strings against JSON Schemas, reporting every bad field."""
from __future__ import annotations

from .errors import FieldError, invalid


_VALIDATORS: dict[int, object] = {}


def _validator(schema: dict):
    """One compiled validator per schema; schemas are module constants, so their id is stable."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        from jsonschema import Draft202012Validator, FormatChecker  # heavy: only when first used

        Draft202012Validator.check_schema(schema)
        validator = _VALIDATORS[id(schema)] = Draft202012Validator(schema, format_checker=FormatChecker())
    return validator


def field_errors(schema: dict, payload: object) -> list[FieldError]:
    validator = _validator(schema)
    errors = []
    for error in sorted(validator.iter_errors(payload), key=lambda e: list(map(str, e.absolute_path))):
        path = [str(part) for part in error.absolute_path]
        if error.validator == "required":
            missing = error.message.split("'")[1]
            path.append(missing)
            message = "is required"
        elif error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            path.append(extra[0] if extra else "")
            message = "is not an allowed field"
        else:
            message = error.message
        errors.append(FieldError(".".join(path) or "(body)", message))
    return errors


def validate(schema: dict, payload: object) -> dict:
    """Return the payload when it matches the schema; otherwise raise a 400 naming each field."""
    errors = field_errors(schema, payload)
    if errors:
        raise invalid(errors)
    return payload  # type: ignore[return-value]
