"""Card payment methods, in plain Python: the request schema, Luhn and expiry checks, and the
masked form that is stored and shown (never the full number or the CVC). No I/O here."""
from __future__ import annotations

from datetime import date

from fnkit.errors import FieldError

CARD_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "card_number", "exp_month", "exp_year", "cvc"],
    "properties": {
        "type": {"const": "card"},
        "card_number": {"type": "string", "pattern": "^[0-9]{12,19}$"},
        "exp_month": {"type": "integer", "minimum": 1, "maximum": 12},
        "exp_year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "cvc": {"type": "string", "pattern": "^[0-9]{3,4}$"},
        "holder_name": {"type": "string", "minLength": 1, "maxLength": 100},
    },
}
PAY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["order_id", "payment_method"],
    "properties": {"order_id": {"type": "string", "format": "uuid"}, "payment_method": CARD_SCHEMA},
}


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    return "unknown"


def card_errors(card: dict, today: date) -> list[FieldError]:
    """What a schema cannot say: a mistyped number, an expired card."""
    errors = []
    if not luhn_valid(card["card_number"]):
        errors.append(FieldError("payment_method.card_number", "is not a valid card number (Luhn check)"))
    if (card["exp_year"], card["exp_month"]) < (today.year, today.month):
        errors.append(FieldError("payment_method.exp_year", "the card has expired"))
    return errors


def masked(card: dict) -> dict:
    return {"type": "card", "brand": brand(card["card_number"]), "last4": card["card_number"][-4:],
            "exp_month": card["exp_month"], "exp_year": card["exp_year"]}
