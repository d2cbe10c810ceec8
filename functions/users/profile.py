"""The users function's rules, in plain Python: what a profile and an address are, which
changes are valid, and how both are shown. No I/O here."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from fnkit.credentials import email_problem, normalise_email
from fnkit.errors import FieldError

MAX_ADDRESSES = 20
E164 = r"^\+[1-9][0-9]{6,14}$"

_NAME = {"type": ["string", "null"], "maxLength": 200}
_PHONE = {"type": ["string", "null"], "pattern": E164, "description": "E.164, e.g. +4930123456"}

PROFILE_PATCH_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "name": _NAME,
        "phone": _PHONE,
        "email": {"type": "string", "minLength": 1, "maxLength": 320},
        "current_password": {"type": "string", "minLength": 1, "maxLength": 1024},
    },
}

_ADDRESS_FIELDS = {
    "label": {"type": ["string", "null"], "maxLength": 50},
    "recipient": {"type": "string", "minLength": 1, "maxLength": 200},
    "line1": {"type": "string", "minLength": 1, "maxLength": 200},
    "line2": {"type": ["string", "null"], "maxLength": 200},
    "city": {"type": "string", "minLength": 1, "maxLength": 100},
    "region": {"type": ["string", "null"], "maxLength": 100},
    "postal_code": {"type": "string", "minLength": 1, "maxLength": 20},
    "country": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2"},
    "phone": _PHONE,
    "is_default_shipping": {"type": "boolean"},
}
NEW_ADDRESS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["recipient", "line1", "city", "postal_code", "country"],
    "properties": _ADDRESS_FIELDS,
}
ADDRESS_PATCH_SCHEMA = {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": _ADDRESS_FIELDS}
_REQUIRED_TEXT = ("recipient", "line1", "city", "postal_code")


@dataclass(frozen=True)
class ProfileChange:
    fields: dict  # column -> new value (name, phone)
    new_email: str | None
    current_password: str | None


def profile_change(payload: dict) -> tuple[ProfileChange | None, list[FieldError]]:
    """A validated PATCH /api/users/me body as the change it asks for, or the field errors.
    Changing the email needs the current password (proof that the owner, not a stolen token,
    is asking), since the email is what a password reset would go to."""
    errors, changes = [], {}
    if "name" in payload:
        name = payload["name"].strip() if payload["name"] is not None else None
        if name == "":
            errors.append(FieldError("name", "must not be blank (send null to clear it)"))
        changes["name"] = name
    if "phone" in payload:
        changes["phone"] = payload["phone"]
    new_email = None
    if "email" in payload:
        new_email = normalise_email(payload["email"])
        problem = email_problem(new_email)
        if problem:
            errors.append(FieldError("email", problem))
        if "current_password" not in payload:
            errors.append(FieldError("current_password", "is required to change the email"))
    elif "current_password" in payload:
        errors.append(FieldError("current_password", "is only accepted together with a new email"))
    if errors:
        return None, errors
    return ProfileChange(changes, new_email, payload.get("current_password")), []


def address_changes(payload: dict) -> tuple[dict, list[FieldError]]:
    """Column values of a validated address body (new or patch), text trimmed."""
    values, errors = {}, []
    for name, value in payload.items():
        if isinstance(value, str) and name != "country":
            value = value.strip()
            if value == "":
                if name in _REQUIRED_TEXT:
                    errors.append(FieldError(name, "must not be blank"))
                value = None
        values[name] = value
    return values, errors


@dataclass(frozen=True)
class Address:
    id: str
    label: str | None
    recipient: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
    phone: str | None
    is_default_shipping: bool
    created_at: datetime
    updated_at: datetime

    def to_public(self) -> dict:
        public = {f.name: getattr(self, f.name) for f in fields(self)}
        public["created_at"], public["updated_at"] = self.created_at.isoformat(), self.updated_at.isoformat()
        return public


ADDRESS_COLUMNS = tuple(f.name for f in fields(Address))
